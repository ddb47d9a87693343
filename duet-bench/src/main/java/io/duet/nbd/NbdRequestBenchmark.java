package io.duet.nbd;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * NBD transmission-phase request decode ({@link Request}, package-private, hence this package): the
 * 28-byte header alone, and header plus a 4 KiB WRITE payload read the way the connection's reader
 * does (DataInputStream over the socket stream, here an endless in-memory stream).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NbdRequestBenchmark {
  private static final int PAYLOAD_BYTES = 4096;
  private static final int REQUESTS = 64;
  private static final long VOLUME_BYTES = 1L << 30;

  private final byte[][] readHeaders = new byte[REQUESTS][];
  private int next;
  private DataInputStream writes;
  private final byte[] header = new byte[Nbd.REQUEST_HEADER_BYTES];

  /** Builds READ headers at random 4 KiB offsets and a stream of WRITE requests with payload. */
  @Setup
  public void setup() {
    SplittableRandom random = new SplittableRandom(0x4ebdL);
    ByteBuffer stream = ByteBuffer.allocate(REQUESTS * (Nbd.REQUEST_HEADER_BYTES + PAYLOAD_BYTES));
    byte[] payload = new byte[PAYLOAD_BYTES];
    random.nextBytes(payload);
    for (int i = 0; i < REQUESTS; i++) {
      long offset = random.nextLong(VOLUME_BYTES / PAYLOAD_BYTES) * PAYLOAD_BYTES;
      readHeaders[i] = header(Nbd.CMD_READ, i, offset).array();
      stream.put(header(Nbd.CMD_WRITE, i, offset).flip()).put(payload);
    }
    writes = new DataInputStream(new LoopStream(stream.array()));
  }

  private static ByteBuffer header(int type, long cookie, long offset) {
    return ByteBuffer.allocate(Nbd.REQUEST_HEADER_BYTES)
        .putInt(Nbd.REQUEST_MAGIC)
        .putShort((short) 0)
        .putShort((short) type)
        .putLong(cookie)
        .putLong(offset)
        .putInt(PAYLOAD_BYTES);
  }

  /** Decodes one READ header and range-checks it against a 1 GiB export. */
  @Benchmark
  public boolean decodeReadHeader() throws MalformedException {
    Request r = Request.decode(ByteBuffer.wrap(readHeaders[next]));
    next = (next + 1) & (REQUESTS - 1);
    return r.within(VOLUME_BYTES);
  }

  /** Reads a WRITE header and its 4 KiB payload off the stream, as the connection reader does. */
  @Benchmark
  public ByteBuffer readWriteRequest() throws IOException, MalformedException {
    writes.readFully(header);
    Request r = Request.decode(ByteBuffer.wrap(header));
    if (r.type() != Nbd.CMD_WRITE || !r.within(VOLUME_BYTES)) {
      throw new IllegalStateException("stream out of step");
    }
    byte[] data = new byte[(int) r.length()];
    writes.readFully(data);
    return ByteBuffer.wrap(data);
  }

  /** The same bytes forever, at most 64 KiB per read like a socket's receive buffer. */
  private static final class LoopStream extends InputStream {
    private final byte[] bytes;
    private int position;

    LoopStream(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int read() {
      int b = bytes[position] & 0xff;
      position = (position + 1) % bytes.length;
      return b;
    }

    @Override
    public int read(byte[] dst, int off, int len) {
      int n = Math.min(Math.min(len, 64 * 1024), bytes.length - position);
      System.arraycopy(bytes, position, dst, off, n);
      position = (position + n) % bytes.length;
      return n;
    }
  }
}
