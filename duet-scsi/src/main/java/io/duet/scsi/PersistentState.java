package io.duet.scsi;

import java.io.IOException;
import java.util.Optional;

/**
 * Durable storage for a logical unit's small state (persistent reservations with APTPL). The node
 * backs it with an atomically replaced, CRC-checked file next to the volume.
 */
public interface PersistentState {
  /** The last saved bytes, if any. */
  Optional<byte[]> load() throws IOException;

  /** Replaces the saved bytes durably before returning. */
  void save(byte[] state) throws IOException;

  /** Nothing is kept: for tests and volumes without APTPL support. */
  PersistentState NONE =
      new PersistentState() {
        @Override
        public Optional<byte[]> load() {
          return Optional.empty();
        }

        @Override
        public void save(byte[] state) {}
      };
}
