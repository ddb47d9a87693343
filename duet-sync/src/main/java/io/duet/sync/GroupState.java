package io.duet.sync;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.UUID;

/**
 * A group's replication state at one site (its epoch, leader and power-loss flags), made durable
 * before the site's record says the group exists, so that an existing group without it is a lost
 * state to report, never a fresh start.
 */
public final class GroupState {
  private GroupState() {}

  /** Whether {@code stateDirectory} holds a group's state. */
  public static boolean exists(Path stateDirectory) {
    return EpochStore.exists(stateDirectory);
  }

  /** A new group's state: epoch 1, led by {@code initialLeaderId}; durable on return. */
  public static void create(Path stateDirectory, UUID initialLeaderId) throws IOException {
    EpochStore.create(
        stateDirectory,
        new EpochStore.State(
            1, Objects.requireNonNull(initialLeaderId, "initialLeaderId"), false, false, ""));
  }

  /**
   * Rebuilds a lost state from the peer's word: its epoch and leader, with this site stale, so it
   * serves nothing and leads nothing until the peer has resynced it (a stale leader hands the
   * leadership to its peer at the next session).
   */
  public static void recreateStale(Path stateDirectory, long peerEpoch, UUID peerLeaderId)
      throws IOException {
    if (peerEpoch < 1) {
      throw new IllegalArgumentException("epoch " + peerEpoch);
    }
    EpochStore.create(
        stateDirectory,
        new EpochStore.State(
            peerEpoch, Objects.requireNonNull(peerLeaderId, "peerLeaderId"), true, false, ""));
  }
}
