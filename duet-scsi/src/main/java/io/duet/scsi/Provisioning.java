package io.duet.scsi;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Thin provisioning (SBC-3 4.7): UNMAP, WRITE SAME with and without the UNMAP bit, and GET LBA
 * STATUS. What these do matches what the Logical Block Provisioning VPD page claims: LBPU, LBPWS,
 * LBPWS10 and LBPRZ set, ANC_SUP clear (ANCHOR is refused by the CDB usage masks).
 */
final class Provisioning {
  /** WRITE SAME of a non-zero pattern writes through a buffer of at most this many bytes. */
  private static final int PATTERN_BUFFER_BYTES = 1 << 20;

  /** GET LBA STATUS returns at most this many descriptors, however large the allocation. */
  private static final int MAX_LBA_STATUS_DESCRIPTORS = 64;

  private final Volume volume;
  private final BlockLimits limits;
  private final ModePages modePages;

  Provisioning(Volume volume, BlockLimits limits, ModePages modePages) {
    this.volume = volume;
    this.modePages = modePages;
    this.limits = limits;
  }

  /** WRITE SAME(10/16): UNMAP bit, NDOB (16 only), zero blocks = to the end of the medium. */
  ScsiResult writeSame(byte[] cdb, ByteBuffer dataOut) {
    boolean sixteen = (cdb[0] & 0xff) == 0x93;
    boolean unmap = (cdb[1] & 0x08) != 0;
    boolean ndob = sixteen && (cdb[1] & 0x01) != 0;
    long lba = Lba.lba(cdb);
    long blocks = Lba.blocks(cdb);
    long capacity = volume.blockCount();
    if (lba < 0 || lba > capacity) {
      return Sense.lbaOutOfRange();
    }
    if (blocks == 0) {
      blocks = capacity - lba; // WSNZ is 0: zero means "through the last block"
    }
    if (blocks > limits.maxWriteSameBlocks()) {
      return Sense.invalidCdbField(Lba.blocksField(cdb));
    }
    if (!Lba.inRange(lba, blocks, capacity)) {
      return Sense.lbaOutOfRange();
    }
    int bs = limits.blockSize();
    ByteBuffer pattern = null;
    if (!ndob) {
      if (dataOut.remaining() < bs) {
        return Sense.dataOutTooShort();
      }
      pattern = dataOut.slice(dataOut.position(), bs);
    }
    if (blocks == 0) {
      return Sense.good();
    }
    try {
      // With UNMAP set the blocks are deallocated whatever the pattern: they read back as zeros
      // (LBPRZ), which is what initiators (and libiscsi) expect of WRITE SAME with UNMAP.
      if (unmap) {
        volume.unmap(lba * bs, blocks * bs);
      } else if (pattern == null || isZero(pattern)) {
        volume.writeZeroes(lba * bs, blocks * bs, false);
      } else {
        writePattern(lba * bs, blocks * bs, pattern);
      }
      // WCE=0: GOOD only once the blocks are durable, as for every write; zeroing and deallocating
      // have no FUA of their own, so one flush covers the whole command.
      if (!modePages.writeCacheEnabled()) {
        volume.flush();
      }
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x0c, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    return Sense.good();
  }

  private void writePattern(long offset, long length, ByteBuffer pattern) throws IOException {
    int bs = pattern.remaining();
    int perBuffer = (int) Math.min(length, Math.max(bs, PATTERN_BUFFER_BYTES / bs * bs));
    ByteBuffer buf = ByteBuffer.allocate(perBuffer);
    while (buf.hasRemaining()) {
      buf.put(pattern.duplicate());
    }
    for (long done = 0; done < length; done += perBuffer) {
      int n = (int) Math.min(perBuffer, length - done);
      volume.write(offset + done, buf.clear().limit(n), false);
    }
  }

  private static boolean isZero(ByteBuffer b) {
    for (int i = b.position(); i < b.limit(); i++) {
      if (b.get(i) != 0) {
        return false;
      }
    }
    return true;
  }

  /** UNMAP: validates every descriptor before deallocating anything. */
  ScsiResult unmap(byte[] cdb, ByteBuffer dataOut) {
    int paramLength = BigEndian.u16(cdb, 7);
    if (paramLength == 0) {
      return Sense.good();
    }
    if (paramLength < 8) {
      return Sense.parameterListLength();
    }
    if (dataOut.remaining() < paramLength) {
      return Sense.dataOutTooShort();
    }
    byte[] p = new byte[paramLength];
    dataOut.get(dataOut.position(), p);
    int descriptorBytes = Math.min(BigEndian.u16(p, 2), paramLength - 8);
    int count = descriptorBytes / 16;
    if (count > limits.maxUnmapDescriptors()) {
      return Sense.invalidParameterField(2);
    }
    long capacity = volume.blockCount();
    long total = 0;
    for (int i = 0; i < count; i++) {
      int at = 8 + 16 * i;
      long lba = BigEndian.u64(p, at);
      long blocks = BigEndian.u32(p, at + 8);
      if (!Lba.inRange(lba, blocks, capacity)) {
        return Sense.lbaOutOfRange();
      }
      total += blocks;
      if (total > limits.maxUnmapBlocks()) {
        return Sense.invalidParameterField(at + 8);
      }
    }
    int bs = limits.blockSize();
    try {
      for (int i = 0; i < count; i++) {
        int at = 8 + 16 * i;
        long blocks = BigEndian.u32(p, at + 8);
        if (blocks > 0) {
          volume.unmap(BigEndian.u64(p, at) * bs, blocks * bs);
        }
      }
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x0c, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    return Sense.good();
  }

  /** GET LBA STATUS: runs of mapped / deallocated blocks from the starting LBA. */
  ScsiResult lbaStatus(byte[] cdb) {
    long lba = BigEndian.u64(cdb, 2);
    long alloc = BigEndian.u32(cdb, 10);
    long capacity = volume.blockCount();
    if (lba < 0 || lba >= capacity) {
      return Sense.lbaOutOfRange();
    }
    int room = (int) Math.max(1, Math.min(MAX_LBA_STATUS_DESCRIPTORS, (alloc - 8) / 16));
    byte[] d = new byte[8 + 16 * room];
    int bs = limits.blockSize();
    int n = 0;
    try {
      long at = lba;
      while (n < room && at < capacity) {
        long maxBlocks = Math.min(capacity - at, 0xffffffffL);
        Volume.Extent e = volume.allocation(at * bs, maxBlocks * bs);
        long blocks = Math.max(1, Math.min(maxBlocks, e.length() / bs));
        int o = 8 + 16 * n;
        BigEndian.put64(d, o, at);
        BigEndian.put32(d, o + 8, blocks);
        d[o + 12] = (byte) (e.allocated() ? 0 : 1); // 0 mapped, 1 deallocated
        at += blocks;
        n++;
      }
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x11, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    int length = 8 + 16 * n;
    BigEndian.put32(d, 0, length - 4);
    return Sense.good(ByteBuffer.wrap(d, 0, (int) Math.min(alloc, length)));
  }
}
