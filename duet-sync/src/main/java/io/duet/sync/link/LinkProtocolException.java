package io.duet.sync.link;

import java.io.IOException;

/** The peer sent something the link protocol forbids; the connection is closed. */
final class LinkProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  LinkProtocolException(String message) {
    super(message);
  }
}
