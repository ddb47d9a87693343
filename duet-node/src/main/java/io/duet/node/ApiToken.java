package io.duet.node;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The bearer token every REST call must present. Generated at first start into {@code
 * <data>/api-token}, readable only by the owner, so the CLI on the same machine can read it with
 * {@code --data-dir}.
 */
final class ApiToken {
  static final String FILE_NAME = "api-token";
  private static final int TOKEN_BYTES = 32;

  private final String value;

  private ApiToken(String value) {
    this.value = value;
  }

  static ApiToken loadOrCreate(Path dataDir, SecureRandom random) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
      if (text.length() < 32 || !text.matches("[0-9a-f]+")) {
        throw new IOException(
            file
                + ": not a valid API token (expected at least 32 hex digits); delete it to generate"
                + " a new one");
      }
      return new ApiToken(text);
    }
    byte[] raw = new byte[TOKEN_BYTES];
    random.nextBytes(raw);
    String token = HexFormat.of().formatHex(raw);
    // Created with owner-only permissions from the start: never a moment where others can read it.
    Path tmp = dataDir.resolve(FILE_NAME + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.US_ASCII)));
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file);
    }
    return new ApiToken(token);
  }

  String value() {
    return value;
  }

  /** Checks an {@code Authorization} header value in constant time. */
  boolean accepts(String authorizationHeader) {
    if (authorizationHeader == null || !authorizationHeader.startsWith("Bearer ")) {
      return false;
    }
    byte[] given =
        authorizationHeader
            .substring("Bearer ".length())
            .strip()
            .getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(given, value.getBytes(StandardCharsets.US_ASCII));
  }
}
