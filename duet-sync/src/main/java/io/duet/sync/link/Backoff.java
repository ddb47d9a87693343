package io.duet.sync.link;

/** Capped exponential backoff between dials; reset when a link comes up. Not thread-safe. */
final class Backoff {
  private final long initialMs;
  private final long maxMs;
  private long nextMs;

  Backoff(long initialMs, long maxMs) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.nextMs = initialMs;
  }

  /** The pause before the next attempt; each call doubles the following one up to the cap. */
  long next() {
    long d = nextMs;
    nextMs = Math.min(maxMs, nextMs * 2);
    return d;
  }

  void reset() {
    nextMs = initialMs;
  }
}
