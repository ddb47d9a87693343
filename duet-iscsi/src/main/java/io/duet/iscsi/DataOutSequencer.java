package io.duet.iscsi;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Tracks the Data-Out of one write command (RFC 7143 4.2.5, 11.7): immediate data, then an
 * unsolicited burst up to FirstBurstLength (when InitialR2T=No), then R2Ts of at most
 * MaxBurstLength each, no more than MaxOutstandingR2T at once. Checks every Data-Out's TTT, DataSN,
 * BufferOffset and F bit, and says where its bytes go. Only the bytes the command takes ({@code
 * wanted}) are solicited or kept; extra unsolicited bytes are read and dropped. Pure state, no I/O:
 * one reader thread drives it.
 */
final class DataOutSequencer {
  /** Where the bytes of an accepted Data-Out go: into the buffer at offset, the rest dropped. */
  record Placement(int bufferOffset, int keepBytes) {}

  /** One R2T to send. */
  record R2t(int ttt, int r2tSn, int offset, int length) {}

  /** A Data-Out that breaks the sequence; the command ends with ABORTED COMMAND asc/ascq. */
  static final class SequenceError extends Exception {
    private static final long serialVersionUID = 1L;

    final int asc;
    final int ascq;

    SequenceError(int asc, int ascq, String message) {
      super(message);
      this.asc = asc;
      this.ascq = ascq;
    }
  }

  private static final class Burst {
    final int ttt;
    final int offset;
    final int length;
    int received;
    int nextDataSn;

    Burst(int ttt, int offset, int length) {
      this.ttt = ttt;
      this.offset = offset;
      this.length = length;
    }
  }

  private final int wanted;
  private final int unsolicitedLimit;
  private final int maxBurst;
  private final int maxOutstanding;
  private final IntSupplier tttSource;

  private int unsolicitedEnd;
  private int unsolicitedDataSn;
  private boolean unsolicitedDone;
  private int nextSolicitOffset = -1;
  private int r2tSn;
  private final ArrayDeque<Burst> outstanding = new ArrayDeque<>();

  /**
   * @param wanted bytes the command takes and we keep (0 when nothing is solicited)
   * @param edtl the command's Expected Data Transfer Length
   * @param immediateBytes data segment length of the SCSI Command PDU
   * @param params the session's negotiated values
   * @param tttSource hands out Target Transfer Tags unique on the connection
   */
  DataOutSequencer(
      int wanted, int edtl, int immediateBytes, SessionParams params, IntSupplier tttSource) {
    if (wanted < 0 || wanted > (edtl & 0xffffffffL)) {
      throw new IllegalArgumentException("wanted " + wanted + " edtl " + edtl);
    }
    this.wanted = wanted;
    this.maxBurst = params.maxBurstLength();
    this.maxOutstanding = params.maxOutstandingR2T();
    this.tttSource = tttSource;
    this.unsolicitedEnd = immediateBytes;
    long edtlUnsigned = edtl & 0xffffffffL;
    this.unsolicitedLimit =
        params.initialR2T()
            ? immediateBytes
            : (int) Math.max(immediateBytes, Math.min(edtlUnsigned, params.firstBurstLength()));
    // With nothing more to come unsolicited, the unsolicited phase is already over.
    this.unsolicitedDone = unsolicitedEnd >= unsolicitedLimit;
  }

  /** Where the immediate data of the command PDU goes. */
  Placement immediate(int length) {
    return new Placement(0, Math.min(length, wanted));
  }

  /** All data the command takes has arrived (and no unsolicited PDU is still due). */
  boolean complete() {
    return unsolicitedDone && outstanding.isEmpty() && solicitStart() >= wanted;
  }

  /** R2Ts sent so far: the ExpDataSN of a write's SCSI Response. */
  int r2tCount() {
    return r2tSn;
  }

  private int solicitStart() {
    return nextSolicitOffset >= 0 ? nextSolicitOffset : Math.min(unsolicitedEnd, wanted);
  }

  /** R2Ts to send now (none until the unsolicited burst is over). */
  List<R2t> nextR2ts() {
    if (!unsolicitedDone) {
      return List.of();
    }
    List<R2t> out = new ArrayList<>(2);
    int offset = solicitStart();
    while (offset < wanted && outstanding.size() < maxOutstanding) {
      int length = Math.min(maxBurst, wanted - offset);
      Burst b = new Burst(tttSource.getAsInt(), offset, length);
      outstanding.addLast(b);
      out.add(new R2t(b.ttt, r2tSn++, offset, length));
      offset += length;
    }
    nextSolicitOffset = offset;
    return out;
  }

  /** Validates one Data-Out header and says where its data goes. */
  Placement dataOut(int ttt, int dataSn, int offset, int length, boolean finalBit)
      throws SequenceError {
    if (ttt == Bhs.RESERVED_TAG) {
      return unsolicited(dataSn, offset, length, finalBit);
    }
    Burst b = null;
    for (Burst candidate : outstanding) {
      if (candidate.ttt == ttt) {
        b = candidate;
        break;
      }
    }
    if (b == null) {
      throw new SequenceError(0x4b, 0x01, "Data-Out with unknown TTT " + Integer.toHexString(ttt));
    }
    if (dataSn != b.nextDataSn) {
      throw new SequenceError(0x4b, 0x00, "DataSN " + dataSn + ", expected " + b.nextDataSn);
    }
    if (offset != b.offset + b.received) {
      throw new SequenceError(
          0x4b, 0x05, "BufferOffset " + offset + ", expected " + (b.offset + b.received));
    }
    if (length > b.length - b.received) {
      throw new SequenceError(0x4b, 0x02, "Data-Out beyond the R2T's desired length");
    }
    b.received += length;
    b.nextDataSn++;
    boolean burstDone = b.received == b.length;
    if (finalBit != burstDone) {
      throw new SequenceError(
          0x4b, 0x00, finalBit ? "F bit before the burst ended" : "burst ended without F bit");
    }
    if (burstDone) {
      outstanding.remove(b);
    }
    return new Placement(offset, length);
  }

  private Placement unsolicited(int dataSn, int offset, int length, boolean finalBit)
      throws SequenceError {
    if (unsolicitedDone) {
      throw new SequenceError(0x4b, 0x00, "unsolicited Data-Out after the first burst ended");
    }
    if (dataSn != unsolicitedDataSn) {
      throw new SequenceError(0x4b, 0x00, "DataSN " + dataSn + ", expected " + unsolicitedDataSn);
    }
    if (offset != unsolicitedEnd) {
      throw new SequenceError(
          0x4b, 0x05, "BufferOffset " + offset + ", expected " + unsolicitedEnd);
    }
    if (length > unsolicitedLimit - unsolicitedEnd) {
      throw new SequenceError(0x4b, 0x02, "unsolicited data beyond FirstBurstLength");
    }
    unsolicitedDataSn++;
    unsolicitedEnd += length;
    if (finalBit) {
      unsolicitedDone = true;
    } else if (unsolicitedEnd == unsolicitedLimit) {
      throw new SequenceError(0x4b, 0x00, "unsolicited burst ended without F bit");
    }
    int keep = Math.max(0, Math.min(length, wanted - offset));
    return new Placement(keep == 0 ? 0 : offset, keep);
  }
}
