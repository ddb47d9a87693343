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

  /** A persisted epoch and the site that leads in it. */
  record State(long epoch, UUID leaderId) {}

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
      store.persist(new State(1, initialLeader));
      return store;
    }
    byte[] bytes = payload.get();
    if (bytes.length != 24) {
      throw new CorruptMetadataException(file, "epoch state of " + bytes.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    long epoch = buf.getLong();
    if (epoch < 1) {
      throw new CorruptMetadataException(file, "epoch " + epoch);
    }
    return new EpochStore(file, new State(epoch, new UUID(buf.getLong(), buf.getLong())));
  }

  State current() {
    return current;
  }

  /** Makes {@code next} durable; returns once it is. */
  void persist(State next) throws IOException {
    if (current != null && next.epoch() < current.epoch()) {
      throw new IllegalStateException("epoch may not go back from " + current + " to " + next);
    }
    ByteBuffer buf = ByteBuffer.allocate(24);
    buf.putLong(next.epoch())
        .putLong(next.leaderId().getMostSignificantBits())
        .putLong(next.leaderId().getLeastSignificantBits());
    AtomicFile.write(file, buf.array());
    current = next;
  }
}
