package io.duet.sync.dirty;

import java.io.IOException;

/**
 * Back-pressure from an {@link ActivityLog}: a write needs an extent that is not active, the log is
 * full, and no active extent fell idle within the wait bound. Nothing was recorded and the write
 * must not be issued; the front end reports BUSY / TASK SET FULL and the host retries.
 */
public final class ActivityLogBusyException extends IOException {
  private static final long serialVersionUID = 1L;

  public ActivityLogBusyException(String message) {
    super(message);
  }
}
