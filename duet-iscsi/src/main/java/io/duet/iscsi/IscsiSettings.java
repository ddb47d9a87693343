package io.duet.iscsi;

import java.util.function.LongSupplier;

/**
 * Tunables of the iSCSI target with safe defaults ({@link #DEFAULTS}); lengths in bytes, times in
 * milliseconds, the clock in nanoseconds (injected so tests can drive NOP-In timeouts).
 *
 * @param maxRecvDataSegmentLengthBytes the MaxRecvDataSegmentLength Duet declares
 * @param maxBurstLengthBytes Duet's MaxBurstLength offer (the lower of both sides wins)
 * @param firstBurstLengthBytes Duet's FirstBurstLength offer (the lower of both sides wins)
 * @param maxOutstandingR2T Duet's MaxOutstandingR2T offer
 * @param commandWindow commands in flight per session (MaxCmdSN - ExpCmdSN + 1 when idle)
 * @param maxCommandBytes largest Data-Out one command may carry; bigger ones get CHECK CONDITION
 * @param maxSessionBufferBytes Data-Out bytes buffered per session; beyond it, TASK SET FULL
 * @param nopInIntervalMs idle time before the target pings with NOP-In; 0 disables pings
 * @param nopInTimeoutMs how long a ping may stay unanswered before the connection is dropped
 * @param loginTimeoutMs a connection that has not completed login by then is closed
 * @param targetAlias sent as TargetAlias at login, or null
 * @param nanoClock monotonic time source
 */
public record IscsiSettings(
    int maxRecvDataSegmentLengthBytes,
    int maxBurstLengthBytes,
    int firstBurstLengthBytes,
    int maxOutstandingR2T,
    int commandWindow,
    int maxCommandBytes,
    long maxSessionBufferBytes,
    long nopInIntervalMs,
    long nopInTimeoutMs,
    long loginTimeoutMs,
    String targetAlias,
    LongSupplier nanoClock) {

  public static final int MAX_RECV_DATA_SEGMENT_LENGTH_DEFAULT_BYTES = 256 * 1024;
  public static final int MAX_BURST_LENGTH_DEFAULT_BYTES = 1024 * 1024;
  public static final int FIRST_BURST_LENGTH_DEFAULT_BYTES = 256 * 1024;
  public static final int MAX_OUTSTANDING_R2T_DEFAULT = 16;
  public static final int COMMAND_WINDOW_DEFAULT = 128;
  public static final int MAX_COMMAND_DEFAULT_BYTES = 32 * 1024 * 1024;
  public static final long MAX_SESSION_BUFFER_DEFAULT_BYTES = 128L * 1024 * 1024;
  public static final long NOP_IN_INTERVAL_DEFAULT_MS = 10_000;
  public static final long NOP_IN_TIMEOUT_DEFAULT_MS = 30_000;
  public static final long LOGIN_TIMEOUT_DEFAULT_MS = 30_000;

  /** Production defaults with the system's monotonic clock. */
  public static final IscsiSettings DEFAULTS =
      new IscsiSettings(
          MAX_RECV_DATA_SEGMENT_LENGTH_DEFAULT_BYTES,
          MAX_BURST_LENGTH_DEFAULT_BYTES,
          FIRST_BURST_LENGTH_DEFAULT_BYTES,
          MAX_OUTSTANDING_R2T_DEFAULT,
          COMMAND_WINDOW_DEFAULT,
          MAX_COMMAND_DEFAULT_BYTES,
          MAX_SESSION_BUFFER_DEFAULT_BYTES,
          NOP_IN_INTERVAL_DEFAULT_MS,
          NOP_IN_TIMEOUT_DEFAULT_MS,
          LOGIN_TIMEOUT_DEFAULT_MS,
          null,
          System::nanoTime);

  public IscsiSettings {
    checkRange("maxRecvDataSegmentLengthBytes", maxRecvDataSegmentLengthBytes, 512, 0xffffff);
    checkRange("maxBurstLengthBytes", maxBurstLengthBytes, 512, 0xffffff);
    checkRange("firstBurstLengthBytes", firstBurstLengthBytes, 512, maxBurstLengthBytes);
    checkRange("maxOutstandingR2T", maxOutstandingR2T, 1, 65535);
    checkRange("commandWindow", commandWindow, 1, 1 << 16);
    checkRange("maxCommandBytes", maxCommandBytes, 512, Integer.MAX_VALUE);
    if (maxSessionBufferBytes < maxCommandBytes) {
      throw new IllegalArgumentException("maxSessionBufferBytes < maxCommandBytes");
    }
    if (nopInIntervalMs < 0 || nopInTimeoutMs <= 0 || loginTimeoutMs <= 0) {
      throw new IllegalArgumentException("NOP-In interval/timeout");
    }
    java.util.Objects.requireNonNull(nanoClock, "nanoClock");
  }

  private static void checkRange(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "]: " + value);
    }
  }

  /** A copy with other NOP-In timings. */
  public IscsiSettings withNopIn(long intervalMs, long timeoutMs) {
    return new IscsiSettings(
        maxRecvDataSegmentLengthBytes,
        maxBurstLengthBytes,
        firstBurstLengthBytes,
        maxOutstandingR2T,
        commandWindow,
        maxCommandBytes,
        maxSessionBufferBytes,
        intervalMs,
        timeoutMs,
        loginTimeoutMs,
        targetAlias,
        nanoClock);
  }

  /** A copy with another clock. */
  public IscsiSettings withClock(LongSupplier clock) {
    return new IscsiSettings(
        maxRecvDataSegmentLengthBytes,
        maxBurstLengthBytes,
        firstBurstLengthBytes,
        maxOutstandingR2T,
        commandWindow,
        maxCommandBytes,
        maxSessionBufferBytes,
        nopInIntervalMs,
        nopInTimeoutMs,
        loginTimeoutMs,
        targetAlias,
        clock);
  }
}
