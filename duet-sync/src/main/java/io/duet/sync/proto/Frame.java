package io.duet.sync.proto;

import java.util.Objects;
import java.util.UUID;

/** One message as it travels: the consistency group, the sender's epoch and the message. */
public record Frame(UUID groupId, long epoch, Message message) {
  public Frame {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(message, "message");
    if (epoch < 0) {
      throw new IllegalArgumentException("negative epoch " + epoch);
    }
  }
}
