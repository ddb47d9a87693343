package io.duet.scsi;

import io.duet.store.Volume;
import java.nio.ByteBuffer;

/**
 * MODE SENSE(6/10) and MODE SELECT(6/10) over the pages Duet has: 01h read-write error recovery,
 * 08h caching, 0Ah control, 1Ch informational exceptions. Only WCE is changeable; saved values are
 * not supported (05/39/00). The state is per logical unit, shared by every I_T nexus; MODE SELECT
 * is checked here and applied by the unit ({@link #setWriteCache}), at both sites of a replicated
 * one.
 */
final class ModePages {
  private static final int[] PAGE_ORDER = {0x01, 0x08, 0x0a, 0x1c};
  private static final int PC_CURRENT = 0;
  private static final int PC_CHANGEABLE = 1;
  private static final int PC_DEFAULT = 2;
  private static final int PC_SAVED = 3;

  private final Volume volume;

  /** Write cache enabled: writes return before they are durable; WCE=0 makes every write FUA. */
  private volatile boolean writeCache = true;

  ModePages(Volume volume) {
    this.volume = volume;
  }

  boolean writeCacheEnabled() {
    return writeCache;
  }

  /** Sets WCE; true when that changed it (the caller raises 2A/01). */
  synchronized boolean setWriteCache(boolean enabled) {
    boolean changed = writeCache != enabled;
    writeCache = enabled;
    return changed;
  }

  /**
   * A checked MODE SELECT: {@code error} when the host gets CHECK CONDITION (nothing to apply),
   * otherwise the WCE its caching page sets, or null when its list has no caching page (it only
   * restated values that cannot change: nothing to apply).
   */
  record Selection(ScsiResult error, Boolean writeCache) {
    static Selection rejected(ScsiResult error) {
      return new Selection(error, null);
    }
  }

  /** The page's bytes (header included) for a page control value, or null if no such page. */
  private byte[] page(int code, int pc) {
    boolean changeable = pc == PC_CHANGEABLE;
    switch (code) {
      case 0x01 -> {
        byte[] p = header(0x01, 0x0a);
        if (!changeable) {
          p[2] = (byte) 0xc0; // AWRE, ARRE: the store remaps nothing, but claims no recovery off
        }
        return p;
      }
      case 0x08 -> {
        byte[] p = header(0x08, 0x12);
        boolean wce = changeable || (pc == PC_DEFAULT || writeCache);
        p[2] = (byte) (wce ? 0x04 : 0x00);
        return p;
      }
      case 0x0a -> {
        byte[] p = header(0x0a, 0x0a);
        if (!changeable) {
          p[2] = 0x02; // GLTSD: no implicit log saving
          p[3] = 0x10; // queue algorithm modifier 1: unrestricted reordering
          BigEndian.put16(p, 8, 0xffff); // busy timeout: unlimited
        }
        return p;
      }
      case 0x1c -> {
        byte[] p = header(0x1c, 0x0a);
        if (!changeable) {
          p[2] = 0x08; // DEXCPT: no informational exceptions are reported
        }
        return p;
      }
      default -> {
        return null;
      }
    }
  }

  private static byte[] header(int code, int length) {
    byte[] p = new byte[2 + length];
    p[0] = (byte) code;
    p[1] = (byte) length;
    return p;
  }

  ScsiResult sense(byte[] cdb, boolean readOnly) {
    boolean ten = (cdb[0] & 0xff) == 0x5a;
    boolean dbd = (cdb[1] & 0x08) != 0;
    boolean llbaa = ten && (cdb[1] & 0x10) != 0;
    int pc = (cdb[2] >> 6) & 0x3;
    int code = cdb[2] & 0x3f;
    int subpage = BigEndian.u8(cdb, 3);
    int alloc = ten ? BigEndian.u16(cdb, 7) : BigEndian.u8(cdb, 4);
    if (pc == PC_SAVED) {
      return Sense.check(Sense.ILLEGAL_REQUEST, 0x39, 0x00);
    }
    // Subpage FFh with page 3Fh asks for all subpages too; Duet's pages have none.
    if (subpage != 0 && !(code == 0x3f && subpage == 0xff)) {
      return Sense.invalidCdbField(3);
    }
    ByteBuffer pages = ByteBuffer.allocate(256);
    if (code == 0x3f) {
      for (int c : PAGE_ORDER) {
        pages.put(page(c, pc));
      }
    } else {
      byte[] p = page(code, pc);
      if (p == null) {
        return Sense.invalidCdbField(2);
      }
      pages.put(p);
    }
    int blockDescriptorLength = dbd ? 0 : llbaa ? 16 : 8;
    int headerLength = ten ? 8 : 4;
    byte[] d = new byte[headerLength + blockDescriptorLength + pages.position()];
    // Device-specific parameter: WP for read-only mappings, DPOFUA (DPO and FUA are honoured).
    int deviceSpecific = (readOnly ? 0x80 : 0) | 0x10;
    if (ten) {
      BigEndian.put16(d, 0, d.length - 2);
      d[3] = (byte) deviceSpecific;
      d[4] = (byte) (llbaa ? 1 : 0);
      BigEndian.put16(d, 6, blockDescriptorLength);
    } else {
      d[0] = (byte) (d.length - 1);
      d[2] = (byte) deviceSpecific;
      d[3] = (byte) blockDescriptorLength;
    }
    if (blockDescriptorLength > 0 && pc != PC_CHANGEABLE) {
      blockDescriptor(d, headerLength, llbaa);
    }
    System.arraycopy(pages.array(), 0, d, headerLength + blockDescriptorLength, pages.position());
    return Inquiry.trimmed(d, alloc);
  }

  private void blockDescriptor(byte[] d, int at, boolean llbaa) {
    long blocks = volume.blockCount();
    if (llbaa) {
      BigEndian.put64(d, at, blocks);
      BigEndian.put32(d, at + 12, volume.blockSize());
    } else {
      BigEndian.put32(d, at, Math.min(blocks, 0xffffffffL));
      BigEndian.put24(d, at + 5, volume.blockSize());
    }
  }

  /**
   * MODE SELECT: checks the whole parameter list and says what it sets, changing nothing. Fields
   * that are not changeable must carry their current values (05/26/00). The check reads no state
   * that can change (WCE, the one changeable bit, is masked out), so it gives the same answer at
   * both sites of a replicated unit.
   */
  Selection check(byte[] cdb, ByteBuffer dataOut) {
    boolean ten = (cdb[0] & 0xff) == 0x55;
    int length = ten ? BigEndian.u16(cdb, 7) : BigEndian.u8(cdb, 4);
    if (length == 0) {
      return new Selection(null, null);
    }
    if (dataOut.remaining() < length) {
      return Selection.rejected(Sense.dataOutTooShort());
    }
    byte[] p = new byte[length];
    dataOut.get(dataOut.position(), p);
    int headerLength = ten ? 8 : 4;
    if (length < headerLength) {
      return Selection.rejected(Sense.parameterListLength());
    }
    int bdLength = ten ? BigEndian.u16(p, 6) : BigEndian.u8(p, 3);
    int at = headerLength;
    if (bdLength != 0) {
      ScsiResult bad = checkBlockDescriptor(p, at, bdLength, ten && (p[4] & 1) != 0);
      if (bad != null) {
        return Selection.rejected(bad);
      }
      at += bdLength;
    }
    Boolean newWce = null;
    while (at < length) {
      if (at + 2 > length) {
        return Selection.rejected(Sense.parameterListLength());
      }
      if ((p[at] & 0x40) != 0) {
        return Selection.rejected(Sense.invalidParameterField(at)); // SPF: Duet has no subpages
      }
      int code = p[at] & 0x3f;
      byte[] current = page(code, PC_CURRENT);
      if (current == null) {
        return Selection.rejected(Sense.invalidParameterField(at));
      }
      if (BigEndian.u8(p, at + 1) != (current[1] & 0xff)) {
        return Selection.rejected(Sense.invalidParameterField(at + 1));
      }
      if (at + current.length > length) {
        return Selection.rejected(Sense.parameterListLength());
      }
      byte[] changeable = page(code, PC_CHANGEABLE);
      for (int i = 2; i < current.length; i++) {
        int diff = (p[at + i] ^ current[i]) & ~changeable[i] & 0xff;
        if (diff != 0) {
          return Selection.rejected(
              Sense.check(
                  Sense.illegalField(
                      0x26, 0x00, false, at + i, 31 - Integer.numberOfLeadingZeros(diff))));
        }
      }
      if (code == 0x08) {
        newWce = (p[at + 2] & 0x04) != 0;
      }
      at += current.length;
    }
    return new Selection(null, newWce);
  }

  private ScsiResult checkBlockDescriptor(byte[] p, int at, int bdLength, boolean longLba) {
    int expected = longLba ? 16 : 8;
    if (bdLength != expected) {
      return Sense.invalidParameterField(at - 1);
    }
    if (at + bdLength > p.length) {
      return Sense.parameterListLength();
    }
    long blockLength = longLba ? BigEndian.u32(p, at + 12) : BigEndian.u24(p, at + 5);
    // The block size of a volume is fixed; only a descriptor restating it is accepted.
    if (blockLength != volume.blockSize()) {
      return Sense.invalidParameterField(at + (longLba ? 12 : 5));
    }
    return null;
  }
}
