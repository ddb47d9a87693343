package io.duet.testkit.sim;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import io.duet.store.VolumeIdentity;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A site's volume in memory with a volatile page cache: a write is visible at once and durable only
 * after a flush (or with FUA). A power loss keeps each un-flushed block whole, loses it, or tears
 * it (some 512-byte sectors new, the rest old), as the seed decides; a process crash keeps the page
 * cache, as the kernel would. Single-threaded, like everything in the simulation.
 */
final class SimDisk implements Volume {
  static final int BLOCK = 4096;
  static final int SECTOR = 512;

  private final VolumeIdentity identity;
  private final long blocks;
  private final byte[] durable;

  /** Un-flushed blocks by index (sorted, so a crash draws its random choices in one order). */
  private final TreeMap<Long, byte[]> cache = new TreeMap<>();

  /**
   * Per un-flushed block, every value (as {@link BlockData} decodes it) written into the page cache
   * since the block was last durable: a power loss may take all of them, not only the last one.
   */
  private final Map<Long, Set<Long>> volatileValues = new HashMap<>();

  /**
   * Per block, every value this disk still holds or held before a newer one overwrote it (values a
   * power loss took are forgotten): the order in which this site applied the writes.
   */
  private final Map<Long, Set<Long>> seen = new HashMap<>();

  /** The blocks the last power loss tore. */
  private List<Long> lastTorn = List.of();

  long writes;
  long flushes;

  SimDisk(long sizeBytes) {
    byte[] naa = new byte[16];
    naa[0] = 0x60;
    naa[15] = 1;
    this.identity = new VolumeIdentity(new UUID(0x5105, 1), "simvol", naa, "DUETSIM1");
    this.blocks = sizeBytes / BLOCK;
    this.durable = new byte[Math.toIntExact(sizeBytes)];
  }

  @Override
  public VolumeIdentity identity() {
    return identity;
  }

  @Override
  public int blockSize() {
    return BLOCK;
  }

  @Override
  public long blockCount() {
    return blocks;
  }

  @Override
  public void read(long offset, ByteBuffer dst) {
    check(offset, dst.remaining());
    while (dst.hasRemaining()) {
      long block = offset / BLOCK;
      dst.put(block(block), 0, BLOCK);
      offset += BLOCK;
    }
  }

  /** The block as a read sees it now (page cache first). */
  byte[] block(long block) {
    byte[] cached = cache.get(block);
    return cached != null
        ? cached
        : Arrays.copyOfRange(durable, (int) (block * BLOCK), (int) ((block + 1) * BLOCK));
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) {
    check(offset, src.remaining());
    writes++;
    while (src.hasRemaining()) {
      byte[] b = new byte[BLOCK];
      src.get(b);
      long block = offset / BLOCK;
      seen.computeIfAbsent(block, k -> new HashSet<>()).add(BlockData.decode(b, 0, block));
      if (fua) {
        cache.remove(block);
        volatileValues.remove(block);
        System.arraycopy(b, 0, durable, (int) (block * BLOCK), BLOCK);
      } else {
        cache.put(block, b);
        volatileValues
            .computeIfAbsent(block, k -> new HashSet<>())
            .add(BlockData.decode(b, 0, block));
      }
      offset += BLOCK;
    }
  }

  @Override
  public void writeAtomic(long offset, ByteBuffer src, boolean fua) {
    write(offset, src, fua); // one thread: a write is never seen half done
  }

  @Override
  public void flush() {
    flushes++;
    for (Map.Entry<Long, byte[]> e : cache.entrySet()) {
      System.arraycopy(e.getValue(), 0, durable, (int) (e.getKey() * BLOCK), BLOCK);
    }
    cache.clear();
    volatileValues.clear();
  }

  /** Makes blocks {@code [from, to)} durable, as fdatasync of one volume's file does. */
  void flushRange(long from, long to) {
    flushes++;
    var range = cache.subMap(from, to);
    for (Map.Entry<Long, byte[]> e : range.entrySet()) {
      System.arraycopy(e.getValue(), 0, durable, (int) (e.getKey() * BLOCK), BLOCK);
      volatileValues.remove(e.getKey());
    }
    range.clear();
  }

  /**
   * Volume {@code index} of a group whose volumes all live on this disk, {@code blocks} each, side
   * by side: its own identity, its blocks at {@code index * blocks}, flushed on its own. One disk
   * per site keeps power loss, the page cache and the checks whole-site; block numbers in the
   * history are this disk's.
   */
  Volume volume(int index, long blocks) {
    return new VolumeView(index, blocks);
  }

  private final class VolumeView implements Volume {
    private final VolumeIdentity id;
    private final long base;
    private final long count;

    VolumeView(int index, long count) {
      byte[] naa = identity.naa().clone();
      naa[14] = (byte) index;
      this.id =
          new VolumeIdentity(
              new UUID(0x5105, 1 + index), "simvol" + index, naa, "DUETSIM" + (1 + index));
      this.base = index * count * BLOCK;
      this.count = count;
    }

    @Override
    public VolumeIdentity identity() {
      return id;
    }

    @Override
    public int blockSize() {
      return BLOCK;
    }

    @Override
    public long blockCount() {
      return count;
    }

    private long at(long offset, long length) {
      if (offset < 0 || length < 0 || offset + length > count * BLOCK) {
        throw new OutOfRangeException(
            "range [" + offset + ", +" + length + ") outside " + id.name());
      }
      return base + offset;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
      SimDisk.this.read(at(offset, dst.remaining()), dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
      SimDisk.this.write(at(offset, src.remaining()), src, fua);
    }

    @Override
    public void writeAtomic(long offset, ByteBuffer src, boolean fua) {
      SimDisk.this.writeAtomic(at(offset, src.remaining()), src, fua);
    }

    @Override
    public void flush() {
      flushRange(base / BLOCK, base / BLOCK + count);
    }

    @Override
    public void unmap(long offset, long length) {
      SimDisk.this.unmap(at(offset, length), length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate) {
      SimDisk.this.writeZeroes(at(offset, length), length, mayDeallocate);
    }

    @Override
    public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua) {
      return SimDisk.this.compareAndWrite(at(offset, data.remaining()), expected, data, fua);
    }

    @Override
    public Extent allocation(long offset, long maxLength) {
      return new Extent(offset, Math.min(maxLength, count * BLOCK - offset), true);
    }

    @Override
    public int unmapGranularityBytes() {
      return BLOCK;
    }
  }

  @Override
  public void unmap(long offset, long length) {
    writeZeroes(offset, length, true);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean mayDeallocate) {
    check(offset, length);
    write(offset, ByteBuffer.allocate((int) length), false);
  }

  @Override
  public long compareAndWrite(long offset, ByteBuffer expected, ByteBuffer data, boolean fua) {
    ByteBuffer current = ByteBuffer.allocate(expected.remaining());
    read(offset, current);
    long mismatch = expected.duplicate().mismatch(current.flip());
    if (mismatch >= 0) {
      return mismatch;
    }
    write(offset, data.duplicate(), fua);
    return -1;
  }

  @Override
  public Extent allocation(long offset, long maxLength) {
    return new Extent(offset, Math.min(maxLength, sizeBytes() - offset), true);
  }

  @Override
  public int unmapGranularityBytes() {
    return BLOCK;
  }

  /** Power loss: each un-flushed block survives, is lost, or is torn at sector granularity. */
  int powerLoss(SplittableRandom rnd, boolean tear) {
    List<Long> tornBlocks = new ArrayList<>();
    int torn = 0;
    for (Map.Entry<Long, byte[]> e : cache.entrySet()) {
      int base = (int) (e.getKey() * BLOCK);
      int choice = rnd.nextInt(tear ? 3 : 2);
      if (choice == 1) {
        System.arraycopy(e.getValue(), 0, durable, base, BLOCK);
      } else if (choice == 2) {
        torn++;
        tornBlocks.add(e.getKey());
        for (int s = 0; s < BLOCK / SECTOR; s++) {
          if (rnd.nextBoolean()) {
            System.arraycopy(e.getValue(), s * SECTOR, durable, base + s * SECTOR, SECTOR);
          }
        }
      }
    }
    cache.clear();
    for (Map.Entry<Long, Set<Long>> e : volatileValues.entrySet()) {
      Set<Long> values = seen.get(e.getKey());
      values.removeAll(e.getValue());
      values.add(value(e.getKey())); // what the block holds now (kept, older or torn)
    }
    volatileValues.clear();
    lastTorn = List.copyOf(tornBlocks);
    return torn;
  }

  /** The blocks the last power loss tore. */
  List<Long> lastTorn() {
    return lastTorn;
  }

  /** The un-flushed blocks, each with the values written to it since it was last durable. */
  Map<Long, Set<Long>> volatileValues() {
    return volatileValues;
  }

  /** The value block {@code block} holds durably (what a power loss now would leave at least). */
  long durableValue(long block) {
    return BlockData.decode(durable, (int) (block * BLOCK), block);
  }

  /** Whether this disk holds {@code value} in {@code block} or a write it applied after it. */
  boolean holdsOrSuperseded(long block, long value) {
    return seen.getOrDefault(block, Set.of()).contains(value);
  }

  /** The value a read of {@code block} sees now. */
  long value(long block) {
    return BlockData.decode(block(block), 0, block);
  }

  int unflushedBlocks() {
    return cache.size();
  }

  private void check(long offset, long length) {
    if (offset < 0
        || length < 0
        || offset % BLOCK != 0
        || length % BLOCK != 0
        || offset + length > sizeBytes()) {
      throw new OutOfRangeException("range [" + offset + ", +" + length + ") outside the volume");
    }
  }
}
