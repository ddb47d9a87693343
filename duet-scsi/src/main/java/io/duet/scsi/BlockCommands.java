package io.duet.scsi;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The SBC-3 data path: READ, WRITE, WRITE AND VERIFY, VERIFY, ORWRITE, COMPARE AND WRITE,
 * PRE-FETCH, SYNCHRONIZE CACHE, READ CAPACITY and READ DEFECT DATA. CDB reserved bits were already
 * checked by the dispatcher; this class checks ranges, lengths and field values. Errors from the
 * volume become sense here: I/O errors 03/11/00 (read) or 03/0C/00 (write), range errors 05/21/00.
 */
final class BlockCommands {
  /** VERIFY reads the medium in chunks of this size so a huge VERIFY needs no huge buffer. */
  private static final int VERIFY_CHUNK_BYTES = 1 << 20;

  /** ORWRITE retries its compare-and-write this often under concurrent writes, then BUSY. */
  private static final int ORWRITE_ATTEMPTS = 16;

  private final Volume volume;
  private final BlockLimits limits;
  private final ModePages modePages;

  BlockCommands(Volume volume, BlockLimits limits, ModePages modePages) {
    this.volume = volume;
    this.limits = limits;
    this.modePages = modePages;
  }

  ScsiResult read(byte[] cdb) {
    long lba = Lba.lba(cdb);
    long blocks = Lba.blocks(cdb);
    ScsiResult bad = checkRange(cdb, lba, blocks);
    if (bad != null || blocks == 0) {
      return bad != null ? bad : Sense.good();
    }
    int bs = limits.blockSize();
    ByteBuffer dst = ByteBuffer.allocate((int) blocks * bs);
    try {
      volume.read(lba * bs, dst);
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x11, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    return Sense.good(dst.flip());
  }

  ScsiResult write(byte[] cdb, ByteBuffer dataOut) {
    long lba = Lba.lba(cdb);
    long blocks = Lba.blocks(cdb);
    boolean fua = isSixByte(cdb) ? false : (cdb[1] & 0x08) != 0;
    return writeBlocks(cdb, lba, blocks, dataOut, fua);
  }

  /** WRITE AND VERIFY: the write goes to stable storage; the verify of fresh data cannot fail. */
  ScsiResult writeAndVerify(byte[] cdb, ByteBuffer dataOut) {
    return writeBlocks(cdb, Lba.lba(cdb), Lba.blocks(cdb), dataOut, true);
  }

  private ScsiResult writeBlocks(
      byte[] cdb, long lba, long blocks, ByteBuffer dataOut, boolean fua) {
    ScsiResult bad = checkRange(cdb, lba, blocks);
    if (bad != null || blocks == 0) {
      return bad != null ? bad : Sense.good();
    }
    int bs = limits.blockSize();
    // Less Data-Out than the CDB asks for (iSCSI EDTL below the transfer length): FCP-4 option
    // a) when whole blocks arrived (write those, GOOD; the transport reports the residual),
    // option b) for a torn block (write nothing, 05/0E/03).
    int bytes = (int) Math.min(blocks * bs, dataOut.remaining());
    if (bytes % bs != 0) {
      return Sense.dataOutTooShort();
    }
    if (bytes == 0) {
      return Sense.good();
    }
    ByteBuffer src = dataOut.slice(dataOut.position(), bytes);
    try {
      volume.write(lba * bs, src, fua || !modePages.writeCacheEnabled());
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x0c, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    return Sense.good();
  }

  /** VERIFY: BYTCHK 00b reads the medium, 01b compares every block, 11b one block against all. */
  ScsiResult verify(byte[] cdb, ByteBuffer dataOut) {
    long lba = Lba.lba(cdb);
    long blocks = Lba.blocks(cdb);
    int bytchk = (cdb[1] >> 1) & 0x3;
    if (bytchk == 2) {
      return Sense.check(Sense.illegalField(0x24, 0x00, true, 1, 2));
    }
    ScsiResult bad = checkRange(cdb, lba, blocks);
    if (bad != null || blocks == 0) {
      return bad != null ? bad : Sense.good();
    }
    int bs = limits.blockSize();
    long total = blocks * bs;
    long expectedOut = bytchk == 1 ? total : bytchk == 3 ? bs : 0;
    if (dataOut.remaining() < expectedOut) {
      return Sense.dataOutTooShort();
    }
    ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(total, VERIFY_CHUNK_BYTES));
    try {
      for (long done = 0; done < total; done += chunk.capacity()) {
        chunk.clear().limit((int) Math.min(chunk.capacity(), total - done));
        volume.read(lba * bs + done, chunk);
        chunk.flip();
        long at = bytchk == 0 ? -1 : mismatch(chunk, dataOut, done, bytchk == 3 ? bs : 0);
        if (at >= 0) {
          return Sense.miscompare(done + at);
        }
      }
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x11, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    return Sense.good();
  }

  /**
   * First differing byte of {@code medium} against the Data-Out bytes that belong at {@code done}
   * (or, with a non-zero {@code repeatBytes}, against one block repeated), or -1.
   */
  private static long mismatch(ByteBuffer medium, ByteBuffer dataOut, long done, int repeatBytes) {
    int base = dataOut.position();
    if (repeatBytes == 0) {
      return medium.mismatch(dataOut.slice(base + (int) done, medium.remaining()));
    }
    ByteBuffer pattern = dataOut.slice(base, repeatBytes);
    for (int off = 0; off < medium.remaining(); off += repeatBytes) {
      int m = medium.slice(off, repeatBytes).mismatch(pattern);
      if (m >= 0) {
        return off + m;
      }
    }
    return -1;
  }

  /**
   * ORWRITE(16): ORs the Data-Out into the blocks. Done as read + compare-and-write so that a
   * concurrent write to the range is never lost (the OR is retried on top of it).
   */
  ScsiResult orWrite(byte[] cdb, ByteBuffer dataOut) {
    long lba = Lba.lba(cdb);
    long blocks = Lba.blocks(cdb);
    ScsiResult bad = checkRange(cdb, lba, blocks);
    if (bad != null || blocks == 0) {
      return bad != null ? bad : Sense.good();
    }
    int bs = limits.blockSize();
    int bytes = (int) blocks * bs;
    if (dataOut.remaining() < bytes) {
      return Sense.dataOutTooShort();
    }
    boolean fua = (cdb[1] & 0x08) != 0 || !modePages.writeCacheEnabled();
    ByteBuffer current = ByteBuffer.allocate(bytes);
    ByteBuffer merged = ByteBuffer.allocate(bytes);
    try {
      for (int attempt = 0; attempt < ORWRITE_ATTEMPTS; attempt++) {
        current.clear();
        volume.read(lba * bs, current);
        current.flip();
        merged.clear();
        int base = dataOut.position();
        for (int i = 0; i < bytes; i++) {
          merged.put(i, (byte) (current.get(i) | dataOut.get(base + i)));
        }
        if (volume.compareAndWrite(lba * bs, current.duplicate(), merged.duplicate(), fua) < 0) {
          return Sense.good();
        }
      }
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x0c, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
    return new ScsiResult(ScsiResult.BUSY, new byte[0], ByteBuffer.allocate(0));
  }

  /** COMPARE AND WRITE: atomic in the volume; a miscompare reports the first differing byte. */
  ScsiResult compareAndWrite(byte[] cdb, ByteBuffer dataOut) {
    long lba = Lba.lba(cdb);
    int blocks = BigEndian.u8(cdb, 13);
    if (blocks > limits.maxCompareAndWriteBlocks()) {
      return Sense.invalidCdbField(13);
    }
    if (!Lba.inRange(lba, blocks, volume.blockCount())) {
      return Sense.lbaOutOfRange();
    }
    if (blocks == 0) {
      // SBC-3 allows NLB 0 as a no-op, but an initiator that sends it with Data-Out meant 256
      // blocks (the field wrapped); refusing is the only answer that cannot corrupt data.
      return Sense.invalidCdbField(13);
    }
    int bs = limits.blockSize();
    int half = blocks * bs;
    if (dataOut.remaining() < 2 * half) {
      return Sense.dataOutTooShort();
    }
    int base = dataOut.position();
    boolean fua = (cdb[1] & 0x08) != 0 || !modePages.writeCacheEnabled();
    try {
      long at =
          volume.compareAndWrite(
              lba * bs, dataOut.slice(base, half), dataOut.slice(base + half, half), fua);
      return at < 0 ? Sense.good() : Sense.miscompare(at);
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x0c, 0x00);
    } catch (OutOfRangeException e) {
      return Sense.lbaOutOfRange();
    }
  }

  /** PRE-FETCH: the page cache does the work; only the range is checked. */
  ScsiResult prefetch(byte[] cdb) {
    long lba = Lba.lba(cdb);
    long blocks = Lba.blocks(cdb);
    return Lba.inRange(lba, blocks, volume.blockCount()) ? Sense.good() : Sense.lbaOutOfRange();
  }

  /** SYNCHRONIZE CACHE: flushes the whole volume (a range flush is never cheaper for a file). */
  ScsiResult synchronizeCache(byte[] cdb) {
    long lba = Lba.lba(cdb);
    long blocks = Lba.blocks(cdb);
    if (!Lba.inRange(lba, blocks, volume.blockCount())) {
      return Sense.lbaOutOfRange();
    }
    try {
      volume.flush();
    } catch (IOException e) {
      return Sense.ioFailure(e, 0x0c, 0x00);
    }
    return Sense.good();
  }

  ScsiResult readCapacity10(byte[] cdb) {
    long last = volume.blockCount() - 1;
    byte[] d = new byte[8];
    BigEndian.put32(d, 0, Math.min(last, 0xffffffffL));
    BigEndian.put32(d, 4, limits.blockSize());
    return Sense.good(ByteBuffer.wrap(d));
  }

  /** READ CAPACITY(16) with LBPME (thin provisioning) and LBPRZ (unmapped blocks read zero). */
  ScsiResult readCapacity16(byte[] cdb) {
    long alloc = BigEndian.u32(cdb, 10);
    byte[] d = new byte[32];
    BigEndian.put64(d, 0, volume.blockCount() - 1);
    BigEndian.put32(d, 8, limits.blockSize());
    d[13] = 0; // one logical block per physical block: the store has no larger atomic unit
    d[14] = (byte) 0xc0; // LBPME | LBPRZ; lowest aligned LBA 0
    return Sense.good(ByteBuffer.wrap(d, 0, (int) Math.min(alloc, d.length)));
  }

  /**
   * READ DEFECT DATA(10/12): a virtual volume has no defects; an empty list in the asked format.
   */
  static ScsiResult readDefectData(byte[] cdb) {
    boolean twelve = (cdb[0] & 0xff) == 0xb7;
    int flags = (twelve ? cdb[1] : cdb[2]) & 0x1f;
    long alloc = twelve ? BigEndian.u32(cdb, 6) : BigEndian.u16(cdb, 7);
    byte[] d = new byte[twelve ? 8 : 4];
    d[1] = (byte) flags; // PLISTV/GLISTV echo the request; the lists are empty
    return Sense.good(ByteBuffer.wrap(d, 0, (int) Math.min(alloc, d.length)));
  }

  private ScsiResult checkRange(byte[] cdb, long lba, long blocks) {
    if (!Lba.inRange(lba, blocks, volume.blockCount())) {
      return Sense.lbaOutOfRange();
    }
    if (blocks > limits.maxTransferBlocks()) {
      return Sense.invalidCdbField(Lba.blocksField(cdb));
    }
    return null;
  }

  private static boolean isSixByte(byte[] cdb) {
    int op = cdb[0] & 0xff;
    return op == 0x08 || op == 0x0a;
  }
}
