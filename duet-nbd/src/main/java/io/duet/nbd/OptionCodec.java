package io.duet.nbd;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the payloads of fixed-newstyle options and encodes the option replies' payloads. Every
 * decoder consumes exactly the option's data or throws {@link MalformedException}; lengths inside
 * the data are checked against what is left before anything is allocated.
 */
final class OptionCodec {
  private OptionCodec() {}

  /** NBD_OPT_INFO / NBD_OPT_GO: an export name and the NBD_INFO items the client asks for. */
  record InfoRequest(String exportName, List<Integer> items) {}

  /** NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: an export name and queries. */
  record MetaContextRequest(String exportName, List<String> queries) {}

  static InfoRequest decodeInfo(byte[] data) throws MalformedException {
    ByteBuffer b = ByteBuffer.wrap(data);
    try {
      String name = string(b, "export name");
      int count = Short.toUnsignedInt(b.getShort());
      if (b.remaining() != count * 2) {
        throw new MalformedException(
            "information request count " + count + " does not match " + b.remaining() + " bytes");
      }
      List<Integer> items = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        items.add(Short.toUnsignedInt(b.getShort()));
      }
      return new InfoRequest(name, List.copyOf(items));
    } catch (BufferUnderflowException e) {
      throw new MalformedException("information request truncated");
    }
  }

  static MetaContextRequest decodeMetaContext(byte[] data) throws MalformedException {
    ByteBuffer b = ByteBuffer.wrap(data);
    try {
      String name = string(b, "export name");
      long count = Integer.toUnsignedLong(b.getInt());
      // Each query takes at least its 4-byte length, which bounds the list before allocation.
      if (count > b.remaining() / 4) {
        throw new MalformedException("query count " + count + " exceeds the option data");
      }
      List<String> queries = new ArrayList<>((int) count);
      for (long i = 0; i < count; i++) {
        queries.add(string(b, "query"));
      }
      if (b.hasRemaining()) {
        throw new MalformedException(b.remaining() + " bytes after the last query");
      }
      return new MetaContextRequest(name, List.copyOf(queries));
    } catch (BufferUnderflowException e) {
      throw new MalformedException("metadata context request truncated");
    }
  }

  /** NBD_OPT_EXPORT_NAME carries just the name, its length being the option's. */
  static String decodeExportName(byte[] data) throws MalformedException {
    if (data.length > Nbd.MAX_STRING_BYTES) {
      throw new MalformedException("export name longer than " + Nbd.MAX_STRING_BYTES + " bytes");
    }
    return utf8(ByteBuffer.wrap(data), "export name");
  }

  /** A 32-bit length followed by that many bytes of UTF-8. */
  private static String string(ByteBuffer b, String what) throws MalformedException {
    long length = Integer.toUnsignedLong(b.getInt());
    if (length > Nbd.MAX_STRING_BYTES) {
      throw new MalformedException(what + " longer than " + Nbd.MAX_STRING_BYTES + " bytes");
    }
    if (length > b.remaining()) {
      throw new MalformedException(
          what + " of " + length + " bytes but only " + b.remaining() + " remain");
    }
    ByteBuffer slice = b.slice(b.position(), (int) length);
    b.position(b.position() + (int) length);
    return utf8(slice, what);
  }

  private static String utf8(ByteBuffer bytes, String what) throws MalformedException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedException(what + " is not valid UTF-8");
    }
  }

  /** NBD_REP_SERVER: the name, length-prefixed. */
  static byte[] encodeServer(String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n).array();
  }

  /** NBD_REP_INFO with NBD_INFO_EXPORT: size and transmission flags. */
  static byte[] encodeInfoExport(long sizeBytes, int transmissionFlags) {
    return ByteBuffer.allocate(12)
        .putShort((short) Nbd.INFO_EXPORT)
        .putLong(sizeBytes)
        .putShort((short) transmissionFlags)
        .array();
  }

  /** NBD_REP_INFO with NBD_INFO_NAME or NBD_INFO_DESCRIPTION: type then the bare string. */
  static byte[] encodeInfoText(int type, String text) {
    byte[] t = text.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(2 + t.length).putShort((short) type).put(t).array();
  }

  static byte[] encodeInfoBlockSize(int minimum, int preferred, int maximum) {
    return ByteBuffer.allocate(14)
        .putShort((short) Nbd.INFO_BLOCK_SIZE)
        .putInt(minimum)
        .putInt(preferred)
        .putInt(maximum)
        .array();
  }

  static byte[] encodeMetaContext(int id, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + n.length).putInt(id).put(n).array();
  }
}
