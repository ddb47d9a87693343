package io.duet.sync.link;

/**
 * Tunables of a peer link, with units in the names. {@link #DEFAULTS} suit a metro link: a dead
 * peer is noticed within {@code idleTimeoutMs} and redialed with backoff capped at {@code
 * backoffMaxMs}.
 *
 * @param maxFrameBytes largest payload accepted or sent; a bigger length closes the connection
 * @param sendQueueFrames frames that may wait to be written before {@code send} returns false
 * @param keepaliveIntervalMs an idle sender emits an empty frame this often
 * @param idleTimeoutMs a link that receives nothing (not even keepalives) this long is down
 * @param connectTimeoutMs TCP connect timeout of a dial
 * @param handshakeTimeoutMs TLS handshake plus link hello must finish within this
 * @param backoffInitialMs first pause after a failed dial; doubles each failure
 * @param backoffMaxMs cap of that pause
 */
public record LinkSettings(
    int maxFrameBytes,
    int sendQueueFrames,
    long keepaliveIntervalMs,
    long idleTimeoutMs,
    int connectTimeoutMs,
    int handshakeTimeoutMs,
    long backoffInitialMs,
    long backoffMaxMs) {
  public static final int MAX_FRAME_BYTES_DEFAULT = 64 * 1024 * 1024;

  /** Defaults for a metro link. */
  public static final LinkSettings DEFAULTS =
      new LinkSettings(MAX_FRAME_BYTES_DEFAULT, 1024, 1_000, 5_000, 3_000, 5_000, 100, 5_000);

  public LinkSettings {
    if (maxFrameBytes < 16 || maxFrameBytes > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("maxFrameBytes out of range: " + maxFrameBytes);
    }
    if (sendQueueFrames < 1 || sendQueueFrames > 1_000_000) {
      throw new IllegalArgumentException("sendQueueFrames out of range: " + sendQueueFrames);
    }
    if (keepaliveIntervalMs < 1 || idleTimeoutMs <= keepaliveIntervalMs) {
      throw new IllegalArgumentException(
          "need 0 < keepaliveIntervalMs < idleTimeoutMs: "
              + keepaliveIntervalMs
              + ", "
              + idleTimeoutMs);
    }
    if (idleTimeoutMs > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("idleTimeoutMs too large: " + idleTimeoutMs);
    }
    if (connectTimeoutMs < 1 || handshakeTimeoutMs < 1) {
      throw new IllegalArgumentException("timeouts must be positive");
    }
    if (backoffInitialMs < 1 || backoffMaxMs < backoffInitialMs) {
      throw new IllegalArgumentException(
          "need 0 < backoffInitialMs <= backoffMaxMs: " + backoffInitialMs + ", " + backoffMaxMs);
    }
  }

  /** These settings with other liveness timers (tests use short ones). */
  public LinkSettings withTimers(
      long keepaliveMs, long idleMs, long backoffInitMs, long backoffCapMs) {
    return new LinkSettings(
        maxFrameBytes,
        sendQueueFrames,
        keepaliveMs,
        idleMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitMs,
        backoffCapMs);
  }

  /** These settings with another frame limit and queue bound. */
  public LinkSettings withLimits(int maxFrame, int queueFrames) {
    return new LinkSettings(
        maxFrame,
        queueFrames,
        keepaliveIntervalMs,
        idleTimeoutMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitialMs,
        backoffMaxMs);
  }
}
