package io.duet.scsi;

/** Asymmetric access states of SPC-4 with their codes in REPORT TARGET PORT GROUPS. */
public enum AluaState {
  ACTIVE_OPTIMIZED(0x0),
  ACTIVE_NON_OPTIMIZED(0x1),
  STANDBY(0x2),
  UNAVAILABLE(0x3),
  TRANSITIONING(0xf);

  private final int code;

  AluaState(int code) {
    this.code = code;
  }

  /** The 4-bit code of SPC-4's ASYMMETRIC ACCESS STATE field. */
  public int code() {
    return code;
  }
}
