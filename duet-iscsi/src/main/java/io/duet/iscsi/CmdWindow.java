package io.duet.iscsi;

/**
 * The CmdSN window of one session (RFC 7143 4.2.2.1): accepts non-immediate commands whose CmdSN
 * lies in [ExpCmdSN, MaxCmdSN] and advertises MaxCmdSN = ExpCmdSN + (window - in flight) - 1. That
 * value never decreases (receiving a command raises ExpCmdSN and the count in flight together,
 * completing one lowers the count), which matters because initiators ignore a MaxCmdSN that goes
 * down. Back-pressure therefore comes from not completing commands.
 */
final class CmdWindow {
  private final int window;
  private int expCmdSn;
  private int inFlight;

  CmdWindow(int initialCmdSn, int window) {
    this.expCmdSn = initialCmdSn;
    this.window = window;
  }

  /** Serial number arithmetic (RFC 1982, 32 bits): a before b. */
  static boolean before(int a, int b) {
    return a != b && (b - a) > 0;
  }

  /**
   * Admits a command. Immediate commands are always admitted and do not advance ExpCmdSN.
   *
   * @return false when the CmdSN is outside the window: the PDU must be dropped silently
   */
  synchronized boolean admit(int cmdSn, boolean immediate) {
    if (immediate) {
      return true;
    }
    int max = maxCmdSn();
    if (before(cmdSn, expCmdSn) || before(max, cmdSn)) {
      return false;
    }
    // A gap (CmdSN above ExpCmdSN) only happens when a PDU was lost to a digest error; with one
    // connection the missing command will never come, so move past it.
    expCmdSn = cmdSn + 1;
    inFlight++;
    return true;
  }

  /** A non-immediate command admitted earlier has completed (its response is on the wire). */
  synchronized void completed() {
    if (inFlight <= 0) {
      throw new IllegalStateException("completed more commands than admitted");
    }
    inFlight--;
  }

  synchronized int expCmdSn() {
    return expCmdSn;
  }

  synchronized int maxCmdSn() {
    return expCmdSn + Math.max(0, window - inFlight) - 1;
  }

  synchronized int inFlight() {
    return inFlight;
  }
}
