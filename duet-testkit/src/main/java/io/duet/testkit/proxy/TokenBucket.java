package io.duet.testkit.proxy;

/**
 * A token bucket that caps one direction's throughput, shared by every connection in that direction
 * (a WAN link's bandwidth is shared too). It is pure arithmetic over a caller-supplied {@code
 * nowNanos}, so it can be tested without sockets or real time; callers wait themselves.
 */
final class TokenBucket {
  /**
   * Tokens pile up to 100 ms worth. The bucket must absorb a sender that wakes up late (a busy
   * 2-core CI machine easily delays a wake-up by tens of milliseconds) or the link runs below its
   * cap; a fresh cap starts empty, so this slack never shows as an initial burst.
   */
  static final long BURST_DIVISOR = 10;

  private long bytesPerSecond;
  private long capacityBytes;
  private double tokens;
  private long lastRefillNanos;

  TokenBucket(long nowNanos) {
    this.lastRefillNanos = nowNanos;
  }

  /** Sets a new rate (0 = unlimited). Earlier credit is kept only up to the new burst size. */
  synchronized void rate(long bytesPerSecond, long nowNanos) {
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("negative rate " + bytesPerSecond);
    }
    refill(nowNanos);
    boolean wasUnlimited = this.bytesPerSecond == 0;
    this.bytesPerSecond = bytesPerSecond;
    this.capacityBytes = Math.max(1, bytesPerSecond / BURST_DIVISOR);
    // Going from unlimited to limited starts empty, so a measured transfer sees the cap from its
    // first byte; otherwise credit is trimmed to the new burst size and any debt is kept, so the
    // cap cannot be dodged by changing it.
    tokens = wasUnlimited ? 0 : Math.min(tokens, capacityBytes);
  }

  synchronized long rate() {
    return bytesPerSecond;
  }

  /**
   * The largest piece a sender should take at once, so that a slow link sends a steady trickle
   * instead of long silences between big bursts.
   */
  synchronized int maxPieceBytes(int wanted) {
    if (bytesPerSecond == 0) {
      return wanted;
    }
    return (int) Math.min(wanted, capacityBytes);
  }

  /**
   * Takes {@code bytes} tokens if enough are there and returns 0; otherwise takes nothing and
   * returns how many nanoseconds to wait before asking again. A request larger than the bucket
   * (possible when the rate shrank after the piece was sized) is granted once the bucket is full,
   * leaving a debt that later requests pay off, so the long-run rate still holds.
   */
  synchronized long tryTake(int bytes, long nowNanos) {
    if (bytesPerSecond == 0) {
      return 0;
    }
    refill(nowNanos);
    double needed = Math.min(bytes, capacityBytes);
    if (tokens >= needed) {
      tokens -= bytes;
      return 0;
    }
    double missing = needed - tokens;
    return Math.max(1, (long) Math.ceil(missing * 1e9 / bytesPerSecond));
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - lastRefillNanos;
    if (elapsed > 0) {
      lastRefillNanos = nowNanos;
      if (bytesPerSecond > 0) {
        tokens = Math.min(capacityBytes, tokens + elapsed * (bytesPerSecond / 1e9));
      }
    }
  }
}
