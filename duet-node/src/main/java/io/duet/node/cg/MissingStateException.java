package io.duet.node.cg;

import java.io.IOException;

/** A group's record exists at this site but its replication state does not: it must not start. */
final class MissingStateException extends IOException {
  private static final long serialVersionUID = 1L;

  MissingStateException(String message) {
    super(message);
  }
}
