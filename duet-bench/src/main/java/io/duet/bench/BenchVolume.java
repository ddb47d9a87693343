package io.duet.bench;

import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A real {@link LocalVolume} in a fresh temporary directory, fully written with seeded random data
 * (so reads hit allocated extents in the page cache, not holes), plus a ring of random I/O offsets.
 * {@link #close()} removes the directory.
 */
final class BenchVolume implements AutoCloseable {
  /** Large enough that random offsets spread over many pages, small enough to stay cached. */
  static final long SIZE_BYTES = 256L << 20;

  private static final int FILL_CHUNK_BYTES = 1 << 20;
  private static final int OFFSET_RING = 4096;

  private final Path dir;
  private final VolumeStore store;
  private final LocalVolume volume;
  private final long[] offsets = new long[OFFSET_RING];
  private int next;

  /**
   * @param blockSize the volume's logical block size (512 or 4096)
   * @param ioBytes the size of one I/O; offsets are multiples of it so I/Os never straddle the end
   */
  BenchVolume(int blockSize, int ioBytes) throws IOException {
    dir = Files.createTempDirectory("duet-bench-");
    store = VolumeStore.open(dir);
    volume = store.create("bench", SIZE_BYTES, blockSize);
    fill();
    SplittableRandom random = new SplittableRandom(Seeds.OFFSETS);
    long slots = SIZE_BYTES / ioBytes;
    for (int i = 0; i < OFFSET_RING; i++) {
      offsets[i] = random.nextLong(slots) * ioBytes;
    }
  }

  private void fill() throws IOException {
    SplittableRandom random = new SplittableRandom(Seeds.DATA);
    byte[] chunk = new byte[FILL_CHUNK_BYTES];
    for (long off = 0; off < SIZE_BYTES; off += FILL_CHUNK_BYTES) {
      random.nextBytes(chunk);
      volume.write(off, ByteBuffer.wrap(chunk), false);
    }
    volume.flush();
  }

  LocalVolume volume() {
    return volume;
  }

  /**
   * The next offset of the ring, in bytes. Single-threaded use (one state per benchmark thread).
   */
  long nextOffset() {
    long off = offsets[next];
    next = (next + 1) & (OFFSET_RING - 1);
    return off;
  }

  @Override
  public void close() throws IOException {
    store.close();
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
