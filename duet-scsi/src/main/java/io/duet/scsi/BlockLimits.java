package io.duet.scsi;

import io.duet.store.Volume;

/**
 * The limits Duet advertises in the Block Limits VPD page (0xB0) and enforces, in logical blocks.
 * One place so that what INQUIRY reports and what the commands accept cannot drift apart.
 *
 * @param blockSize logical block size in bytes
 * @param maxTransferBlocks largest READ/WRITE/VERIFY transfer
 * @param optimalTransferBlocks preferred transfer size
 * @param granularityBlocks optimal transfer and unmap granularity (store's hole granularity)
 * @param maxUnmapBlocks most blocks one UNMAP may deallocate in total
 * @param maxUnmapDescriptors most block descriptors in one UNMAP parameter list
 * @param maxWriteSameBlocks most blocks one WRITE SAME may cover
 * @param maxCompareAndWriteBlocks most blocks one COMPARE AND WRITE may cover
 * @param maxAtomicTransferBlocks most blocks one WRITE ATOMIC may cover (the store's atomic limit)
 * @param atomicAlignmentBlocks WRITE ATOMIC's LBA must be a multiple of this
 * @param atomicGranularityBlocks WRITE ATOMIC's length must be a multiple of this
 */
record BlockLimits(
    int blockSize,
    int maxTransferBlocks,
    int optimalTransferBlocks,
    int granularityBlocks,
    int maxUnmapBlocks,
    int maxUnmapDescriptors,
    int maxWriteSameBlocks,
    int maxCompareAndWriteBlocks,
    int maxAtomicTransferBlocks,
    int atomicAlignmentBlocks,
    int atomicGranularityBlocks) {

  /** Matches the iSCSI layer's largest command; libiscsi 1.19 writes 65536 x 512 B at once. */
  static final int MAX_TRANSFER_BYTES = 32 << 20;

  static final int OPTIMAL_TRANSFER_BYTES = 1 << 20;

  /** libiscsi treats an explicit limit above 1M blocks as insane; 1M blocks is generous. */
  static final int MAX_UNMAP_BLOCKS = 1 << 20;

  static final int MAX_UNMAP_DESCRIPTORS = 256;

  /**
   * WRITE SAME covers at most this many bytes per command: enough for fast zeroing and discard
   * while keeping one command's time bounded.
   */
  static final int MAX_WRITE_SAME_BYTES = 128 << 20;

  /** The CDB field is one byte; any larger limit could not be expressed. */
  static final int MAX_COMPARE_AND_WRITE_BLOCKS = 255;

  /**
   * WRITE ATOMIC's unit: one file-system page, so an atomic write never shares a page of the volume
   * file with data outside it (for 4 KiB volumes this is one block, i.e. no constraint).
   */
  static final int ATOMIC_UNIT_BYTES = 4096;

  static BlockLimits forVolume(int blockSize, int unmapGranularityBytes) {
    int granularity = Math.max(1, unmapGranularityBytes / blockSize);
    return new BlockLimits(
        blockSize,
        MAX_TRANSFER_BYTES / blockSize,
        OPTIMAL_TRANSFER_BYTES / blockSize,
        granularity,
        MAX_UNMAP_BLOCKS,
        MAX_UNMAP_DESCRIPTORS,
        MAX_WRITE_SAME_BYTES / blockSize,
        MAX_COMPARE_AND_WRITE_BLOCKS,
        Volume.MAX_ATOMIC_WRITE_BYTES / blockSize,
        Math.max(1, ATOMIC_UNIT_BYTES / blockSize),
        Math.max(1, ATOMIC_UNIT_BYTES / blockSize));
  }
}
