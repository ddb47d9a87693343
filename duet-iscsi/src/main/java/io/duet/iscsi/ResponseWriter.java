package io.duet.iscsi;

import io.duet.scsi.ScsiResult;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Puts one command's outcome on the wire: Data-In PDUs split at the initiator's
 * MaxRecvDataSegmentLength and MaxBurstLength with GOOD status collapsed into the last one, or a
 * SCSI Response carrying sense data; residuals either way (RFC 7143 11.4, 11.7). Runs under the
 * connection's writer lock.
 */
final class ResponseWriter {
  private static final int FLAG_OVERFLOW = 0x04;
  private static final int FLAG_UNDERFLOW = 0x02;

  private final Connection conn;
  private final PduWriter w;
  private final SessionParams params;

  ResponseWriter(Connection conn, PduWriter w, SessionParams params) {
    this.conn = conn;
    this.w = w;
    this.params = params;
  }

  void send(Task t, ScsiResult r) throws IOException {
    boolean good = r.status() == ScsiResult.GOOD;
    // A private view: the SCSI layer may hand the same buffer to several commands at once.
    ByteBuffer data = r.dataIn() == null ? null : r.dataIn().duplicate();
    long residual;
    long toSend = 0;
    if (t.write) {
      residual = t.writeResidual;
    } else {
      long readEdtl = t.read ? t.edtlUnsigned() : 0;
      long produced = good && data != null ? data.remaining() : 0;
      toSend = Math.min(produced, readEdtl);
      residual = readEdtl - produced;
    }
    int residualFlags = residual > 0 ? FLAG_UNDERFLOW : residual < 0 ? FLAG_OVERFLOW : 0;
    int residualCount = (int) Math.min(Math.abs(residual), 0xffffffffL);
    if (good && toSend > 0) {
      dataIn(t, data, (int) toSend, residualFlags, residualCount);
    } else {
      scsiResponse(t, r, residualFlags, residualCount, t.write ? t.sequencer.r2tCount() : 0);
    }
  }

  private void dataIn(Task t, ByteBuffer data, int total, int residualFlags, int residualCount)
      throws IOException {
    int maxSegment = params.maxSendDataSegmentLength();
    int maxBurst = params.maxBurstLength();
    int base = data.position();
    int savedLimit = data.limit();
    int offset = 0;
    int dataSn = 0;
    int burstLeft = maxBurst;
    try {
      while (offset < total) {
        int length = Math.min(Math.min(maxSegment, total - offset), burstLeft);
        boolean last = offset + length == total;
        burstLeft -= length;
        boolean burstEnd = last || burstLeft == 0;
        Bhs h = w.header();
        h.u8(0, Bhs.DATA_IN);
        h.u8(1, (burstEnd ? 0x80 : 0) | (last ? 0x01 | residualFlags : 0));
        h.i32(16, t.itt);
        h.i32(20, Bhs.RESERVED_TAG);
        h.i32(24, last ? conn.takeStatSn() : 0);
        conn.fillWindow(h);
        h.i32(36, dataSn++);
        h.i32(40, offset);
        if (last) {
          h.i32(44, residualCount);
        }
        data.limit(base + offset + length).position(base + offset);
        w.send(data);
        offset += length;
        if (burstLeft == 0) {
          burstLeft = maxBurst;
        }
      }
    } finally {
      data.limit(savedLimit).position(base);
    }
  }

  private void scsiResponse(
      Task t, ScsiResult r, int residualFlags, int residualCount, int expDataSn)
      throws IOException {
    byte[] sense = r.sense() == null ? new byte[0] : r.sense();
    ByteBuffer segment = null;
    if (sense.length > 0) {
      int n = Math.min(sense.length, 0xffff);
      segment = ByteBuffer.allocate(2 + n);
      segment.putShort((short) n).put(sense, 0, n).flip();
    }
    Bhs h = w.header();
    h.u8(0, Bhs.SCSI_RESPONSE);
    h.u8(1, 0x80 | residualFlags);
    h.u8(2, 0x00); // command completed at target
    h.u8(3, r.status());
    h.i32(16, t.itt);
    h.i32(24, conn.takeStatSn());
    conn.fillWindow(h);
    h.i32(36, expDataSn);
    h.i32(44, residualCount);
    w.send(segment);
  }
}
