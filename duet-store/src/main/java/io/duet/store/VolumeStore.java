package io.duet.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The volumes of one site, kept in one directory: each as a sparse data file plus an atomically
 * replaced, CRC32C-checked metadata file holding its identity, size and block size.
 *
 * <p>CONTRACT SKELETON — the implementation replaces these bodies.
 */
public final class VolumeStore implements AutoCloseable {

  /** Opens (creating if needed) the store in {@code directory} and loads its volumes. */
  public static VolumeStore open(Path directory) throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }

  /**
   * Creates a volume with a new identity (random UUID, NAA-6 designator, serial).
   *
   * @throws IllegalArgumentException bad name, size not a multiple of the block size, block size
   *     not 512 or 4096, or the name is taken
   */
  public LocalVolume create(String name, long sizeBytes, int blockSize) throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Creates a volume with a given identity (replication creates the twin of a peer's volume). */
  public LocalVolume create(VolumeIdentity identity, long sizeBytes, int blockSize)
      throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }

  public List<LocalVolume> list() {
    throw new UnsupportedOperationException("skeleton");
  }

  /** By name or UUID string. */
  public Optional<LocalVolume> get(String nameOrUuid) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Grows a volume; shrinking is refused with IllegalArgumentException. */
  public void resize(String nameOrUuid, long newSizeBytes) throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Deletes a volume and its files. */
  public void delete(String nameOrUuid) throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }

  /** A directory private to this volume where upper layers keep small state (PR, ...). */
  public Path stateDirectory(VolumeIdentity identity) {
    throw new UnsupportedOperationException("skeleton");
  }

  @Override
  public void close() throws IOException {
    throw new UnsupportedOperationException("skeleton");
  }
}
