package io.duet.sync;

/**
 * Tuning of one consistency group's synchronous replication, with the defaults for a metro link in
 * one place. Times are milliseconds, rates bytes per second.
 *
 * @param heartbeatIntervalMs how often each site sends a heartbeat
 * @param leaseMs how long one lease grant lets the follower serve, on its own clock
 * @param leaseMarginMs extra time the leader waits after the lease to cover clock-rate drift
 * @param peerTimeoutMs silence after which a site declares the session with its peer lost
 * @param resyncBytesPerSecond rate limit of resync copies
 * @param resyncWindowRegions resync regions in flight at once
 * @param autoResync start resynchronizing as soon as the link is back
 * @param autoRecover let the follower serve again as soon as a resync has finished
 */
public record SyncSettings(
    long heartbeatIntervalMs,
    long leaseMs,
    long leaseMarginMs,
    long peerTimeoutMs,
    long resyncBytesPerSecond,
    int resyncWindowRegions,
    boolean autoResync,
    boolean autoRecover) {
  public static final long HEARTBEAT_INTERVAL_DEFAULT_MS = 1_000;
  public static final long LEASE_DEFAULT_MS = 5_000;
  public static final long LEASE_MARGIN_DEFAULT_MS = 500;
  public static final long PEER_TIMEOUT_DEFAULT_MS = 3_000;
  public static final long RESYNC_RATE_DEFAULT_BYTES_PER_SECOND = 200L << 20;

  /**
   * Resync regions in flight (32 of 64 KiB = 2 MiB): the follower makes each batch durable before
   * acknowledging it, so the window must cover the default rate over one fdatasync of a few ms.
   */
  public static final int RESYNC_WINDOW_DEFAULT_REGIONS = 32;

  public SyncSettings {
    if (heartbeatIntervalMs <= 0 || leaseMs <= 0 || leaseMarginMs < 0 || peerTimeoutMs <= 0) {
      throw new IllegalArgumentException("heartbeat, lease and peer timeout must be positive");
    }
    if (heartbeatIntervalMs >= leaseMs) {
      throw new IllegalArgumentException("the lease must outlast several heartbeats");
    }
    if (resyncBytesPerSecond <= 0 || resyncWindowRegions <= 0) {
      throw new IllegalArgumentException("resync rate and window must be positive");
    }
  }

  /** The defaults: heartbeat 1 s, lease 5 s (+0.5 s margin), peer timeout 3 s, 200 MiB/s. */
  public static SyncSettings defaults() {
    return new SyncSettings(
        HEARTBEAT_INTERVAL_DEFAULT_MS,
        LEASE_DEFAULT_MS,
        LEASE_MARGIN_DEFAULT_MS,
        PEER_TIMEOUT_DEFAULT_MS,
        RESYNC_RATE_DEFAULT_BYTES_PER_SECOND,
        RESYNC_WINDOW_DEFAULT_REGIONS,
        true,
        true);
  }

  /** Whether heartbeat, lease, lease margin and peer timeout equal {@code other}'s. */
  boolean sameTiming(SyncSettings other) {
    return heartbeatIntervalMs == other.heartbeatIntervalMs
        && leaseMs == other.leaseMs
        && leaseMarginMs == other.leaseMarginMs
        && peerTimeoutMs == other.peerTimeoutMs;
  }

  public SyncSettings withTimes(long heartbeatMs, long leaseMs, long marginMs, long timeoutMs) {
    return new SyncSettings(
        heartbeatMs,
        leaseMs,
        marginMs,
        timeoutMs,
        resyncBytesPerSecond,
        resyncWindowRegions,
        autoResync,
        autoRecover);
  }

  public SyncSettings withResyncRate(long bytesPerSecond) {
    return new SyncSettings(
        heartbeatIntervalMs,
        leaseMs,
        leaseMarginMs,
        peerTimeoutMs,
        bytesPerSecond,
        resyncWindowRegions,
        autoResync,
        autoRecover);
  }

  public SyncSettings withAuto(boolean resync, boolean recover) {
    return new SyncSettings(
        heartbeatIntervalMs,
        leaseMs,
        leaseMarginMs,
        peerTimeoutMs,
        resyncBytesPerSecond,
        resyncWindowRegions,
        resync,
        recover);
  }
}
