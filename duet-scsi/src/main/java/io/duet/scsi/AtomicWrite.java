package io.duet.scsi;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * WRITE ATOMIC(16) (SBC-4): the blocks are written as one indivisible update through {@link
 * Volume#writeAtomic} — after a power loss, or to a concurrent reader, the range is all old or all
 * new. The limits come from {@link BlockLimits}, the same values the Block Limits VPD page
 * advertises: LBA a multiple of the atomic alignment, length a multiple of the granularity and at
 * most the maximum atomic transfer length (else 05/24/00). The dispatcher has already checked
 * reserved bits (WRPROTECT, ATOMIC BOUNDARY), ALUA, reservations and write protection.
 */
final class AtomicWrite {
  private static final int LBA_FIELD = 2;
  private static final int LENGTH_FIELD = 12;

  private final Volume volume;
  private final BlockLimits limits;
  private final ModePages modePages;

  AtomicWrite(Volume volume, BlockLimits limits, ModePages modePages) {
    this.volume = volume;
    this.limits = limits;
    this.modePages = modePages;
  }

  ScsiResult execute(byte[] cdb, ByteBuffer dataOut) {
    long lba = BigEndian.u64(cdb, LBA_FIELD);
    int blocks = BigEndian.u16(cdb, LENGTH_FIELD);
    // Range first: libiscsi expects LBA OUT OF RANGE even for lengths past the atomic maximum.
    if (!Lba.inRange(lba, blocks, volume.blockCount())) {
      return Sense.lbaOutOfRange();
    }
    if (lba % limits.atomicAlignmentBlocks() != 0) {
      return Sense.invalidCdbField(LBA_FIELD);
    }
    if (blocks % limits.atomicGranularityBlocks() != 0
        || blocks > limits.maxAtomicTransferBlocks()) {
      return Sense.invalidCdbField(LENGTH_FIELD);
    }
    if (blocks == 0) {
      return Sense.good();
    }
    int bytes = blocks * limits.blockSize();
    if (dataOut.remaining() < bytes) {
      // Unlike WRITE, never write the blocks that did arrive: a partial atomic write is no
      // atomic write.
      return Sense.dataOutTooShort();
    }
    boolean fua = (cdb[1] & 0x08) != 0 || !modePages.writeCacheEnabled();
    try {
      volume.writeAtomic(lba * limits.blockSize(), dataOut.slice(dataOut.position(), bytes), fua);
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x0c, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    return Sense.good();
  }
}
