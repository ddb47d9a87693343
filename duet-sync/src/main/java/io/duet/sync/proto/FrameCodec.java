package io.duet.sync.proto;

import io.duet.sync.proto.Message.CompareAndWriteMismatch;
import io.duet.sync.proto.Message.CompareAndWriteRequest;
import io.duet.sync.proto.Message.Control;
import io.duet.sync.proto.Message.DigestRequest;
import io.duet.sync.proto.Message.DigestResponse;
import io.duet.sync.proto.Message.DirtyDone;
import io.duet.sync.proto.Message.DirtyRegions;
import io.duet.sync.proto.Message.EpochNotice;
import io.duet.sync.proto.Message.FlushRequest;
import io.duet.sync.proto.Message.Flushed;
import io.duet.sync.proto.Message.ForwardedWrite;
import io.duet.sync.proto.Message.Handoff;
import io.duet.sync.proto.Message.Heartbeat;
import io.duet.sync.proto.Message.Hello;
import io.duet.sync.proto.Message.OrderedWrite;
import io.duet.sync.proto.Message.Refusal;
import io.duet.sync.proto.Message.RequestRefused;
import io.duet.sync.proto.Message.ResyncAck;
import io.duet.sync.proto.Message.ResyncData;
import io.duet.sync.proto.Message.ResyncDone;
import io.duet.sync.proto.Message.SharedApplied;
import io.duet.sync.proto.Message.SharedOrdered;
import io.duet.sync.proto.Message.SharedRequest;
import io.duet.sync.proto.Message.SharedSnapshot;
import io.duet.sync.proto.Message.WriteApplied;
import io.duet.sync.proto.Message.WriteCommitted;
import io.duet.sync.proto.Message.WriteKind;
import io.duet.sync.proto.Message.WritesApplied;
import io.duet.sync.proto.Message.WritesCommitted;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Encodes and decodes {@link Frame}s. Layout (big-endian): magic {@code "DS"} (2 bytes), format
 * version (1 byte), message type (1 byte), group id (16 bytes), epoch (8 bytes), payload length (4
 * bytes), payload, CRC32C of everything before it (4 bytes).
 *
 * <p>Decoding never trusts a length before checking it against the bytes actually present, so a
 * hostile or damaged frame costs at most its own size in memory and always ends in a {@link
 * FrameException}.
 */
public final class FrameCodec {
  /** Largest data payload of one write or resync message. */
  public static final int MAX_DATA_BYTES = 16 << 20;

  /** Largest whole frame: the data plus room for the other fields. */
  public static final int MAX_FRAME_BYTES = 2 * MAX_DATA_BYTES + 4096;

  /** Most region indexes or digests in one message. */
  public static final int MAX_LIST_ENTRIES = 1 << 16;

  static final short MAGIC = 0x4453; // "DS"
  static final byte VERSION = 1;
  static final int HEADER_BYTES = 32;
  static final int TRAILER_BYTES = 4;
  private static final int MAX_TEXT_BYTES = 1024;

  private FrameCodec() {}

  /**
   * The bytes of {@code frame}. The payload is measured first and then written straight into the
   * frame, so a write's data is copied once.
   */
  public static byte[] encode(Frame frame) {
    Message m = frame.message();
    Counter size = new Counter();
    writePayload(m, size);
    long total = (long) HEADER_BYTES + size.bytes + TRAILER_BYTES;
    if (total > MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("frame of " + total + " bytes is too large");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) total);
    buf.putShort(MAGIC).put(VERSION).put(type(m));
    buf.putLong(frame.groupId().getMostSignificantBits());
    buf.putLong(frame.groupId().getLeastSignificantBits());
    buf.putLong(frame.epoch()).putInt((int) size.bytes);
    writePayload(m, new Filler(buf));
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, buf.position());
    buf.putInt((int) crc.getValue());
    assert !buf.hasRemaining() : "payload size measured wrong";
    return buf.array();
  }

  /** The frame in {@code bytes}, which must hold exactly one frame. */
  public static Frame decode(byte[] bytes) throws FrameException {
    if (bytes == null || bytes.length < HEADER_BYTES + TRAILER_BYTES) {
      throw new FrameException("truncated frame: " + (bytes == null ? 0 : bytes.length) + " bytes");
    }
    if (bytes.length > MAX_FRAME_BYTES) {
      throw new FrameException("frame of " + bytes.length + " bytes exceeds " + MAX_FRAME_BYTES);
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    short magic = buf.getShort();
    if (magic != MAGIC) {
      throw new FrameException("bad magic 0x" + Integer.toHexString(magic & 0xffff));
    }
    byte version = buf.get();
    byte type = buf.get();
    UUID group = new UUID(buf.getLong(), buf.getLong());
    long epoch = buf.getLong();
    int length = buf.getInt();
    if (length != bytes.length - HEADER_BYTES - TRAILER_BYTES) {
      throw new FrameException(
          "payload length " + length + " does not match frame size " + bytes.length);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, HEADER_BYTES + length);
    if (ByteBuffer.wrap(bytes, HEADER_BYTES + length, TRAILER_BYTES).getInt()
        != (int) crc.getValue()) {
      throw new FrameException("CRC32C mismatch");
    }
    // After the CRC: a damaged version byte reads as damage, not as a newer peer.
    if (version != VERSION) {
      throw new FrameException("unsupported frame version " + version);
    }
    if (epoch < 0) {
      throw new FrameException("negative epoch " + epoch);
    }
    Reader in = new Reader(ByteBuffer.wrap(bytes, HEADER_BYTES, length).slice());
    Message message = message(type, in);
    in.expectEnd();
    return new Frame(group, epoch, message);
  }

  private static byte type(Message m) {
    return switch (m) {
      case Hello h -> 1;
      case DirtyRegions d -> 2;
      case DirtyDone d -> 3;
      case OrderedWrite w -> 4;
      case ForwardedWrite w -> 5;
      case WriteApplied a -> 6;
      case WriteCommitted c -> 7;
      case RequestRefused r -> 8;
      case FlushRequest f -> 9;
      case Flushed f -> 10;
      case CompareAndWriteRequest c -> 11;
      case CompareAndWriteMismatch c -> 12;
      case Heartbeat h -> 13;
      case ResyncData r -> 14;
      case ResyncAck r -> 15;
      case ResyncDone r -> 16;
      case DigestRequest d -> 17;
      case DigestResponse d -> 18;
      case Handoff h -> 19;
      case EpochNotice e -> 20;
      case SharedRequest r -> 21;
      case SharedOrdered o -> 22;
      case SharedApplied a -> 23;
      case SharedSnapshot n -> 24;
      case WritesApplied a -> 25;
      case WritesCommitted c -> 26;
      case Control c -> 30;
    };
  }

  private static Message message(byte type, Reader in) throws FrameException {
    return switch (type) {
      case 1 ->
          new Hello(
              in.uuid(), in.uuid(), in.count(), in.nonNegative(), in.nonNegative(), in.bool());
      case 2 -> new DirtyRegions(in.count(), in.longs());
      case 3 -> new DirtyDone();
      case 4 -> orderedWrite(in);
      case 5 -> forwardedWrite(in);
      case 6 -> new WriteApplied(in.nonNegative());
      case 7 -> new WriteCommitted(in.nonNegative());
      case 8 -> new RequestRefused(in.nonNegative(), in.refusal());
      case 9 -> new FlushRequest(in.nonNegative(), in.count());
      case 10 -> new Flushed(in.nonNegative(), in.bool());
      case 11 -> compareAndWrite(in);
      case 12 -> new CompareAndWriteMismatch(in.nonNegative(), in.nonNegative());
      case 13 -> new Heartbeat(in.raw(), in.raw(), in.bool());
      case 14 -> new ResyncData(in.count(), in.nonNegative(), in.bytes());
      case 15 -> new ResyncAck(in.count(), in.nonNegative());
      case 16 -> new ResyncDone();
      case 17 -> digestRequest(in);
      case 18 -> new DigestResponse(in.nonNegative(), in.count(), in.nonNegative(), in.longs());
      case 19 -> new Handoff(in.uuid());
      case 20 -> new EpochNotice(in.uuid(), in.text());
      case 21 -> new SharedRequest(in.nonNegative(), in.count(), in.bytes());
      case 22 ->
          new SharedOrdered(in.nonNegative(), in.count(), in.nonNegative(), in.bytes(), in.bytes());
      case 23 -> new SharedApplied(in.nonNegative());
      case 24 -> new SharedSnapshot(in.count(), in.bytes());
      case 25 -> new WritesApplied(in.sequenceNumbers());
      case 26 -> new WritesCommitted(in.sequenceNumbers());
      case 30 -> new Control(in.nonNegative(), in.bool(), in.bytes());
      default -> throw new FrameException("unknown message type " + type);
    };
  }

  private static Message orderedWrite(Reader in) throws FrameException {
    long seq = in.nonNegative();
    int volume = in.count();
    long offset = in.nonNegative();
    long length = in.nonNegative();
    WriteKind kind = in.kind();
    boolean fua = in.bool();
    long origin = in.nonNegative();
    byte[] data = in.bytes();
    checkData(kind, length, data);
    return new OrderedWrite(seq, volume, offset, length, kind, fua, origin, data);
  }

  private static Message forwardedWrite(Reader in) throws FrameException {
    long request = in.nonNegative();
    int volume = in.count();
    long offset = in.nonNegative();
    long length = in.nonNegative();
    WriteKind kind = in.kind();
    boolean fua = in.bool();
    byte[] data = in.bytes();
    checkData(kind, length, data);
    return new ForwardedWrite(request, volume, offset, length, kind, fua, data);
  }

  /** A data-carrying write's length is its data's; the others carry none. */
  private static void checkData(WriteKind kind, long length, byte[] data) throws FrameException {
    if (kind.carriesData() ? data.length != length : data.length != 0) {
      throw new FrameException(
          kind + " of length " + length + " carries " + data.length + " data bytes");
    }
  }

  private static Message digestRequest(Reader in) throws FrameException {
    DigestRequest d = new DigestRequest(in.nonNegative(), in.count(), in.nonNegative(), in.count());
    if (d.count() > MAX_LIST_ENTRIES) {
      throw new FrameException("digest request for " + d.count() + " regions is too large");
    }
    return d;
  }

  private static Message compareAndWrite(Reader in) throws FrameException {
    long request = in.nonNegative();
    int volume = in.count();
    long offset = in.nonNegative();
    boolean fua = in.bool();
    byte[] expected = in.bytes();
    byte[] data = in.bytes();
    if (expected.length != data.length) {
      throw new FrameException(
          "compare-and-write lengths differ: " + expected.length + " vs " + data.length);
    }
    return new CompareAndWriteRequest(request, volume, offset, fua, expected, data);
  }

  private static void writePayload(Message m, Sink out) {
    switch (m) {
      case Hello h -> {
        uuid(out, h.siteId());
        uuid(out, h.leaderId());
        out.writeInt(h.volumeCount());
        out.writeLong(h.session());
        out.writeLong(h.echo());
        out.writeBoolean(h.stale());
      }
      case DirtyRegions d -> {
        out.writeInt(d.volume());
        longs(out, d.regions());
      }
      case DirtyDone d -> {}
      case OrderedWrite w -> {
        out.writeLong(w.seq());
        out.writeInt(w.volume());
        out.writeLong(w.offset());
        out.writeLong(w.length());
        out.writeByte(w.kind().ordinal());
        out.writeBoolean(w.fua());
        out.writeLong(w.originRequest());
        bytes(out, w.data());
      }
      case ForwardedWrite w -> {
        out.writeLong(w.requestId());
        out.writeInt(w.volume());
        out.writeLong(w.offset());
        out.writeLong(w.length());
        out.writeByte(w.kind().ordinal());
        out.writeBoolean(w.fua());
        bytes(out, w.data());
      }
      case WriteApplied a -> out.writeLong(a.seq());
      case WriteCommitted c -> out.writeLong(c.seq());
      case RequestRefused r -> {
        out.writeLong(r.requestId());
        out.writeByte(r.reason().ordinal());
      }
      case FlushRequest f -> {
        out.writeLong(f.requestId());
        out.writeInt(f.volume());
      }
      case Flushed f -> {
        out.writeLong(f.requestId());
        out.writeBoolean(f.ok());
      }
      case CompareAndWriteRequest c -> {
        out.writeLong(c.requestId());
        out.writeInt(c.volume());
        out.writeLong(c.offset());
        out.writeBoolean(c.fua());
        bytes(out, c.expected());
        bytes(out, c.data());
      }
      case CompareAndWriteMismatch c -> {
        out.writeLong(c.requestId());
        out.writeLong(c.mismatchOffset());
      }
      case Heartbeat h -> {
        out.writeLong(h.senderNanos());
        out.writeLong(h.echoNanos());
        out.writeBoolean(h.preElect());
      }
      case ResyncData r -> {
        out.writeInt(r.volume());
        out.writeLong(r.region());
        bytes(out, r.data());
      }
      case ResyncAck r -> {
        out.writeInt(r.volume());
        out.writeLong(r.region());
      }
      case ResyncDone r -> {}
      case DigestRequest d -> {
        out.writeLong(d.requestId());
        out.writeInt(d.volume());
        out.writeLong(d.firstRegion());
        out.writeInt(d.count());
      }
      case DigestResponse d -> {
        out.writeLong(d.requestId());
        out.writeInt(d.volume());
        out.writeLong(d.firstRegion());
        longs(out, d.digests());
      }
      case Handoff h -> uuid(out, h.newLeader());
      case SharedRequest r -> {
        out.writeLong(r.requestId());
        out.writeInt(r.volume());
        bytes(out, r.command());
      }
      case SharedOrdered o -> {
        out.writeLong(o.seq());
        out.writeInt(o.volume());
        out.writeLong(o.originRequest());
        bytes(out, o.command());
        bytes(out, o.result());
      }
      case SharedApplied a -> out.writeLong(a.seq());
      case WritesApplied a -> longs(out, a.seqs());
      case WritesCommitted c -> longs(out, c.seqs());
      case SharedSnapshot n -> {
        out.writeInt(n.volume());
        bytes(out, n.snapshot());
      }
      case Control c -> {
        out.writeLong(c.requestId());
        out.writeBoolean(c.response());
        bytes(out, c.body());
      }
      case EpochNotice e -> {
        uuid(out, e.leaderId());
        byte[] text = e.reason().getBytes(StandardCharsets.UTF_8);
        bytes(out, text.length > MAX_TEXT_BYTES ? Arrays.copyOf(text, MAX_TEXT_BYTES) : text);
      }
    }
  }

  private static void uuid(Sink out, UUID id) {
    out.writeLong(id.getMostSignificantBits());
    out.writeLong(id.getLeastSignificantBits());
  }

  private static void bytes(Sink out, byte[] data) {
    if (data.length > MAX_DATA_BYTES) {
      throw new IllegalArgumentException(data.length + " data bytes exceed " + MAX_DATA_BYTES);
    }
    out.writeInt(data.length);
    out.write(data);
  }

  private static void longs(Sink out, long[] values) {
    if (values.length > MAX_LIST_ENTRIES) {
      throw new IllegalArgumentException(values.length + " entries exceed " + MAX_LIST_ENTRIES);
    }
    out.writeInt(values.length);
    out.writeLongs(values);
  }

  /** Where a payload goes: {@link Counter} measures it, {@link Filler} writes it. */
  private interface Sink {
    void writeLong(long v);

    void writeInt(int v);

    void writeByte(int v);

    void write(byte[] data);

    void writeLongs(long[] values);

    default void writeBoolean(boolean b) {
      writeByte(b ? 1 : 0);
    }
  }

  /** Counts the bytes a payload takes. */
  private static final class Counter implements Sink {
    long bytes;

    @Override
    public void writeLong(long v) {
      bytes += 8;
    }

    @Override
    public void writeInt(int v) {
      bytes += 4;
    }

    @Override
    public void writeByte(int v) {
      bytes += 1;
    }

    @Override
    public void write(byte[] data) {
      bytes += data.length;
    }

    @Override
    public void writeLongs(long[] values) {
      bytes += 8L * values.length;
    }
  }

  /** Writes a payload into a buffer sized by a {@link Counter}. */
  private record Filler(ByteBuffer buf) implements Sink {
    @Override
    public void writeLong(long v) {
      buf.putLong(v);
    }

    @Override
    public void writeInt(int v) {
      buf.putInt(v);
    }

    @Override
    public void writeByte(int v) {
      buf.put((byte) v);
    }

    @Override
    public void write(byte[] data) {
      buf.put(data);
    }

    @Override
    public void writeLongs(long[] values) {
      buf.asLongBuffer().put(values);
      buf.position(buf.position() + 8 * values.length);
    }
  }

  /** Bounds-checked field reader: every shortfall or bad value becomes a FrameException. */
  private static final class Reader {
    private final ByteBuffer buf;

    Reader(ByteBuffer buf) {
      this.buf = buf;
    }

    private void need(int n, String what) throws FrameException {
      if (buf.remaining() < n) {
        throw new FrameException("truncated payload reading " + what);
      }
    }

    long raw() throws FrameException {
      need(8, "long");
      return buf.getLong();
    }

    long nonNegative() throws FrameException {
      long v = raw();
      if (v < 0) {
        throw new FrameException("negative value " + v);
      }
      return v;
    }

    int count() throws FrameException {
      need(4, "int");
      int v = buf.getInt();
      if (v < 0) {
        throw new FrameException("negative count or index " + v);
      }
      return v;
    }

    boolean bool() throws FrameException {
      need(1, "flag");
      byte b = buf.get();
      if (b != 0 && b != 1) {
        throw new FrameException("bad flag byte " + b);
      }
      return b == 1;
    }

    WriteKind kind() throws FrameException {
      need(1, "write kind");
      int k = buf.get();
      if (k < 0 || k >= WriteKind.values().length) {
        throw new FrameException("unknown write kind " + k);
      }
      return WriteKind.values()[k];
    }

    Refusal refusal() throws FrameException {
      need(1, "refusal");
      int k = buf.get();
      if (k < 0 || k >= Refusal.values().length) {
        throw new FrameException("unknown refusal " + k);
      }
      return Refusal.values()[k];
    }

    UUID uuid() throws FrameException {
      need(16, "uuid");
      return new UUID(buf.getLong(), buf.getLong());
    }

    byte[] bytes() throws FrameException {
      int n = count();
      if (n > MAX_DATA_BYTES || n > buf.remaining()) {
        throw new FrameException("data length " + n + " exceeds the " + buf.remaining() + " left");
      }
      byte[] data = new byte[n];
      buf.get(data);
      return data;
    }

    long[] longs() throws FrameException {
      int n = count();
      if (n > MAX_LIST_ENTRIES || (long) n * 8 > buf.remaining()) {
        throw new FrameException("list of " + n + " entries exceeds the bytes left");
      }
      long[] values = new long[n];
      for (int i = 0; i < n; i++) {
        values[i] = buf.getLong();
      }
      return values;
    }

    /** A list of sequence numbers: never negative. */
    long[] sequenceNumbers() throws FrameException {
      long[] values = longs();
      for (long v : values) {
        if (v < 0) {
          throw new FrameException("negative sequence number " + v);
        }
      }
      return values;
    }

    String text() throws FrameException {
      byte[] b = bytes();
      if (b.length > MAX_TEXT_BYTES) {
        throw new FrameException("text of " + b.length + " bytes is too long");
      }
      return new String(b, StandardCharsets.UTF_8);
    }

    void expectEnd() throws FrameException {
      if (buf.hasRemaining()) {
        throw new FrameException(buf.remaining() + " unexpected bytes after the message");
      }
    }
  }
}
