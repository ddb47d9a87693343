package io.duet.scsi;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * A logical unit's whole shared state as one site sends it to the other when that one
 * resynchronizes: the caching page's WCE, the SPC-2 reservation holder and the persistent
 * reservations. Encoded and decoded side by side; decoding never throws anything but
 * IllegalArgumentException saying what is wrong.
 *
 * <pre>
 * u32 magic "DSS1" | u8 version | version-specific
 *   version 2: u8 WCE (0 or 1) | str SPC-2 holder ("" for none) | ReservationCodec bytes
 *   version 1: str SPC-2 holder ("" for none) | ReservationCodec bytes
 * str = u16 length + UTF-8
 * </pre>
 *
 * Version 1 comes from a site that kept WCE per site; it is still read, so a site can resync from
 * one that has not been upgraded yet.
 *
 * @param writeCache WCE, or null when the snapshot does not say (version 1): the sender never
 *     shared a WCE, so the installing site keeps its own rather than invent one
 * @param legacyHolder the SPC-2 reservation holder as {@link UnitAttentions#key}, or null
 * @param reservations the persistent reservation state
 */
record UnitSnapshot(Boolean writeCache, String legacyHolder, ReservationState reservations) {
  static final int MAGIC = 0x44535331; // "DSS1"
  static final int VERSION_WITHOUT_WCE = 1;
  static final int VERSION = 2;

  /** Version 2 bytes; a snapshot taken here always says WCE. */
  byte[] encode() {
    if (writeCache == null) {
      throw new IllegalStateException("a snapshot to send must say WCE");
    }
    byte[] persistent = ReservationCodec.encode(reservations);
    String holder = legacyHolder == null ? "" : legacyHolder;
    ByteBuffer b =
        ByteBuffer.allocate(
            4 + 1 + 1 + 2 + ReservationCodec.utf8(holder).length + persistent.length);
    b.putInt(MAGIC).put((byte) VERSION);
    b.put((byte) (writeCache ? 1 : 0));
    ReservationCodec.putString(b, holder);
    return b.put(persistent).array();
  }

  static UnitSnapshot decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    try {
      if (b.getInt() != MAGIC) {
        throw new IllegalArgumentException("not a shared unit snapshot (bad magic)");
      }
      int version = b.get() & 0xff;
      Boolean writeCache =
          switch (version) {
            case VERSION -> wce(b.get() & 0xff);
            case VERSION_WITHOUT_WCE -> null;
            default ->
                throw new IllegalArgumentException("unsupported snapshot version " + version);
          };
      String holder = ReservationCodec.getString(b);
      byte[] persistent = new byte[b.remaining()];
      b.get(persistent);
      ReservationState reservations = ReservationCodec.decode(persistent);
      return new UnitSnapshot(writeCache, holder.isEmpty() ? null : holder, reservations);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("shared unit snapshot is truncated", e);
    }
  }

  private static boolean wce(int value) {
    if (value > 1) {
      throw new IllegalArgumentException("bad WCE value " + value + " in snapshot");
    }
    return value == 1;
  }
}
