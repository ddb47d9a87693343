package io.duet.iscsi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * iSCSI PDU decode through {@link PduReader} and {@link Bhs} (package-private, hence this package):
 * a READ(10) SCSI Command PDU (header only), and a WRITE(10) SCSI Command PDU carrying 4 KiB of
 * immediate data read into its final buffer; with and without CRC32C header and data digests. The
 * stream comes from memory in 64 KiB reads.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PduReadBenchmark {
  private static final int IMMEDIATE_BYTES = 4096;
  private static final int MAX_RECV_BYTES = 256 * 1024;
  private static final int READ_CHUNK_BYTES = 64 * 1024;

  /** PDUs per stream cycle, so consecutive PDUs differ in ITT and CmdSN as on a real wire. */
  private static final int PDUS_PER_CYCLE = 64;

  @Param({"false", "true"})
  boolean digests;

  private final Bhs bhs = new Bhs();
  private PduReader readCommands;
  private PduReader writeCommands;
  private final ByteBuffer immediate = ByteBuffer.allocateDirect(IMMEDIATE_BYTES);

  /** Builds one stream of READ commands and one of WRITE commands with immediate data. */
  @Setup
  public void setup() {
    byte[] data = new byte[IMMEDIATE_BYTES];
    new SplittableRandom(0x1d5c).nextBytes(data);
    readCommands = reader(stream(0x28, new byte[0]));
    writeCommands = reader(stream(0x2a, data));
  }

  private PduReader reader(byte[] stream) {
    PduReader r = new PduReader(new LoopChannel(stream, READ_CHUNK_BYTES), MAX_RECV_BYTES);
    r.configure(digests, digests, MAX_RECV_BYTES);
    return r;
  }

  /** Header of a READ(10) command, decoded to the fields the command path looks at first. */
  @Benchmark
  public void readCommand(Blackhole bh) throws IOException, PduException {
    readCommands.readHeader(bhs);
    readCommands.readData(immediate.clear().limit(0));
    decodeFields(bh);
  }

  /** Header plus 4 KiB immediate data of a WRITE(10) command, data into its final buffer. */
  @Benchmark
  public void writeCommandWithData(Blackhole bh) throws IOException, PduException {
    writeCommands.readHeader(bhs);
    writeCommands.readData(immediate.clear());
    decodeFields(bh);
    bh.consume(immediate);
  }

  private void decodeFields(Blackhole bh) {
    bh.consume(bhs.opcode());
    bh.consume(bhs.flags());
    bh.consume(bhs.itt());
    bh.consume(bhs.i32(20)); // expected data transfer length
    bh.consume(bhs.sn24());
    bh.consume(bhs.sn28());
    bh.consume(bhs.u8(32)); // CDB opcode
  }

  /** PDUS_PER_CYCLE SCSI Command PDUs with a 10-byte CDB and {@code data} as immediate data. */
  private byte[] stream(int cdbOpcode, byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CRC32C crc = new CRC32C();
    Bhs h = new Bhs();
    int blocks = 8;
    for (int i = 0; i < PDUS_PER_CYCLE; i++) {
      h.clear();
      h.u8(0, Bhs.SCSI_COMMAND);
      h.u8(1, 0x80 | (cdbOpcode == 0x28 ? 0x40 : 0x20) | 0x01); // F, R or W, SIMPLE
      h.dataSegmentLength(data.length);
      h.u8(9, 0); // LUN 0
      h.i32(16, i + 1); // ITT
      h.i32(20, blocks * 512);
      h.i32(24, i + 1); // CmdSN
      h.i32(28, i + 1); // ExpStatSN
      h.u8(32, cdbOpcode);
      h.i32(34, i * blocks); // LBA
      h.u16(39, blocks);
      out.writeBytes(h.bytes);
      if (digests) {
        crc.reset();
        crc.update(h.bytes);
        writeDigest(out, crc);
      }
      if (data.length > 0) {
        out.writeBytes(data);
        int pad = (4 - (data.length & 3)) & 3;
        out.writeBytes(new byte[pad]);
        if (digests) {
          crc.reset();
          crc.update(data);
          crc.update(new byte[pad]);
          writeDigest(out, crc);
        }
      }
    }
    return out.toByteArray();
  }

  /** Digests travel least significant byte first (RFC 7143 13.1). */
  private static void writeDigest(ByteArrayOutputStream out, CRC32C crc) {
    int v = (int) crc.getValue();
    out.write(v);
    out.write(v >>> 8);
    out.write(v >>> 16);
    out.write(v >>> 24);
  }
}
