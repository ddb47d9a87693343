package io.duet.node.cg;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The site's consistency groups in one CRC-framed, atomically replaced JSON file ({@code cgs.state}
 * in the data directory). A change is durable before the node acts on it or answers.
 */
final class CgFile {
  static final String FILE_NAME = "cgs.state";
  static final int VERSION = 1;

  /** The file's content. */
  record Content(int version, List<CgRecord> groups) {
    Content {
      groups = List.copyOf(groups == null ? List.of() : groups);
    }
  }

  private final Path file;
  private final ObjectMapper json;

  CgFile(Path dataDir, ObjectMapper json) {
    this.file = dataDir.resolve(FILE_NAME);
    this.json = json.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  /** The saved groups; none when the file does not exist yet. */
  List<CgRecord> load() throws IOException {
    Optional<byte[]> bytes = AtomicFile.read(file);
    if (bytes.isEmpty()) {
      return List.of();
    }
    Content c;
    try {
      c = json.readValue(bytes.get(), Content.class);
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + ": consistency group file is not valid: " + e.getMessage(), e);
    }
    if (c.version() != VERSION) {
      throw new IOException(file + ": unsupported consistency group file version " + c.version());
    }
    return c.groups();
  }

  void save(List<CgRecord> groups) throws IOException {
    AtomicFile.write(file, json.writeValueAsBytes(new Content(VERSION, groups)));
  }
}
