package io.duet.store;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What the store persists about a volume, as {@code key=value} lines inside an {@link AtomicFile}
 * frame. Decoding is strict: unknown, missing or repeated keys are corruption, not defaults.
 */
record VolumeMeta(VolumeIdentity identity, long sizeBytes, int blockSize) {
  static final int FORMAT = 1;
  private static final List<String> KEYS =
      List.of("format", "uuid", "name", "naa", "serial", "sizeBytes", "blockSize");

  byte[] encode() {
    String text =
        "format="
            + FORMAT
            + "\n"
            + "uuid="
            + identity.uuid()
            + "\n"
            + "name="
            + identity.name()
            + "\n"
            + "naa="
            + identity.naaHex()
            + "\n"
            + "serial="
            + identity.serial()
            + "\n"
            + "sizeBytes="
            + sizeBytes
            + "\n"
            + "blockSize="
            + blockSize
            + "\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static VolumeMeta decode(Path file, byte[] payload) throws CorruptMetadataException {
    Map<String, String> fields = parseLines(file, payload);
    try {
      int format = Integer.parseInt(fields.get("format"));
      if (format != FORMAT) {
        throw new CorruptMetadataException(file, "unsupported metadata format " + format);
      }
      VolumeIdentity identity =
          new VolumeIdentity(
              UUID.fromString(fields.get("uuid")),
              fields.get("name"),
              HexFormat.of().parseHex(fields.get("naa")),
              fields.get("serial"));
      Identities.checkName(identity.name());
      Identities.checkSerial(identity.serial());
      long sizeBytes = Long.parseLong(fields.get("sizeBytes"));
      int blockSize = Integer.parseInt(fields.get("blockSize"));
      LocalVolume.checkGeometry(sizeBytes, blockSize);
      return new VolumeMeta(identity, sizeBytes, blockSize);
    } catch (IllegalArgumentException e) {
      // NumberFormatException and bad UUID/hex/NAA/name all land here.
      throw new CorruptMetadataException(file, "bad value: " + e.getMessage());
    }
  }

  private static Map<String, String> parseLines(Path file, byte[] payload)
      throws CorruptMetadataException {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(payload))
              .toString();
    } catch (CharacterCodingException e) {
      throw new CorruptMetadataException(file, "not UTF-8 text");
    }
    Map<String, String> fields = new HashMap<>();
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      int eq = line.indexOf('=');
      String key = eq < 0 ? line : line.substring(0, eq);
      if (eq < 0 || !KEYS.contains(key)) {
        throw new CorruptMetadataException(file, "unexpected line '" + abbreviate(line) + "'");
      }
      if (fields.put(key, line.substring(eq + 1)) != null) {
        throw new CorruptMetadataException(file, "repeated key " + key);
      }
    }
    for (String key : KEYS) {
      if (!fields.containsKey(key)) {
        throw new CorruptMetadataException(file, "missing key " + key);
      }
    }
    return fields;
  }

  private static String abbreviate(String line) {
    return line.length() <= 40 ? line : line.substring(0, 40) + "...";
  }
}
