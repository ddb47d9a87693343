package io.duet.sync;

/**
 * The replicated unit state of a consistency group's volumes (persistent reservations, LUN reset,
 * the write cache setting, unit attentions), as the SCSI layer keeps it: a deterministic state
 * machine per volume, driven by opaque commands. The replicator applies every command at both sites
 * in the leader's one order and, when it resynchronizes the follower, replaces the follower's state
 * with the leader's snapshot.
 *
 * <p>Every method is called on the replicator's event loop and must be quick and non-blocking.
 * {@link #apply} must depend only on the state and the command, so both sites compute the same
 * state and result; a command the machine cannot parse should change nothing and say so in its
 * result rather than throw.
 */
public interface SharedStateMachine {
  /** Applies {@code command} to {@code volume}'s state and returns its result (never null). */
  byte[] apply(int volume, byte[] command);

  /** The whole state of {@code volume}, as {@link #install} takes it. */
  byte[] snapshot(int volume);

  /** Replaces the state of {@code volume} with a snapshot taken at the leader. */
  void install(int volume, byte[] snapshot);

  /** A machine without state: applies nothing and answers every command with an empty result. */
  SharedStateMachine NONE =
      new SharedStateMachine() {
        @Override
        public byte[] apply(int volume, byte[] command) {
          return new byte[0];
        }

        @Override
        public byte[] snapshot(int volume) {
          return new byte[0];
        }

        @Override
        public void install(int volume, byte[] snapshot) {}
      };
}
