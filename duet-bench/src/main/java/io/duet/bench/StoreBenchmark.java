package io.duet.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code LocalVolume} read and write (no FUA) of 4 KiB and 64 KiB at random aligned offsets of a
 * cached, fully allocated 256 MiB volume: the cost of the store layer above the page cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StoreBenchmark {
  @Param({"4096", "65536"})
  int ioBytes;

  private BenchVolume volume;
  private ByteBuffer readBuffer;
  private ByteBuffer writeBuffer;

  /** Creates and fills the volume (a few seconds, outside the measurement). */
  @Setup
  public void setup() throws IOException {
    volume = new BenchVolume(4096, ioBytes);
    readBuffer = ByteBuffer.allocateDirect(ioBytes);
    byte[] data = new byte[ioBytes];
    new SplittableRandom(Seeds.DATA + 1).nextBytes(data);
    writeBuffer = ByteBuffer.allocateDirect(ioBytes).put(data).flip();
  }

  /** Removes the volume's directory. */
  @TearDown
  public void tearDown() throws IOException {
    volume.close();
  }

  /** One read into a direct buffer. */
  @Benchmark
  public ByteBuffer read() throws IOException {
    readBuffer.clear();
    volume.volume().read(volume.nextOffset(), readBuffer);
    return readBuffer;
  }

  /** One buffered write (durable only at the next flush, as a host write without FUA). */
  @Benchmark
  public ByteBuffer write() throws IOException {
    writeBuffer.rewind();
    volume.volume().write(volume.nextOffset(), writeBuffer, false);
    return writeBuffer;
  }
}
