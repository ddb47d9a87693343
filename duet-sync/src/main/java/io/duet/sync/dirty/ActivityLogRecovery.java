package io.duet.sync.dirty;

import io.duet.sync.dirty.ActivityLog.Range;
import io.duet.sync.dirty.ActivityLogFormat.Content;
import io.duet.sync.dirty.ActivityLogFormat.Garbage;
import io.duet.sync.dirty.ActivityLogFormat.Geometry;
import io.duet.sync.dirty.ActivityLogFormat.Readable;
import io.duet.sync.dirty.ActivityLogFormat.Txn;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

/**
 * What {@link ActivityLogFile#open} does before the log runs: read the file, decide what to report,
 * and keep the file or rewrite it (atomically) when it is new, damaged, or its geometry no longer
 * fits — always keeping what it reported as the first transaction of the new file.
 */
final class ActivityLogRecovery {
  private static final System.Logger LOG = System.getLogger(ActivityLogFile.class.getName());

  private ActivityLogRecovery() {}

  /** The caller's configuration. */
  record Limits(long volumeSizeBytes, long extentSizeBytes, int maxActive, Duration busyWait) {}

  /**
   * What open learned: the ranges to report, the same as extents of the geometry in use (carried
   * until released), whether the whole volume is carried, and the next transaction number.
   */
  record Recovered(
      Geometry geometry, List<Range> ranges, long[] extents, boolean wholeVolume, long nextSeq) {}

  static Recovered recover(Path file, Limits limits) throws IOException {
    if (!Files.exists(file)) {
      Geometry g = Geometry.of(limits.maxActive(), limits.extentSizeBytes());
      Recovered fresh = new Recovered(g, List.of(), new long[0], false, 1);
      create(file, fresh);
      return withNextSeq(fresh, 2);
    }
    Content content;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      content = ActivityLogFormat.read(file, ch);
    }
    Recovered r = fromContent(file, limits, content);
    Geometry g = content instanceof Readable rd ? rd.geometry() : null;
    boolean keep =
        g != null
            && r.nextSeq() > 1
            && g.extentSizeBytes() == limits.extentSizeBytes()
            && g.capacity() >= limits.maxActive() + r.extents().length;
    if (keep) {
      return new Recovered(g, r.ranges(), r.extents(), r.wholeVolume(), r.nextSeq());
    }
    Geometry fresh = Geometry.of(limits.maxActive() + r.extents().length, limits.extentSizeBytes());
    Recovered rewritten = new Recovered(fresh, r.ranges(), r.extents(), r.wholeVolume(), 1);
    create(file, rewritten);
    return withNextSeq(rewritten, 2);
  }

  private static Recovered withNextSeq(Recovered r, long nextSeq) {
    return new Recovered(r.geometry(), r.ranges(), r.extents(), r.wholeVolume(), nextSeq);
  }

  /** nextSeq 1 means "no valid transaction": the file must be rewritten. */
  private static Recovered fromContent(Path file, Limits limits, Content content) {
    Txn latest = content instanceof Readable rd ? rd.latest() : null;
    List<Range> whole = List.of(new Range(0, limits.volumeSizeBytes()));
    if (latest == null) {
      String why = content instanceof Garbage gb ? gb.problem() : "no valid transaction";
      LOG.log(
          Level.ERROR,
          "activity log {0}: {1}; the whole volume counts as possibly different from the peer",
          file,
          why);
      return new Recovered(null, whole, new long[0], true, 1);
    }
    if (latest.wholeVolume()) {
      return new Recovered(null, whole, new long[0], true, latest.seq() + 1);
    }
    long fileExtent = ((Readable) content).geometry().extentSizeBytes();
    List<Range> ranges = toRanges(latest.extents(), fileExtent, limits.volumeSizeBytes());
    long[] extents = toExtents(ranges, limits.extentSizeBytes());
    if (extents.length + limits.maxActive() > ActivityLogFormat.MAX_CAPACITY) {
      // Too many small extents to carry one by one (the extent size shrank a lot): carry the
      // whole volume instead, the safe superset, and still report the exact ranges.
      return new Recovered(null, ranges, new long[0], true, latest.seq() + 1);
    }
    return new Recovered(null, ranges, extents, false, latest.seq() + 1);
  }

  private static void create(Path file, Recovered r) throws IOException {
    Geometry g = r.geometry();
    Txn first = new Txn(1, r.wholeVolume(), r.extents());
    FreshFile.install(
        file,
        ch -> {
          FreshFile.writeFully(ch, ActivityLogFormat.headerBlock(g), 0);
          FreshFile.writeFully(ch, ActivityLogFormat.encode(first), g.slotOffset(1));
          FreshFile.writeFully(ch, ByteBuffer.allocate(1), g.fileBytes() - 1); // size the ring
        });
  }

  /** Extent numbers to merged byte ranges, clipped to the volume. */
  private static List<Range> toRanges(long[] sortedExtents, long extentBytes, long volumeBytes) {
    List<Range> out = new ArrayList<>();
    long start = -1;
    long end = -1;
    for (long e : sortedExtents) {
      long from = e * extentBytes;
      if (from >= volumeBytes || from / extentBytes != e) {
        continue; // beyond the volume (or an overflowing number): nothing there to copy
      }
      long to = Math.min(volumeBytes, from + extentBytes);
      if (from == end) {
        end = to;
      } else {
        if (start >= 0) {
          out.add(new Range(start, end - start));
        }
        start = from;
        end = to;
      }
    }
    if (start >= 0) {
      out.add(new Range(start, end - start));
    }
    return List.copyOf(out);
  }

  private static long[] toExtents(List<Range> ranges, long extentBytes) {
    int shift = Long.numberOfTrailingZeros(extentBytes);
    return ranges.stream()
        .flatMapToLong(
            r ->
                LongStream.rangeClosed(
                    r.offset() >>> shift, (r.offset() + r.length() - 1) >>> shift))
        .distinct()
        .sorted()
        .toArray();
  }
}
