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
   * A persisted epoch and the site that leads in it; {@code handBack}: this site, the leader,
   * stopped uncleanly while its follower held every acknowledged write, and must hand the
   * leadership to it at the next session (so the follower's copy wins the resync); {@code
   * bootId}: the machine boot this state was last opened in (see {@link SyncTimers#bootId}).
   */
  record State(long epoch, UUID leaderId, boolean handBack, String bootId) {
    State {
      if (bootId.length() > 255) {
        throw new IllegalArgumentException("boot id of " + bootId.length() + " characters");
      }
    }

    /** A new epoch: the hand-back is done (or moot) and the boot stays. */
    State next(long nextEpoch, UUID nextLeader) {
      return new State(nextEpoch, nextLeader, false, bootId);
    }
  }

  private final Path file;
  private State current;

  private EpochStore(Path file, State current) {
    this.file = file;
    this.current = current;
  }

  static EpochStore open(Path directory, UUID initialLeader) throws IOException {
    Files.createDirectories(directory);
    Path file = directory.resolve(FILE_NAME);
    Optional<byte[]> payload = AtomicFile.read(file);
    if (payload.isEmpty()) {
      EpochStore store = new EpochStore(file, null);
      store.persist(new State(1, initialLeader, false, ""));
      return store;
    }
    byte[] bytes = payload.get();
    // 24 bytes: epoch and leader; then a hand-back flag; then a boot id (length-prefixed).
    if (bytes.length < 24 || bytes.length > 26 + 255) {
      throw new CorruptMetadataException(file, "epoch state of " + bytes.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    long epoch = buf.getLong();
    if (epoch < 1) {
      throw new CorruptMetadataException(file, "epoch " + epoch);
    }
    UUID leader = new UUID(buf.getLong(), buf.getLong());
    boolean handBack = buf.hasRemaining() && buf.get() != 0;
    String boot = "";
    if (buf.hasRemaining()) {
      int n = buf.get() & 0xff;
      if (buf.remaining() != n) {
        throw new CorruptMetadataException(file, "boot id of " + buf.remaining() + " bytes, not " + n);
      }
      byte[] b = new byte[n];
      buf.get(b);
      boot = new String(b, java.nio.charset.StandardCharsets.US_ASCII);
    }
    return new EpochStore(file, new State(epoch, leader, handBack, boot));
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
        .put((byte) (next.handBack() ? 1 : 0))
        .put((byte) boot.length)
        .put(boot);
    AtomicFile.write(file, buf.array());
    current = next;
  }
}
