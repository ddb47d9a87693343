package io.duet.nbd;

/**
 * Decides, per request, whether a connection's reader thread serves it itself or hands it to a
 * worker. Serving inline costs no thread hand-off (wake-up, context switch) and lets one thread
 * stream through a burst of pipelined requests, which is what a page-cache hit wants; but while the
 * reader serves, nothing else of the connection starts, which is wrong when requests wait on a
 * disk: then they must overlap on workers.
 *
 * <p>So the policy watches how long requests spend in the volume. While they complete within a
 * budget (a fixed part plus a per-byte part, so a large copy is not mistaken for a disk wait) the
 * reader serves them itself, except large ones ({@link #INLINE_BYTES_MAX}): those go to workers
 * whenever anything could overlap, so that the reader pulls the next payload off the socket while a
 * worker copies this one (measured with 1 MiB writes at queue depth 8: about 1.5 times the inline
 * rate; 1 MiB reads were no different either way). When requests keep exceeding the budget (see
 * {@link #SLOW_WEIGHT}) they all go to workers, until enough of them are within budget again.
 * Requests that are slow by nature (FLUSH, FUA, zeroing, trimming, block status) always go to
 * workers. Any request runs inline when nothing else is in flight or waiting: then nothing could
 * overlap with it. Thread-safe: the score is updated racily from several threads, which can only
 * lose an update now and then.
 */
final class InlinePolicy {
  /** Over this much (plus {@link #BUDGET_NANOS_PER_KIB} per KiB) a request probably hit a disk. */
  static final long BUDGET_BASE_NANOS = 200_000;

  /** 1 µs per KiB: copying through the page cache runs at well over 1 GB/s. */
  static final long BUDGET_NANOS_PER_KIB = 1_000;

  /** Requests longer than this go to workers whenever anything could overlap with them. */
  static final long INLINE_BYTES_MAX = 128 << 10;

  /**
   * The slowness score rises by this for a request over budget and falls by one for a request
   * within it; requests go to workers while it is at least {@link #SCORE_TO_WORKERS}. So a burst of
   * four slow requests, or more than about one in nine over time, moves to workers, while a thread
   * preempted now and then on a busy machine (which looks just like a disk wait) does not.
   */
  static final int SLOW_WEIGHT = 8;

  static final int SCORE_TO_WORKERS = 4 * SLOW_WEIGHT;

  /** The score's ceiling: how much recent slowness is remembered. */
  static final int SCORE_MAX = 2 * SCORE_TO_WORKERS;

  private volatile int score;

  /**
   * Whether the reader should serve {@code r} itself.
   *
   * @param othersInFlight requests of the connection being served now, not counting {@code r}
   * @param moreWaiting whether the client already sent (part of) a further request
   */
  boolean inline(Request r, int othersInFlight, boolean moreWaiting) {
    if (othersInFlight == 0 && !moreWaiting) {
      return true; // nothing could overlap with it anyway
    }
    return quick() && r.length() <= INLINE_BYTES_MAX && !slowByNature(r);
  }

  /** Records that a request of {@code bytes} spent {@code nanos} in the volume. */
  void served(long bytes, long nanos) {
    int s = score;
    if (nanos > BUDGET_BASE_NANOS + (bytes >>> 10) * BUDGET_NANOS_PER_KIB) {
      score = Math.min(SCORE_MAX, s + SLOW_WEIGHT);
    } else if (s > 0) {
      score = s - 1;
    }
  }

  /** Whether requests are currently served inline when others are in flight. */
  boolean quick() {
    return score < SCORE_TO_WORKERS;
  }

  private static boolean slowByNature(Request r) {
    return switch (r.type()) {
      case Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_CACHE -> r.has(Nbd.CMD_FLAG_FUA);
      default -> true;
    };
  }
}
