package io.duet.iscsi;

import io.duet.iscsi.TargetCatalog.Target;
import io.duet.scsi.ItNexus;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One iSCSI session (MaxConnections=1, so exactly one {@link Connection}): its identity, the
 * negotiated parameters, the CmdSN window and the budget of buffered Data-Out bytes.
 */
final class Session {
  final int tsih;
  final SessionParams params;
  final Target target;
  final ItNexus nexus;
  final LunAccess luns;
  final CmdWindow window;
  final Connection connection;
  final AtomicLong commands = new AtomicLong();
  private final long bufferBudgetBytes;
  private long bufferedBytes;

  Session(
      int tsih,
      SessionParams params,
      Target target,
      ItNexus nexus,
      LunAccess luns,
      CmdWindow window,
      Connection connection,
      long bufferBudgetBytes) {
    this.tsih = tsih;
    this.params = params;
    this.target = target;
    this.nexus = nexus;
    this.luns = luns;
    this.window = window;
    this.connection = connection;
    this.bufferBudgetBytes = bufferBudgetBytes;
  }

  /** The registry key: reinstatement replaces a session with the same key (RFC 7143 6.3.5). */
  String key() {
    return params.initiatorName()
        + "|"
        + params.isidHex()
        + "|"
        + (params.targetName() == null ? "" : params.targetName());
  }

  /** Reserves buffer space for a write; false when the session holds too much already. */
  synchronized boolean reserve(long bytes) {
    if (bufferedBytes + bytes > bufferBudgetBytes) {
      return false;
    }
    bufferedBytes += bytes;
    return true;
  }

  synchronized void release(long bytes) {
    bufferedBytes -= bytes;
    assert bufferedBytes >= 0;
  }
}
