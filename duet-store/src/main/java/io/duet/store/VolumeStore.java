package io.duet.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The volumes of one site, kept in one directory: each as a sparse data file plus an atomically
 * replaced, CRC32C-checked metadata file holding its identity, size and block size.
 *
 * <p>Layout: {@code <dir>/store.lock} (held while open), {@code <dir>/volumes/<uuid>/data}, {@code
 * .../meta}, {@code .../atomic.journal} (the atomic-write redo journal, replayed when the volume is
 * loaded) and {@code .../state/} (upper layers' files). The {@code meta} file is the commit point:
 * it is written last on create and deleted first on delete, and a volume directory without one is
 * the leftover of an interrupted create or delete, removed on {@link #open}. All methods are
 * thread-safe.
 */
public final class VolumeStore implements AutoCloseable {
  static final String VOLUMES_DIR = "volumes";
  static final String DATA_FILE = "data";
  static final String META_FILE = "meta";
  static final String STATE_DIR = "state";
  static final String LOCK_FILE = "store.lock";

  private final Path volumesDir;
  private final FileChannel lockChannel;
  private final Supplier<UUID> uuids;
  private final Map<UUID, LocalVolume> byUuid = new LinkedHashMap<>();
  private final Map<String, LocalVolume> byName = new HashMap<>();
  private boolean closed;

  private VolumeStore(Path volumesDir, FileChannel lockChannel, Supplier<UUID> uuids) {
    this.volumesDir = volumesDir;
    this.lockChannel = lockChannel;
    this.uuids = uuids;
  }

  /** Opens (creating if needed) the store in {@code directory} and loads its volumes. */
  public static VolumeStore open(Path directory) throws IOException {
    return open(directory, UUID::randomUUID);
  }

  /** As {@link #open(Path)}, with the source of new volume UUIDs injected (tests). */
  static VolumeStore open(Path directory, Supplier<UUID> uuids) throws IOException {
    Path volumesDir = directory.resolve(VOLUMES_DIR);
    AtomicFile.createDirectories(volumesDir);
    FileChannel lock = lockExclusively(directory.resolve(LOCK_FILE));
    VolumeStore store = new VolumeStore(volumesDir, lock, Objects.requireNonNull(uuids, "uuids"));
    try {
      store.loadAll();
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * Two stores on one directory (two nodes, or a node started twice) would each cache and rewrite
   * the same metadata; the OS lock makes the second one fail at once instead.
   */
  private static FileChannel lockExclusively(Path lockFile) throws IOException {
    FileChannel ch =
        FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by another store in this JVM
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      ch.close();
      throw new IOException("volume store " + lockFile.getParent() + " is in use by another store");
    }
    return ch; // closing the channel releases the lock
  }

  private void loadAll() throws IOException {
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(volumesDir)) {
      entries.forEach(dirs::add);
    }
    dirs.sort(Comparator.naturalOrder());
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir) || !isUuid(dir.getFileName().toString())) {
        continue; // not ours: never delete what this store did not create
      }
      Optional<byte[]> payload = AtomicFile.read(dir.resolve(META_FILE));
      if (payload.isEmpty()) {
        deleteRecursively(dir);
        continue;
      }
      VolumeMeta meta = VolumeMeta.decode(dir.resolve(META_FILE), payload.get());
      VolumeIdentity id = meta.identity();
      if (!dir.getFileName().toString().equals(id.uuid().toString())) {
        throw new CorruptMetadataException(
            dir.resolve(META_FILE), "uuid " + id.uuid() + " does not match its directory");
      }
      if (byName.containsKey(id.name())) {
        throw new CorruptMetadataException(
            dir.resolve(META_FILE), "volume name " + id.name() + " is used twice");
      }
      AtomicFile.createDirectories(dir.resolve(STATE_DIR));
      LocalVolume volume =
          LocalVolume.open(dir.resolve(DATA_FILE), id, meta.sizeBytes(), meta.blockSize());
      byUuid.put(id.uuid(), volume);
      byName.put(id.name(), volume);
    }
  }

  /**
   * Creates a volume with a new identity (random UUID, NAA-6 designator, serial).
   *
   * @throws IllegalArgumentException bad name, size not a multiple of the block size, block size
   *     not 512 or 4096, or the name is taken
   */
  public LocalVolume create(String name, long sizeBytes, int blockSize) throws IOException {
    return create(Identities.newIdentity(uuids.get(), name), sizeBytes, blockSize);
  }

  /** Creates a volume with a given identity (replication creates the twin of a peer's volume). */
  public synchronized LocalVolume create(VolumeIdentity identity, long sizeBytes, int blockSize)
      throws IOException {
    ensureOpen();
    Identities.checkName(identity.name());
    Identities.checkSerial(identity.serial());
    LocalVolume.checkGeometry(sizeBytes, blockSize);
    if (byName.containsKey(identity.name())) {
      throw new IllegalArgumentException("volume name " + identity.name() + " is taken");
    }
    if (byUuid.containsKey(identity.uuid())) {
      throw new IllegalArgumentException("volume uuid " + identity.uuid() + " exists");
    }
    Path dir = volumeDir(identity.uuid());
    Files.createDirectory(dir);
    LocalVolume volume = null;
    try {
      Files.createDirectory(dir.resolve(STATE_DIR));
      volume = LocalVolume.create(dir.resolve(DATA_FILE), identity, sizeBytes, blockSize);
      // meta last: until it is durable, a crash leaves a directory that open() removes.
      AtomicFile.write(
          dir.resolve(META_FILE), new VolumeMeta(identity, sizeBytes, blockSize).encode());
      // The meta's write made dir's entries durable; this makes dir itself durable in volumes/.
      AtomicFile.fsyncDirectory(dir.getParent());
    } catch (IOException | RuntimeException e) {
      if (volume != null) {
        volume.close();
      }
      deleteRecursively(dir);
      throw e;
    }
    byUuid.put(identity.uuid(), volume);
    byName.put(identity.name(), volume);
    return volume;
  }

  /** All volumes, ordered by name. */
  public synchronized List<LocalVolume> list() {
    return byName.values().stream().sorted(Comparator.comparing(v -> v.identity().name())).toList();
  }

  /** By name or UUID string (a name wins if both match). */
  public synchronized Optional<LocalVolume> get(String nameOrUuid) {
    LocalVolume byNameHit = byName.get(nameOrUuid);
    if (byNameHit != null) {
      return Optional.of(byNameHit);
    }
    try {
      return Optional.ofNullable(byUuid.get(UUID.fromString(nameOrUuid)));
    } catch (IllegalArgumentException notAUuid) {
      return Optional.empty();
    }
  }

  /**
   * Grows a volume; shrinking is refused with IllegalArgumentException.
   *
   * @throws IllegalArgumentException unknown volume, smaller size, or size not a multiple of the
   *     block size
   */
  public synchronized void resize(String nameOrUuid, long newSizeBytes) throws IOException {
    ensureOpen();
    LocalVolume volume = require(nameOrUuid);
    LocalVolume.checkGeometry(newSizeBytes, volume.blockSize());
    if (newSizeBytes < volume.sizeBytes()) {
      throw new IllegalArgumentException(
          "volume "
              + volume.identity().name()
              + " can only grow: "
              + newSizeBytes
              + " < "
              + volume.sizeBytes());
    }
    if (newSizeBytes == volume.sizeBytes()) {
      return;
    }
    // File first, then meta: a crash in between leaves a longer file that open() ignores.
    volume.grow(newSizeBytes);
    Path dir = volumeDir(volume.identity().uuid());
    AtomicFile.write(
        dir.resolve(META_FILE),
        new VolumeMeta(volume.identity(), newSizeBytes, volume.blockSize()).encode());
  }

  /**
   * Deletes a volume and its files; I/O still in flight on it fails afterwards.
   *
   * @throws IllegalArgumentException unknown volume
   */
  public synchronized void delete(String nameOrUuid) throws IOException {
    ensureOpen();
    LocalVolume volume = require(nameOrUuid);
    VolumeIdentity id = volume.identity();
    byUuid.remove(id.uuid());
    byName.remove(id.name());
    Path dir = volumeDir(id.uuid());
    try {
      volume.close();
    } finally {
      // meta first: once it is gone the volume no longer exists, whatever else a crash leaves.
      AtomicFile.delete(dir.resolve(META_FILE));
      deleteRecursively(dir);
      AtomicFile.fsyncDirectory(volumesDir);
    }
  }

  /** A directory private to this volume where upper layers keep small state (PR, ...). */
  public Path stateDirectory(VolumeIdentity identity) {
    return volumeDir(identity.uuid()).resolve(STATE_DIR);
  }

  /** Closes every volume's files. Idempotent. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    IOException first = null;
    for (LocalVolume volume : byUuid.values()) {
      try {
        volume.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    byUuid.clear();
    byName.clear();
    try {
      lockChannel.close();
    } catch (IOException e) {
      if (first == null) {
        first = e;
      } else {
        first.addSuppressed(e);
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private LocalVolume require(String nameOrUuid) {
    return get(nameOrUuid)
        .orElseThrow(() -> new IllegalArgumentException("no volume " + nameOrUuid));
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("volume store " + volumesDir + " is closed");
    }
  }

  private static boolean isUuid(String s) {
    try {
      return UUID.fromString(s).toString().equals(s);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private Path volumeDir(UUID uuid) {
    return volumesDir.resolve(uuid.toString());
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(dir)) {
      paths = walk.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path p : paths) {
      try {
        Files.delete(p);
      } catch (NoSuchFileException alreadyGone) {
        // fine: the goal is absence
      }
    }
  }
}
