package io.duet.bench;

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

/**
 * CRC32C (the iSCSI digest and Duet's frame and block checksum) over one block, from a heap array
 * and from a direct buffer (the two shapes the I/O paths hand it).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Crc32cBenchmark {
  @Param({"4096", "65536"})
  int sizeBytes;

  private final CRC32C crc = new CRC32C();
  private byte[] heap;
  private ByteBuffer direct;

  /** Fills both buffers with the same seeded bytes. */
  @Setup
  public void setup() {
    heap = new byte[sizeBytes];
    new SplittableRandom(Seeds.DATA).nextBytes(heap);
    direct = ByteBuffer.allocateDirect(sizeBytes).put(heap).flip();
  }

  /** CRC32C of a heap array. */
  @Benchmark
  public long heapArray() {
    crc.reset();
    crc.update(heap, 0, heap.length);
    return crc.getValue();
  }

  /** CRC32C of a direct buffer (consumes and rewinds it). */
  @Benchmark
  public long directBuffer() {
    crc.reset();
    crc.update(direct.clear());
    return crc.getValue();
  }
}
