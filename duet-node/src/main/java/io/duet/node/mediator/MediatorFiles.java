package io.duet.node.mediator;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * This site's mediator settings on disk, in {@code <data dir>/mediator/}: {@code settings}
 * (address, user and CA certificate; CRC framed, atomically replaced; the commit point), {@code
 * password} (owner-only, 0600) and {@code ca.crt} (a plain copy of the CA certificate, which the
 * HTTPS client reads). The password never goes into {@code settings}, the API or the logs.
 */
final class MediatorFiles {
  static final String DIR = "mediator";
  static final String SETTINGS = "settings";
  static final String PASSWORD = "password";
  static final String CA_CERT = "ca.crt";
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  /** What {@code settings} holds. */
  record Saved(String address, String user, String caCert) {
    Saved {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(caCert, "caCert");
    }
  }

  /** The saved settings with the password. */
  record Loaded(Saved saved, String password) {}

  private final Path dir;
  private final ObjectMapper json;

  MediatorFiles(Path dataDir, ObjectMapper json) {
    this.dir = dataDir.resolve(DIR);
    this.json = json.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  Path caCertFile() {
    return dir.resolve(CA_CERT);
  }

  Path passwordFile() {
    return dir.resolve(PASSWORD);
  }

  /**
   * The saved settings, or empty when none are.
   *
   * @throws IOException naming the file, when it is damaged or the password is missing
   */
  Optional<Loaded> load() throws IOException {
    Path file = dir.resolve(SETTINGS);
    Optional<byte[]> bytes = AtomicFile.read(file);
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    Saved saved;
    try {
      saved = json.readValue(bytes.get(), Saved.class);
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + ": mediator settings are not valid: " + e.getMessage(), e);
    }
    if (!Files.exists(passwordFile())) {
      throw new IOException(
          passwordFile() + " is missing: run 'duet mediator add' again (or remove the mediator)");
    }
    String password = Files.readString(passwordFile(), StandardCharsets.UTF_8).strip();
    // The client reads the CA from a file: rewrite the copy from the committed settings.
    writePrivate(caCertFile(), saved.caCert().getBytes(StandardCharsets.US_ASCII));
    return Optional.of(new Loaded(saved, password));
  }

  /**
   * Saves new settings, durable on return. The password goes first: a crash before the settings
   * leaves the old settings with the new password, which the mediator refuses loudly (the site
   * shows "not connected") and a repeated {@code mediator add} fixes.
   */
  void save(Saved saved, String password) throws IOException {
    AtomicFile.createDirectories(dir);
    writePrivate(passwordFile(), (password + "\n").getBytes(StandardCharsets.UTF_8));
    writePrivate(caCertFile(), saved.caCert().getBytes(StandardCharsets.US_ASCII));
    AtomicFile.write(dir.resolve(SETTINGS), json.writeValueAsBytes(saved));
  }

  /** Removes the settings (the commit point first), then the password and the CA copy. */
  void delete() throws IOException {
    AtomicFile.delete(dir.resolve(SETTINGS));
    Files.deleteIfExists(passwordFile());
    Files.deleteIfExists(caCertFile());
  }

  /**
   * Replaces {@code file} atomically with an owner-only file: the temporary file is created 0600,
   * so the secret is never readable by others, not even for a moment.
   */
  private static void writePrivate(Path file, byte[] content) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(temp);
    Files.createFile(temp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(content));
      ch.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
