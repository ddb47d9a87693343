package io.duet.scsi;

import io.duet.scsi.ReservationState.Held;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * Builds the PERSISTENT RESERVE IN parameter data (SPC-4 6.15): READ KEYS, READ RESERVATION, REPORT
 * CAPABILITIES and READ FULL STATUS. Lengths in the headers always describe the full data;
 * truncation to the allocation length happens afterwards.
 */
final class ReservationReports {
  static final int READ_KEYS = 0x00;
  static final int READ_RESERVATION = 0x01;
  static final int REPORT_CAPABILITIES = 0x02;
  static final int READ_FULL_STATUS = 0x03;

  /** ALLOW COMMANDS 010b: TEST UNIT READY passes WE and EA; the read-like SPC commands pass WE. */
  static final int ALLOW_COMMANDS = 0x2;

  private ReservationReports() {}

  static byte[] readKeys(ReservationState s) {
    ByteBuffer b = ByteBuffer.allocate(8 + 8 * s.registrations().size());
    b.putInt(s.generation()).putInt(8 * s.registrations().size());
    s.registrations().forEach(r -> b.putLong(r.key()));
    return b.array();
  }

  static byte[] readReservation(ReservationState s) {
    Held held = s.reservation();
    if (held == null) {
      return ByteBuffer.allocate(8).putInt(s.generation()).putInt(0).array();
    }
    ByteBuffer b = ByteBuffer.allocate(24).putInt(s.generation()).putInt(16);
    Registration holder = s.holderRegistration();
    // All-registrants reservations report key zero (SPC-4 6.15.3.3).
    b.putLong(holder == null ? 0 : holder.key());
    b.put(21, (byte) held.type().code()); // scope LU_SCOPE (0h) in the high nibble
    return b.array();
  }

  static byte[] reportCapabilities(ReservationState s) {
    byte[] d = new byte[8];
    d[1] = 8;
    // CRH: SPC-2 RESERVE/RELEASE follow SPC-4's compatible handling; SIP_C, ATP_C, PTPL_C.
    d[2] = (byte) (0x10 | 0x08 | 0x04 | 0x01);
    d[3] = (byte) (0x80 | (ALLOW_COMMANDS << 4) | (s.aptpl() ? 0x01 : 0x00)); // TMV, PTPL_A
    int mask = 0;
    for (ReservationType t : ReservationType.values()) {
      mask |= t.typeMaskBit();
    }
    d[4] = (byte) (mask >>> 8);
    d[5] = (byte) mask;
    return d;
  }

  static byte[] readFullStatus(ReservationState s) {
    ByteArrayOutputStream descriptors = new ByteArrayOutputStream();
    Held held = s.reservation();
    for (Registration r : s.registrations()) {
      byte[] tid = r.initiator().encode();
      ByteBuffer d = ByteBuffer.allocate(24 + tid.length);
      d.putLong(r.key());
      boolean holder =
          held != null && (held.type().allRegistrants() || r.identity().equals(held.holder()));
      d.put(12, (byte) ((r.allTargetPorts() ? 0x02 : 0) | (holder ? 0x01 : 0)));
      if (holder) {
        d.put(13, (byte) held.type().code());
      }
      // With ALL_TG_PT the relative port id carries no meaning (SPC-4); report the one used.
      d.putShort(18, (short) r.targetPort().relativeId());
      d.putInt(20, tid.length);
      d.put(24, tid);
      descriptors.writeBytes(d.array());
    }
    byte[] body = descriptors.toByteArray();
    ByteBuffer b = ByteBuffer.allocate(8 + body.length);
    b.putInt(s.generation()).putInt(body.length).put(body);
    return b.array();
  }
}
