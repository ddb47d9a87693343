package io.duet.iscsi;

import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * Task Management Function requests (RFC 7143 11.5): ABORT TASK, ABORT TASK SET, CLEAR TASK SET,
 * LOGICAL UNIT RESET, TARGET WARM/COLD RESET; TASK REASSIGN and CLEAR ACA are refused. Aborted
 * tasks get no response; the TMF response goes out after they have stopped.
 */
final class TaskManagement {
  private static final System.Logger LOG = System.getLogger(TaskManagement.class.getName());

  static final int ABORT_TASK = 1;
  static final int ABORT_TASK_SET = 2;
  static final int CLEAR_ACA = 3;
  static final int CLEAR_TASK_SET = 4;
  static final int LOGICAL_UNIT_RESET = 5;
  static final int TARGET_WARM_RESET = 6;
  static final int TARGET_COLD_RESET = 7;
  static final int TASK_REASSIGN = 8;

  static final int FUNCTION_COMPLETE = 0;
  static final int TASK_DOES_NOT_EXIST = 1;
  static final int LUN_DOES_NOT_EXIST = 2;
  static final int REASSIGNMENT_NOT_SUPPORTED = 4;
  static final int FUNCTION_NOT_SUPPORTED = 5;
  static final int FUNCTION_REJECTED = 255;

  private final Connection conn;
  private final Session session;
  private final CommandPath commands;

  TaskManagement(Connection conn, Session session, CommandPath commands) {
    this.conn = conn;
    this.session = session;
    this.commands = commands;
  }

  void handle(Bhs in) throws IOException {
    int function = in.flags() & 0x7f;
    int itt = in.itt();
    int lun = Lun.decode(in.i64(8));
    int referenced = in.i32(20);
    int response = respond(function, lun, referenced);
    LOG.log(Level.INFO, "iSCSI {0}: TMF {1} lun {2} -> {3}", conn.remote, function, lun, response);
    PduWriter w = conn.writer;
    w.lock().lock();
    try {
      Bhs h = w.header();
      h.u8(0, Bhs.TASK_MGMT_RESPONSE);
      h.u8(1, 0x80);
      h.u8(2, response);
      h.i32(16, itt);
      h.i32(24, conn.takeStatSn());
      conn.fillWindow(h);
      w.send(null);
    } finally {
      w.lock().unlock();
    }
    if (function == TARGET_COLD_RESET && response == FUNCTION_COMPLETE) {
      // A cold reset also ends every connection to the target, this one included.
      conn.server.closeSessionsOf(session.target.name());
      conn.close();
    }
  }

  private int respond(int function, int lun, int referenced) {
    long timeout = Connection.DRAIN_TIMEOUT_MS;
    switch (function) {
      case ABORT_TASK -> {
        Task t = commands.task(referenced);
        if (t == null || t.lun != lun) {
          return TASK_DOES_NOT_EXIST;
        }
        return commands.abort(t, timeout) ? FUNCTION_COMPLETE : TASK_DOES_NOT_EXIST;
      }
      case ABORT_TASK_SET, CLEAR_TASK_SET -> {
        if (!exists(lun)) {
          return LUN_DOES_NOT_EXIST;
        }
        for (Task t : commands.tasksOf(lun)) {
          commands.abort(t, timeout);
        }
        return FUNCTION_COMPLETE;
      }
      case LOGICAL_UNIT_RESET -> {
        if (!exists(lun)) {
          return LUN_DOES_NOT_EXIST;
        }
        for (Task t : commands.tasksOf(lun)) {
          commands.abort(t, timeout);
        }
        abortElsewhere(session.luns.unit(lun));
        session.luns.reset(lun, session.nexus);
        return FUNCTION_COMPLETE;
      }
      case TARGET_WARM_RESET, TARGET_COLD_RESET -> {
        for (Task t : commands.tasksOf(-1)) {
          commands.abort(t, timeout);
        }
        // Every LU the session can address, at any LUN, each reset once.
        for (Object unit : session.luns.units()) {
          abortElsewhere(unit);
          session.luns.resetUnit(unit, session.nexus);
        }
        return FUNCTION_COMPLETE;
      }
      case TASK_REASSIGN -> {
        return REASSIGNMENT_NOT_SUPPORTED;
      }
      case CLEAR_ACA -> {
        return FUNCTION_NOT_SUPPORTED;
      }
      default -> {
        return FUNCTION_REJECTED;
      }
    }
  }

  /**
   * A LU reset ends the tasks of every initiator on that LU (SAM-5 6.3.3), not only this session's:
   * without TAS they end without a response.
   */
  private void abortElsewhere(Object unit) {
    if (unit == null) {
      return;
    }
    for (Session other : conn.server.liveSessions()) {
      CommandPath path = other.connection.commands();
      if (other == session || path == null || other.luns == null) {
        continue;
      }
      for (Task t : path.tasksOf(-1)) {
        if (other.luns.unit(t.lun) == unit) {
          path.abort(t, Connection.DRAIN_TIMEOUT_MS);
        }
      }
    }
  }

  private boolean exists(int lun) {
    try {
      return lun != Lun.INVALID && session.luns.exists(lun);
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "LUN lookup threw", e);
      return false;
    }
  }
}
