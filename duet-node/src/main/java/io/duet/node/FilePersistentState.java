package io.duet.node;

import io.duet.scsi.PersistentState;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** A logical unit's persistent-reservation state in one CRC-checked, atomically replaced file. */
final class FilePersistentState implements PersistentState {
  private final Path file;

  FilePersistentState(Path file) {
    this.file = file;
  }

  @Override
  public Optional<byte[]> load() throws IOException {
    return AtomicFile.read(file);
  }

  @Override
  public void save(byte[] state) throws IOException {
    AtomicFile.write(file, state);
  }
}
