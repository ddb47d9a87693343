package io.duet.scsi;

import io.duet.store.VolumeUnavailableException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A change of a logical unit's shared state, as bytes that carry everything its application needs
 * at either site: the issuing I_T nexus by site-independent names (initiator port, target port with
 * its relative id, unique across both sites), and the command's own fields. Results travel back as
 * bytes too. Decoding never throws anything but IllegalArgumentException saying what is wrong.
 *
 * <pre>
 * command: u32 magic "DSC1" | u8 version | u8 kind | nexus | kind-specific
 *   nexus: str initiator name | str initiator port | port
 *   port:  str name | str target name | u16 relative id | u16 port group
 *   PERSISTENT RESERVE OUT: u8 CDB length + CDB | u32 length + parameter list
 *                           | u8 0/1 + [port]  (REGISTER AND MOVE's destination, resolved
 *                           where the command was issued)
 *   RESET, SPC-2 RESERVE, SPC-2 RELEASE, NEXUS LOST: nothing more
 *   MODE SELECT: u8 WCE (0 or 1; the caching page's new value, checked where it arrived)
 * result:  u8 status | u8 sense length + sense | str message
 * str = u16 length + UTF-8
 * </pre>
 */
sealed interface SharedCommand {
  int MAGIC = 0x44534331; // "DSC1"
  int VERSION = 1;
  int KIND_RESERVE_OUT = 1;
  int KIND_RESET = 2;
  int KIND_LEGACY_RESERVE = 3;
  int KIND_LEGACY_RELEASE = 4;
  int KIND_NEXUS_LOST = 5;
  int KIND_MODE_SELECT = 6;

  /** PERSISTENT RESERVE OUT parameter lists are far smaller; a bound keeps decoding cheap. */
  int MAX_PARAMETER_BYTES = 1 << 20;

  /** How long an issuing host waits for the sites to agree before it gets an error. */
  long SHARED_TIMEOUT_MS = 20_000;

  /** The nexus the command came through. */
  ItNexus issuer();

  /** PERSISTENT RESERVE OUT with its CDB and parameter list. */
  record ReserveOut(ItNexus issuer, byte[] cdb, byte[] parameters, TargetPort moveTo)
      implements SharedCommand {}

  /** LOGICAL UNIT RESET (or a target reset reaching this unit) received on {@code issuer}. */
  record Reset(ItNexus issuer) implements SharedCommand {}

  /** SPC-2 RESERVE(6)/(10) from {@code issuer} (the CDB was checked where it arrived). */
  record LegacyReserve(ItNexus issuer) implements SharedCommand {}

  /** SPC-2 RELEASE(6)/(10) from {@code issuer}. */
  record LegacyRelease(ItNexus issuer) implements SharedCommand {}

  /** The I_T nexus ended (logout, connection loss): its SPC-2 reservation goes. */
  record NexusLost(ItNexus issuer) implements SharedCommand {}

  /**
   * MODE SELECT from {@code issuer} naming the caching page, reduced to what it sets: WCE, the one
   * changeable field. Its parameter list was checked where it arrived; the check depends only on
   * constants and the block size, the same at both sites, so the other site has nothing to judge.
   */
  record ModeSelect(ItNexus issuer, boolean writeCacheEnabled) implements SharedCommand {}

  private static int kind(SharedCommand c) {
    return switch (c) {
      case ReserveOut x -> KIND_RESERVE_OUT;
      case Reset x -> KIND_RESET;
      case LegacyReserve x -> KIND_LEGACY_RESERVE;
      case LegacyRelease x -> KIND_LEGACY_RELEASE;
      case NexusLost x -> KIND_NEXUS_LOST;
      case ModeSelect x -> KIND_MODE_SELECT;
    };
  }

  static byte[] encode(SharedCommand c) {
    ByteBuffer b = ByteBuffer.allocate(sizeOf(c));
    b.putInt(MAGIC).put((byte) VERSION);
    b.put((byte) kind(c));
    ReservationCodec.putString(b, c.issuer().initiatorName());
    ReservationCodec.putString(b, c.issuer().initiatorPort());
    putPort(b, c.issuer().targetPort());
    if (c instanceof ReserveOut r) {
      b.put((byte) r.cdb().length).put(r.cdb());
      b.putInt(r.parameters().length).put(r.parameters());
      b.put((byte) (r.moveTo() == null ? 0 : 1));
      if (r.moveTo() != null) {
        putPort(b, r.moveTo());
      }
    }
    if (c instanceof ModeSelect m) {
      b.put((byte) (m.writeCacheEnabled() ? 1 : 0));
    }
    return b.array();
  }

  static SharedCommand decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    try {
      if (b.getInt() != MAGIC) {
        throw new IllegalArgumentException("not a shared unit command (bad magic)");
      }
      int version = b.get() & 0xff;
      if (version != VERSION) {
        throw new IllegalArgumentException("unsupported shared command version " + version);
      }
      int kind = b.get() & 0xff;
      ItNexus issuer =
          new ItNexus(ReservationCodec.getString(b), ReservationCodec.getString(b), getPort(b));
      SharedCommand c =
          switch (kind) {
            case KIND_RESERVE_OUT -> reserveOut(issuer, b);
            case KIND_RESET -> new Reset(issuer);
            case KIND_LEGACY_RESERVE -> new LegacyReserve(issuer);
            case KIND_LEGACY_RELEASE -> new LegacyRelease(issuer);
            case KIND_NEXUS_LOST -> new NexusLost(issuer);
            case KIND_MODE_SELECT -> modeSelect(issuer, b);
            default -> throw new IllegalArgumentException("unknown shared command kind " + kind);
          };
      if (b.hasRemaining()) {
        throw new IllegalArgumentException(b.remaining() + " trailing bytes");
      }
      return c;
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("shared command is truncated", e);
    }
  }

  private static ReserveOut reserveOut(ItNexus issuer, ByteBuffer b) {
    byte[] cdb = new byte[b.get() & 0xff];
    b.get(cdb);
    long length = b.getInt() & 0xffffffffL;
    if (length > MAX_PARAMETER_BYTES || length > b.remaining()) {
      throw new IllegalArgumentException("bad parameter list length " + length);
    }
    byte[] parameters = new byte[(int) length];
    b.get(parameters);
    int hasMove = b.get() & 0xff;
    if (hasMove > 1) {
      throw new IllegalArgumentException("bad destination flag " + hasMove);
    }
    return new ReserveOut(issuer, cdb, parameters, hasMove == 1 ? getPort(b) : null);
  }

  private static ModeSelect modeSelect(ItNexus issuer, ByteBuffer b) {
    int wce = b.get() & 0xff;
    if (wce > 1) {
      throw new IllegalArgumentException("bad WCE value " + wce + " in MODE SELECT");
    }
    return new ModeSelect(issuer, wce == 1);
  }

  private static void putPort(ByteBuffer b, TargetPort p) {
    ReservationCodec.putString(b, p.name());
    ReservationCodec.putString(b, p.targetName());
    b.putShort((short) p.relativeId()).putShort((short) p.portGroupId());
  }

  private static TargetPort getPort(ByteBuffer b) {
    String name = ReservationCodec.getString(b);
    String target = ReservationCodec.getString(b);
    // TargetPort's constructor range-checks the ids with an IllegalArgumentException.
    return new TargetPort(name, target, b.getShort() & 0xffff, b.getShort() & 0xffff);
  }

  private static int sizeOf(SharedCommand c) {
    ItNexus n = c.issuer();
    int size = 4 + 1 + 1 + str(n.initiatorName()) + str(n.initiatorPort()) + port(n.targetPort());
    if (c instanceof ReserveOut r) {
      size += 1 + r.cdb().length + 4 + r.parameters().length + 1;
      size += r.moveTo() == null ? 0 : port(r.moveTo());
    }
    if (c instanceof ModeSelect) {
      size += 1;
    }
    return size;
  }

  private static int str(String s) {
    return 2 + ReservationCodec.utf8(s).length;
  }

  private static int port(TargetPort p) {
    return str(p.name()) + str(p.targetName()) + 4;
  }

  // ---- results ----

  static byte[] encodeResult(ScsiResult r, String message) {
    byte[] text = message.getBytes(StandardCharsets.UTF_8);
    text = Arrays.copyOf(text, Math.min(text.length, 1024));
    ByteBuffer b = ByteBuffer.allocate(2 + r.sense().length + 2 + text.length);
    b.put((byte) r.status()).put((byte) r.sense().length).put(r.sense());
    b.putShort((short) text.length).put(text);
    return b.array();
  }

  /** The SCSI result a shared command's result bytes describe; 04/44/00 when they are bad. */
  static ScsiResult decodeResult(byte[] bytes) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      int status = b.get() & 0xff;
      byte[] sense = new byte[b.get() & 0xff];
      b.get(sense);
      if (status == ScsiResult.GOOD) {
        return Sense.good();
      }
      if (status == ScsiResult.RESERVATION_CONFLICT) {
        return Sense.reservationConflict();
      }
      return sense.length < 14 ? Sense.internalFailure() : Sense.check(sense);
    } catch (RuntimeException e) {
      return Sense.internalFailure();
    }
  }

  /** The message of a result ("" when there is none or the bytes are bad). */
  static String resultMessage(byte[] bytes) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      b.position(2 + (b.get(1) & 0xff));
      return ReservationCodec.getString(b);
    } catch (RuntimeException e) {
      return "";
    }
  }

  /**
   * Waits (boundedly) for a submitted command's result. A site that must not serve answers
   * 02/04/0C; a failure or timeout of the replication answers 04/44/00, as the command may or may
   * not have taken effect.
   */
  static ScsiResult await(CompletableFuture<byte[]> pending) {
    try {
      return decodeResult(pending.get(SHARED_TIMEOUT_MS, TimeUnit.MILLISECONDS));
    } catch (ExecutionException e) {
      return e.getCause() instanceof VolumeUnavailableException
          ? Sense.unavailable()
          : Sense.internalFailure();
    } catch (TimeoutException e) {
      pending.cancel(false);
      return Sense.internalFailure();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ScsiResult(ScsiResult.TASK_ABORTED, new byte[0], ByteBuffer.allocate(0));
    }
  }
}
