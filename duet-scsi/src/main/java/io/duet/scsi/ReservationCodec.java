package io.duet.scsi;

import io.duet.scsi.ReservationState.Held;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The compact, versioned binary form of a {@link ReservationState}: what APTPL saves through {@link
 * PersistentState} and what replication will ship to the peer site. Integrity (CRC, atomic replace)
 * is the storage's job; this layer checks structure and refuses anything odd.
 *
 * <pre>
 * u32 magic "DPR1" | u8 version | i32 generation | u8 flags (bit0 APTPL) | u16 registrations
 * per registration: i64 key | u8 flags (bit0 ALL_TG_PT, bit1 port form) | str name | [str isid]
 *                   | str port name | str target name | u16 relative id | u16 port group
 * u8 reservation type code (0 = none) | [u16 holder index, 0xffff for all-registrants]
 * str = u16 length + UTF-8 bytes
 * </pre>
 */
final class ReservationCodec {
  static final int MAGIC = 0x44505231; // "DPR1"
  static final int VERSION = 1;
  private static final int NO_HOLDER = 0xffff;
  private static final int MAX_STRING_BYTES = 1024;

  private ReservationCodec() {}

  static byte[] encode(ReservationState s) {
    ByteBuffer b = ByteBuffer.allocate(sizeOf(s));
    b.putInt(MAGIC).put((byte) VERSION).putInt(s.generation()).put((byte) (s.aptpl() ? 1 : 0));
    b.putShort((short) s.registrations().size());
    int holderIndex = NO_HOLDER;
    for (int i = 0; i < s.registrations().size(); i++) {
      Registration r = s.registrations().get(i);
      Held held = s.reservation();
      if (held != null && r.identity().equals(held.holder())) {
        holderIndex = i;
      }
      b.putLong(r.key());
      b.put((byte) ((r.allTargetPorts() ? 1 : 0) | (r.initiator().isPort() ? 2 : 0)));
      putString(b, r.initiator().name());
      if (r.initiator().isPort()) {
        putString(b, r.initiator().isid());
      }
      putString(b, r.targetPort().name());
      putString(b, r.targetPort().targetName());
      b.putShort((short) r.targetPort().relativeId());
      b.putShort((short) r.targetPort().portGroupId());
    }
    if (s.reservation() == null) {
      b.put((byte) 0);
    } else {
      b.put((byte) s.reservation().type().code()).putShort((short) holderIndex);
    }
    return b.array();
  }

  /** Decodes {@link #encode} output; throws IllegalArgumentException saying what is wrong. */
  static ReservationState decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    try {
      if (b.getInt() != MAGIC) {
        throw new IllegalArgumentException("not persistent reservation state (bad magic)");
      }
      int version = b.get() & 0xff;
      if (version != VERSION) {
        throw new IllegalArgumentException("unsupported reservation state version " + version);
      }
      int generation = b.getInt();
      int flags = b.get() & 0xff;
      if ((flags & ~1) != 0) {
        throw new IllegalArgumentException("unknown state flags " + flags);
      }
      int count = b.getShort() & 0xffff;
      if (count > ReservationLogic.MAX_REGISTRATIONS) {
        throw new IllegalArgumentException("too many registrations: " + count);
      }
      List<Registration> regs = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        Registration r = registration(b);
        for (Registration earlier : regs) {
          if (earlier.overlaps(r)) {
            throw new IllegalArgumentException("overlapping registrations for " + r.initiator());
          }
        }
        regs.add(r);
      }
      int typeCode = b.get() & 0xff;
      Held held = null;
      if (typeCode != 0) {
        ReservationType type = ReservationType.fromCode(typeCode);
        if (type == null) {
          throw new IllegalArgumentException("unknown reservation type " + typeCode);
        }
        int holder = b.getShort() & 0xffff;
        if (type.allRegistrants() != (holder == NO_HOLDER)
            || (holder != NO_HOLDER && holder >= count)) {
          throw new IllegalArgumentException("bad reservation holder index " + holder);
        }
        held = new Held(type, holder == NO_HOLDER ? null : regs.get(holder).identity());
      }
      if (b.hasRemaining()) {
        throw new IllegalArgumentException(b.remaining() + " trailing bytes");
      }
      return new ReservationState(generation, flags == 1, regs, held);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("reservation state is truncated", e);
    }
  }

  private static Registration registration(ByteBuffer b) {
    long key = b.getLong();
    int flags = b.get() & 0xff;
    if ((flags & ~3) != 0) {
      throw new IllegalArgumentException("unknown registration flags " + flags);
    }
    String name = getString(b);
    String isid = (flags & 2) != 0 ? getString(b) : null;
    String portName = getString(b);
    String targetName = getString(b);
    int relativeId = b.getShort() & 0xffff;
    int group = b.getShort() & 0xffff;
    // The record constructors re-check key, ISID and port ranges; their errors are ours too.
    TransportId who = new TransportId(name, isid);
    return new Registration(
        key, who, new TargetPort(portName, targetName, relativeId, group), (flags & 1) != 0);
  }

  private static int sizeOf(ReservationState s) {
    int n = 4 + 1 + 4 + 1 + 2 + 1 + (s.reservation() == null ? 0 : 2);
    for (Registration r : s.registrations()) {
      n += 8 + 1 + 2 + utf8(r.initiator().name()).length + 2 + 2;
      if (r.initiator().isPort()) {
        n += 2 + utf8(r.initiator().isid()).length;
      }
      n += 2 + utf8(r.targetPort().name()).length + 2 + utf8(r.targetPort().targetName()).length;
    }
    return n;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static void putString(ByteBuffer b, String s) {
    byte[] bytes = utf8(s);
    if (bytes.length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException("string too long to persist: " + bytes.length);
    }
    b.putShort((short) bytes.length).put(bytes);
  }

  static String getString(ByteBuffer b) {
    int length = b.getShort() & 0xffff;
    if (length > MAX_STRING_BYTES || length > b.remaining()) {
      throw new IllegalArgumentException("bad string length " + length);
    }
    ByteBuffer slice = b.slice(b.position(), length);
    b.position(b.position() + length);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(slice)
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("string is not UTF-8", e);
    }
  }
}
