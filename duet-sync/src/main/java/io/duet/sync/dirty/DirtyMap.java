package io.duet.sync.dirty;

import io.duet.store.CorruptMetadataException;
import io.duet.store.OutOfRangeException;
import io.duet.sync.dirty.DirtyMapFile.Header;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link DirtyRegions} bitmap kept in one file (format: {@code DirtyMapFile}). Marking a clean
 * region dirty writes only the changed 4 KiB page(s) in place and fdatasyncs before returning;
 * concurrent markers share one write and one fdatasync (group commit). Marking a region that is
 * already durably dirty is a lock-free read of an in-memory bit. Cleared bits reach the disk at
 * {@link #sync()}. A page whose checksum fails on open (a torn write) counts all its regions as
 * dirty: a damaged map costs extra copying, never a missed region.
 *
 * <p>After {@link #close()} the map must not be used; a dirty region may still read as dirty and
 * markDirty of an already-dirty region still returns, anything that needs I/O fails.
 */
public final class DirtyMap implements DirtyRegions {
  /** The default region size (64 KiB): 2 MiB of bitmap per TiB of volume. */
  public static final long REGION_SIZE_DEFAULT_BYTES = 64 * 1024;

  private static final System.Logger LOG = System.getLogger(DirtyMap.class.getName());

  /**
   * What lock-free readers see; replaced as a whole by resize. A bit is set in {@code bits} only
   * once it is durable on disk, so a reader that finds it set may return at once. {@code
   * cleanedPages} flags the pages whose cleared bits the disk does not have yet.
   */
  private record State(
      long volumeSizeBytes, long regionCount, AtomicLongArray bits, AtomicLongArray cleanedPages) {}

  private final Path file;
  private final FileChannel channel;
  private final long regionSizeBytes;
  private final int regionShift;
  private final AtomicLong fdatasyncs = new AtomicLong();

  /** Test seam, off (null) by default: runs in the writer before each batch's page writes. */
  volatile Runnable beforePageIo;

  private volatile State state;

  // Group commit. One writer at a time writes pages and fdatasyncs; the bits it makes durable are
  // published only afterwards. Everything below is guarded by lock.
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition writerDone = lock.newCondition();
  private long[] staged; // per word: bits waiting for the next write
  private final BitSet stagedPages = new BitSet();
  private long requestedSeq;
  private long durableSeq;
  private boolean writing;
  private long generation;
  private boolean closed;

  private DirtyMap(Path file, FileChannel channel, Header header, AtomicLongArray bits) {
    this.file = file;
    this.channel = channel;
    this.regionSizeBytes = header.regionSizeBytes();
    this.regionShift = Long.numberOfTrailingZeros(regionSizeBytes);
    this.generation = header.generation();
    this.staged = new long[bits.length()];
    this.state =
        new State(
            header.volumeSizeBytes(),
            header.regionCount(),
            bits,
            new AtomicLongArray(Math.ceilDiv(header.pageCount(), Long.SIZE)));
  }

  /**
   * Opens the dirty map in {@code file}, creating it (all clean) when it does not exist. A volume
   * larger than the file records grows the map as {@link #resize} does.
   *
   * @param regionSizeBytes a power of two; must equal the size the file was created with
   * @throws CorruptMetadataException the file is not a dirty map, both header copies are damaged,
   *     its region size differs, or it records a larger volume (volumes never shrink)
   */
  public static DirtyMap open(Path file, long volumeSizeBytes, long regionSizeBytes)
      throws IOException {
    Objects.requireNonNull(file, "file");
    if (regionSizeBytes <= 0 || Long.bitCount(regionSizeBytes) != 1) {
      throw new IllegalArgumentException("region size " + regionSizeBytes + " is not a power of 2");
    }
    if (volumeSizeBytes <= 0) {
      throw new IllegalArgumentException("volume size " + volumeSizeBytes + " is not positive");
    }
    checkRegionCount(volumeSizeBytes, regionSizeBytes);
    if (!Files.exists(file)) {
      create(file, Header.of(1, regionSizeBytes, volumeSizeBytes));
    }
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      Header h = DirtyMapFile.readHeader(file, ch);
      if (h.regionSizeBytes() != regionSizeBytes) {
        throw new CorruptMetadataException(
            file,
            "map has regions of " + h.regionSizeBytes() + " bytes, " + regionSizeBytes + " asked");
      }
      if (h.volumeSizeBytes() > volumeSizeBytes) {
        throw new CorruptMetadataException(
            file,
            "map is for a volume of "
                + h.volumeSizeBytes()
                + " bytes, larger than "
                + volumeSizeBytes
                + " (volumes never shrink)");
      }
      List<Integer> damaged = new ArrayList<>();
      AtomicLongArray bits = load(ch, h, damaged);
      DirtyMap map = new DirtyMap(file, ch, h, bits);
      if (!damaged.isEmpty()) {
        LOG.log(
            Level.WARNING,
            "dirty map {0}: pages {1} are damaged (torn write?); all their regions count as dirty",
            file,
            damaged);
        map.rewritePages(damaged);
      }
      if (volumeSizeBytes > h.volumeSizeBytes()) {
        map.resize(volumeSizeBytes);
      }
      return map;
    } catch (Throwable t) {
      ch.close();
      throw t;
    }
  }

  private static void checkRegionCount(long volumeSizeBytes, long regionSizeBytes) {
    long regions = Math.ceilDiv(volumeSizeBytes, regionSizeBytes);
    if (regions > DirtyMapFile.MAX_REGION_COUNT) {
      throw new IllegalArgumentException(
          regions
              + " regions of "
              + regionSizeBytes
              + " bytes exceed "
              + DirtyMapFile.MAX_REGION_COUNT
              + "; use larger regions");
    }
  }

  private static void create(Path file, Header h) throws IOException {
    FreshFile.install(
        file,
        ch -> {
          FreshFile.writeFully(ch, DirtyMapFile.headerBlock(h), 0);
          long[] zeros = new long[DirtyMapFile.WORDS_PER_PAGE];
          for (int p = 0; p < h.pageCount(); p++) {
            FreshFile.writeFully(ch, DirtyMapFile.encodePage(p, zeros), DirtyMapFile.pageOffset(p));
          }
        });
  }

  private static AtomicLongArray load(FileChannel ch, Header h, List<Integer> damaged)
      throws IOException {
    int wordsPerPage = DirtyMapFile.WORDS_PER_PAGE;
    AtomicLongArray bits = new AtomicLongArray(h.pageCount() * wordsPerPage);
    long[] words = new long[wordsPerPage];
    ByteBuffer buf = DirtyMapFile.newPageBuffer();
    for (int p = 0; p < h.pageCount(); p++) {
      buf.clear();
      FreshFile.readFully(ch, buf, DirtyMapFile.pageOffset(p));
      if (!DirtyMapFile.decodePage(p, buf.flip(), words)) {
        Arrays.fill(words, -1L);
        damaged.add(p);
      }
      for (int i = 0; i < wordsPerPage; i++) {
        bits.set(p * wordsPerPage + i, words[i] & validMask(p * wordsPerPage + i, h.regionCount()));
      }
    }
    return bits;
  }

  /**
   * The bits of word {@code w} that stand for real regions (the tail of the last word does not).
   */
  private static long validMask(int w, long regionCount) {
    long firstRegion = (long) w * Long.SIZE;
    if (firstRegion >= regionCount) {
      return 0;
    }
    long n = regionCount - firstRegion;
    return n >= Long.SIZE ? -1L : (1L << n) - 1;
  }

  @Override
  public long regionSizeBytes() {
    return regionSizeBytes;
  }

  @Override
  public long regionCount() {
    return state.regionCount();
  }

  /** The volume size the map covers now. */
  public long volumeSizeBytes() {
    return state.volumeSizeBytes();
  }

  @Override
  public void markDirty(long offset, long length) throws IOException {
    State s = state;
    checkRange(s, offset, length);
    if (length == 0) {
      return;
    }
    long first = offset >>> regionShift;
    long last = (offset + length - 1) >>> regionShift;
    if (!allSet(s.bits(), first, last)) {
      stageAndCommit(List.of(new long[] {first, last}));
    }
  }

  /**
   * Marks every range dirty, durable on return, with one batch of page writes and one fdatasync (a
   * new group's initial synchronization marks thousands of extents at once).
   */
  public void markAllDirty(List<ActivityLog.Range> ranges) throws IOException {
    State s = state;
    List<long[]> regions = new ArrayList<>(ranges.size());
    for (ActivityLog.Range r : ranges) {
      checkRange(s, r.offset(), r.length());
      if (r.length() > 0) {
        regions.add(
            new long[] {r.offset() >>> regionShift, (r.offset() + r.length() - 1) >>> regionShift});
      }
    }
    if (!regions.isEmpty()) {
      stageAndCommit(regions);
    }
  }

  private static void checkRange(State s, long offset, long length) {
    if (offset < 0 || length < 0 || length > s.volumeSizeBytes() - offset) {
      throw new OutOfRangeException(
          "range ["
              + offset
              + ", +"
              + length
              + ") is outside the dirty map of "
              + s.volumeSizeBytes()
              + " bytes");
    }
  }

  private static boolean allSet(AtomicLongArray bits, long first, long last) {
    for (long w = first >>> 6; w <= last >>> 6; w++) {
      long mask = wordMask(w, first, last);
      if ((bits.get((int) w) & mask) != mask) {
        return false;
      }
    }
    return true;
  }

  /** The bits of word {@code w} that lie in the region range {@code [first, last]}. */
  private static long wordMask(long w, long first, long last) {
    long lo = Math.max(first, w << 6) - (w << 6);
    long hi = Math.min(last, (w << 6) + 63) - (w << 6);
    return (-1L >>> (63 - hi)) & (-1L << lo);
  }

  /** Stages each {@code [first, last]} region range and returns once all are durable. */
  private void stageAndCommit(List<long[]> ranges) throws IOException {
    lock.lock();
    try {
      State s = state;
      boolean any = false;
      for (long[] range : ranges) {
        long first = range[0];
        long last = range[1];
        for (long w = first >>> 6; w <= last >>> 6; w++) {
          long missing = wordMask(w, first, last) & ~s.bits().get((int) w);
          if (missing != 0) {
            staged[(int) w] |= missing;
            stagedPages.set((int) (w / DirtyMapFile.WORDS_PER_PAGE));
            any = true;
          }
        }
      }
      if (!any) {
        return; // another writer published these bits while we waited for the lock
      }
      long ticket = ++requestedSeq;
      while (durableSeq < ticket) {
        if (writing) {
          writerDone.awaitUninterruptibly();
        } else {
          writeBatch(false);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** One page to write: its words as they go to disk, and the staged bits it makes durable. */
  private record PageWrite(int page, long[] image, long[] newlyDirty) {}

  /**
   * Takes the writer role, writes every page with staged bits (and with {@code withCleaned}, every
   * page with cleared bits) and fdatasyncs once, then publishes. Called and returns with the lock
   * held; the lock is released during I/O. On failure the staged bits go back for the next writer.
   */
  private void writeBatch(boolean withCleaned) throws IOException {
    ensureOpen();
    writing = true;
    State s = state;
    long batchSeq = requestedSeq;
    List<PageWrite> writes = new ArrayList<>();
    BitSet cleanedTaken = new BitSet();
    int pages = Header.pageCount(s.regionCount());
    // Without cleaned pages only the staged ones need a look; sync looks at every page.
    for (int p = withCleaned ? 0 : stagedPages.nextSetBit(0);
        p >= 0 && p < pages;
        p = withCleaned ? p + 1 : stagedPages.nextSetBit(p + 1)) {
      boolean hasStaged = stagedPages.get(p);
      // Take the cleaned flag before the image: a bit cleared after this re-flags the page.
      boolean cleaned = withCleaned && takeCleanedFlag(s, p);
      if (cleaned) {
        cleanedTaken.set(p);
      }
      if (hasStaged || cleaned) {
        writes.add(snapshotPage(s, p));
      }
    }
    stagedPages.clear();
    lock.unlock();
    boolean ok = false;
    try {
      Runnable hook = beforePageIo;
      if (hook != null && !writes.isEmpty()) {
        hook.run();
      }
      for (PageWrite pw : writes) {
        FreshFile.writeFully(
            channel,
            DirtyMapFile.encodePage(pw.page(), pw.image()),
            DirtyMapFile.pageOffset(pw.page()));
      }
      if (!writes.isEmpty()) {
        channel.force(false);
        fdatasyncs.incrementAndGet();
      }
      ok = true;
    } finally {
      lock.lock();
      finishBatch(s, writes, cleanedTaken, ok, batchSeq);
    }
  }

  private PageWrite snapshotPage(State s, int p) {
    int base = p * DirtyMapFile.WORDS_PER_PAGE;
    long[] image = new long[DirtyMapFile.WORDS_PER_PAGE];
    long[] newlyDirty = new long[DirtyMapFile.WORDS_PER_PAGE];
    for (int i = 0; i < image.length; i++) {
      newlyDirty[i] = staged[base + i];
      staged[base + i] = 0;
      image[i] = s.bits().get(base + i) | newlyDirty[i];
    }
    return new PageWrite(p, image, newlyDirty);
  }

  private void finishBatch(
      State s, List<PageWrite> writes, BitSet cleanedTaken, boolean ok, long batchSeq) {
    for (PageWrite pw : writes) {
      int base = pw.page() * DirtyMapFile.WORDS_PER_PAGE;
      for (int i = 0; i < pw.newlyDirty().length; i++) {
        long bitsToPublish = pw.newlyDirty()[i];
        if (bitsToPublish == 0) {
          continue;
        }
        if (ok) {
          s.bits().accumulateAndGet(base + i, bitsToPublish, (a, b) -> a | b);
        } else {
          staged[base + i] |= bitsToPublish;
          stagedPages.set(pw.page());
        }
      }
    }
    if (ok) {
      durableSeq = batchSeq;
    } else {
      cleanedTaken.stream().forEach(p -> flagCleaned(s, p));
    }
    writing = false;
    writerDone.signalAll();
  }

  private static boolean takeCleanedFlag(State s, int page) {
    long bit = 1L << page;
    return (s.cleanedPages().getAndAccumulate(page >>> 6, ~bit, (a, b) -> a & b) & bit) != 0;
  }

  private static void flagCleaned(State s, int page) {
    s.cleanedPages().accumulateAndGet(page >>> 6, 1L << page, (a, b) -> a | b);
  }

  /** Repairs damaged pages found on open: their in-memory image (all dirty) goes to disk. */
  private void rewritePages(List<Integer> pages) throws IOException {
    lock.lock();
    try {
      State s = state;
      for (int p : pages) {
        flagCleaned(s, p); // "needs writing at the next sync" is exactly what the flag means
      }
      writeBatch(true);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void markClean(long region) {
    State s = state;
    checkRegion(s, region);
    long bit = 1L << region;
    long before = s.bits().getAndAccumulate((int) (region >>> 6), ~bit, (a, b) -> a & b);
    if ((before & bit) != 0) {
      flagCleaned(s, (int) ((region >>> 6) / DirtyMapFile.WORDS_PER_PAGE));
    }
  }

  @Override
  public boolean isDirty(long region) {
    State s = state;
    checkRegion(s, region);
    return (s.bits().get((int) (region >>> 6)) & (1L << region)) != 0;
  }

  private static void checkRegion(State s, long region) {
    if (region < 0 || region >= s.regionCount()) {
      throw new OutOfRangeException(
          "region " + region + " outside [0, " + s.regionCount() + ") of the dirty map");
    }
  }

  /** Counts the dirty regions by scanning the bitmap (about 0.1 ms per TiB of volume). */
  @Override
  public long dirtyCount() {
    AtomicLongArray bits = state.bits();
    long n = 0;
    for (int i = 0; i < bits.length(); i++) {
      n += Long.bitCount(bits.get(i));
    }
    return n;
  }

  @Override
  public long nextDirty(long fromRegion) {
    State s = state;
    if (fromRegion < 0) {
      throw new OutOfRangeException("negative region " + fromRegion);
    }
    if (fromRegion >= s.regionCount()) {
      return -1;
    }
    AtomicLongArray bits = s.bits();
    int w = (int) (fromRegion >>> 6);
    long word = bits.get(w) & (-1L << fromRegion);
    while (word == 0) {
      if (++w >= bits.length()) {
        return -1;
      }
      word = bits.get(w);
    }
    long region = ((long) w << 6) + Long.numberOfTrailingZeros(word);
    return region < s.regionCount() ? region : -1;
  }

  @Override
  public void sync() throws IOException {
    lock.lock();
    try {
      while (writing) {
        writerDone.awaitUninterruptibly();
      }
      writeBatch(true);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Grows the map: the new pages are written (clean) and fdatasynced, then the spare header copy is
   * written with the new geometry and fdatasynced, so a crash in between leaves the old map. A
   * markClean racing with resize may be lost (the region stays dirty: safe).
   *
   * @throws IllegalArgumentException the new size is smaller than the current one
   */
  @Override
  public void resize(long volumeSizeBytes) throws IOException {
    lock.lock();
    try {
      State s = state;
      if (volumeSizeBytes < s.volumeSizeBytes()) {
        throw new IllegalArgumentException(
            "dirty map cannot shrink from " + s.volumeSizeBytes() + " to " + volumeSizeBytes);
      }
      if (volumeSizeBytes == s.volumeSizeBytes()) {
        return;
      }
      checkRegionCount(volumeSizeBytes, regionSizeBytes);
      while (writing) {
        writerDone.awaitUninterruptibly();
      }
      ensureOpen();
      writing = true;
      try {
        Header next = Header.of(generation + 1, regionSizeBytes, volumeSizeBytes);
        lock.unlock();
        try {
          growFile(Header.pageCount(s.regionCount()), next);
        } finally {
          lock.lock();
        }
        generation = next.generation();
        state = grownState(s, next);
        staged = Arrays.copyOf(staged, state.bits().length());
      } finally {
        writing = false;
        writerDone.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  private void growFile(int oldPages, Header next) throws IOException {
    long[] zeros = new long[DirtyMapFile.WORDS_PER_PAGE];
    for (int p = oldPages; p < next.pageCount(); p++) {
      FreshFile.writeFully(channel, DirtyMapFile.encodePage(p, zeros), DirtyMapFile.pageOffset(p));
    }
    channel.force(false);
    DirtyMapFile.writeHeader(channel, next);
    channel.force(false);
    fdatasyncs.addAndGet(2);
  }

  private static State grownState(State s, Header next) {
    AtomicLongArray bits = new AtomicLongArray(next.pageCount() * DirtyMapFile.WORDS_PER_PAGE);
    for (int i = 0; i < s.bits().length(); i++) {
      bits.set(i, s.bits().get(i));
    }
    AtomicLongArray cleaned = new AtomicLongArray(Math.ceilDiv(next.pageCount(), Long.SIZE));
    for (int i = 0; i < s.cleanedPages().length(); i++) {
      cleaned.set(i, s.cleanedPages().get(i));
    }
    return new State(next.volumeSizeBytes(), next.regionCount(), bits, cleaned);
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("dirty map " + file + " is closed");
    }
  }

  /** Syncs cleared bits and closes the file. Idempotent. */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      try {
        while (writing) {
          writerDone.awaitUninterruptibly();
        }
        writeBatch(true);
      } finally {
        closed = true;
        channel.close();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Test seam: how many markDirty calls have asked for a clean-to-dirty write so far. */
  long requestedWrites() {
    lock.lock();
    try {
      return requestedSeq;
    } finally {
      lock.unlock();
    }
  }

  /** Test seam: how many fdatasyncs this map has issued. */
  long fdatasyncCount() {
    return fdatasyncs.get();
  }

  @Override
  public String toString() {
    return "DirtyMap[" + file + ", " + dirtyCount() + "/" + regionCount() + " dirty]";
  }
}
