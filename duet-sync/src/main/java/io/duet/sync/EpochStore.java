package io.duet.sync;

import io.duet.store.AtomicFile;
import io.duet.store.CorruptMetadataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * The group's epoch and leader, persisted atomically before a site acts on them. Epochs only grow:
 * a write of a lower epoch is a bug and fails loudly.
 */
final class EpochStore {
  static final String FILE_NAME = "sync-epoch";

  /**
   * A persisted epoch and the site that leads in it; {@code stale}: this site lost power while its
   * peer held every write it acknowledged, so its copy may lack some, until the peer has resynced
   * it (it must not lead a resync before, nor serve as a survivor); {@code alone}: this site, the
   * leader, has acknowledged writes its follower lacks since the follower was last in sync (its own
   * copy is then the newer one everywhere); {@code bootId}: the machine boot this state was last
   * opened in (see {@link SyncTimers#bootId}).
   */
  record State(long epoch, UUID leaderId, boolean stale, boolean alone, String bootId) {
    State {
      if (bootId.length() > 255) {
        throw new IllegalArgumentException("boot id of " + bootId.length() + " characters");
      }
    }

    /**
     * A new epoch: staleness and the boot stay, and so does being alone, for as long as this site
     * keeps leading.
     */
    State next(long nextEpoch, UUID nextLeader) {
      return new State(nextEpoch, nextLeader, stale, alone && nextLeader.equals(leaderId), bootId);
    }

    State withAlone(boolean nowAlone) {
      return new State(epoch, leaderId, stale, nowAlone, bootId);
    }

    State withStale(boolean nowStale) {
      return new State(epoch, leaderId, nowStale, alone, bootId);
    }
  }

  private final Path file;
  private State current;

  private EpochStore(Path file, State current) {
    this.file = file;
    this.current = current;
  }

  /** Whether {@code directory} holds a group's epoch. */
  static boolean exists(Path directory) {
    return Files.exists(directory.resolve(FILE_NAME));
  }

  /** Writes a group's first epoch state, replacing any; durable on return (directories too). */
  static EpochStore create(Path directory, State first) throws IOException {
    AtomicFile.createDirectories(directory);
    EpochStore store = new EpochStore(directory.resolve(FILE_NAME), null);
    store.persist(first);
    return store;
  }

  /** Opens the group's epoch, creating epoch 1 led by {@code initialLeader} when there is none. */
  static EpochStore open(Path directory, UUID initialLeader) throws IOException {
    Path file = directory.resolve(FILE_NAME);
    Optional<byte[]> payload = AtomicFile.read(file);
    if (payload.isEmpty()) {
      return create(directory, new State(1, initialLeader, false, false, ""));
    }
    byte[] bytes = payload.get();
    // 24 bytes: epoch and leader; then flags (stale, alone); then a boot id (length-prefixed).
    if (bytes.length < 24 || bytes.length > 26 + 255) {
      throw new CorruptMetadataException(file, "epoch state of " + bytes.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    long epoch = buf.getLong();
    if (epoch < 1) {
      throw new CorruptMetadataException(file, "epoch " + epoch);
    }
    UUID leader = new UUID(buf.getLong(), buf.getLong());
    int flags = buf.hasRemaining() ? buf.get() : 0;
    String boot = "";
    if (buf.hasRemaining()) {
      int n = buf.get() & 0xff;
      if (buf.remaining() != n) {
        throw new CorruptMetadataException(
            file, "boot id of " + buf.remaining() + " bytes, not " + n);
      }
      byte[] b = new byte[n];
      buf.get(b);
      boot = new String(b, java.nio.charset.StandardCharsets.US_ASCII);
    }
    return new EpochStore(file, new State(epoch, leader, (flags & 1) != 0, (flags & 2) != 0, boot));
  }

  State current() {
    return current;
  }

  /** Makes {@code next} durable; returns once it is. */
  void persist(State next) throws IOException {
    if (current != null && next.epoch() < current.epoch()) {
      throw new IllegalStateException("epoch may not go back from " + current + " to " + next);
    }
    byte[] boot = next.bootId().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    ByteBuffer buf = ByteBuffer.allocate(26 + boot.length);
    buf.putLong(next.epoch())
        .putLong(next.leaderId().getMostSignificantBits())
        .putLong(next.leaderId().getLeastSignificantBits())
        .put((byte) ((next.stale() ? 1 : 0) | (next.alone() ? 2 : 0)))
        .put((byte) boot.length)
        .put(boot);
    AtomicFile.write(file, buf.array());
    current = next;
  }
}
