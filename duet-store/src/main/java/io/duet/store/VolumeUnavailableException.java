package io.duet.store;

import java.io.IOException;

/**
 * The volume is not served at this site now (a replicated volume whose site is stale, fenced or cut
 * off from its leader); the host should use a path to another site. Frontends map it to their "not
 * here" answer: SCSI NOT READY, LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE
 * (02/04/0C), an NBD error reply. When thrown for a write, the write may or may not have taken
 * effect.
 */
public class VolumeUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  public VolumeUnavailableException(String message) {
    super(message);
  }
}
