package io.duet.cli;

import io.duet.node.ByteSize;
import java.util.Locale;

/**
 * One line of resync progress: {@code [########------] 42.0% 118.3 MB/s ETA 0:00:12 (430 MiB of 1
 * GiB)}. Pure text, so {@code cg show} and {@code cg show --watch} render the same way and a test
 * can check it without a terminal.
 */
final class ResyncProgress {
  static final int BAR_WIDTH = 30;

  private ResyncProgress() {}

  /**
   * Renders progress; {@code bytesPerSecond} below 0 means the rate is unknown, {@code etaSeconds}
   * below 0 that the site cannot estimate the end.
   */
  static String line(long bytesDone, long bytesTotal, double bytesPerSecond, long etaSeconds) {
    long total = Math.max(0, bytesTotal);
    long done = Math.clamp(bytesDone, 0, total);
    // Nothing to copy is complete, not 0 %: a resync of no regions is done at once.
    double percent = total == 0 ? 100.0 : 100.0 * done / total;
    int filled = (int) Math.round(BAR_WIDTH * percent / 100.0);
    String bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
    String rate =
        bytesPerSecond < 0 || Double.isNaN(bytesPerSecond)
            ? "-- MB/s"
            : String.format(Locale.ROOT, "%.1f MB/s", bytesPerSecond / 1_000_000.0);
    return String.format(
        Locale.ROOT,
        "[%s] %5.1f%%  %s  ETA %s  (%s of %s)",
        bar,
        percent,
        rate,
        eta(etaSeconds),
        ByteSize.format(done),
        ByteSize.format(total));
  }

  /**
   * The copy rate a view implies when it carries no measured rate: what is left over the time the
   * site expects it to take; -1 when that is unknown.
   */
  static double impliedRate(long bytesDone, long bytesTotal, long etaSeconds) {
    long left = bytesTotal - bytesDone;
    return etaSeconds > 0 && left > 0 ? (double) left / etaSeconds : -1;
  }

  static String eta(long seconds) {
    if (seconds < 0) {
      return "--:--";
    }
    long h = seconds / 3600;
    long m = (seconds / 60) % 60;
    long s = seconds % 60;
    return String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s);
  }
}
