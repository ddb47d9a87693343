package io.duet.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A metadata or state file that exists but cannot be trusted: bad frame, checksum mismatch,
 * truncation, or content that does not parse. The message names the file and what is wrong.
 */
public final class CorruptMetadataException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public CorruptMetadataException(Path file, String problem) {
    super("corrupt metadata file " + file + ": " + problem);
    this.file = file;
  }

  /** The file that failed to load. */
  public Path file() {
    return file;
  }
}
