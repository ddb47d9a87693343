package io.duet.iscsi;

import io.duet.iscsi.DataOutSequencer.Placement;
import io.duet.iscsi.DataOutSequencer.R2t;
import io.duet.iscsi.DataOutSequencer.SequenceError;
import io.duet.scsi.ScsiResult;
import io.duet.scsi.ScsiTask;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The SCSI command path of one connection: SCSI Command and Data-Out PDUs in (reader thread), R2Ts
 * out, each command executed on its own virtual thread, then Data-In with phase-collapsed status or
 * a SCSI Response with sense and residuals out.
 */
final class CommandPath {
  private static final System.Logger LOG = System.getLogger(CommandPath.class.getName());
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();
  private static final int ILLEGAL_REQUEST = 0x5;
  private static final int ABORTED_COMMAND = 0xb;
  private static final int HARDWARE_ERROR = 0x4;

  private final Connection conn;
  private final Session session;
  private final SessionParams params;
  private final IscsiSettings settings;

  /** Every task not yet retired, by ITT. */
  private final ConcurrentHashMap<Integer, Task> tasks = new ConcurrentHashMap<>();

  /** Tasks still collecting Data-Out, by ITT. */
  private final ConcurrentHashMap<Integer, Task> collecting = new ConcurrentHashMap<>();

  private final AtomicInteger immediateInFlight = new AtomicInteger();
  private final ResponseWriter responses;

  CommandPath(Connection conn, Session session) {
    this.conn = conn;
    this.session = session;
    this.params = session.params;
    this.settings = conn.server.settings();
    this.responses = new ResponseWriter(conn, conn.writer, params);
  }

  // ---------------------------------------------------------------- inbound

  void onCommand(Bhs in) throws IOException, PduException {
    boolean immediate = in.immediate();
    if (!session.window.admit(in.sn24(), immediate)) {
      conn.reader.skipData();
      LOG.log(
          Level.DEBUG,
          "iSCSI {0}: CmdSN {1} outside the window, command dropped",
          conn.remote,
          Integer.toUnsignedString(in.sn24()));
      return;
    }
    session.commands.incrementAndGet();
    int itt = in.itt();
    if (tasks.containsKey(itt)) {
      conn.reader.skipData();
      if (!immediate) {
        session.window.completed();
      }
      throw new PduException(PduException.INVALID_PDU_FIELD, false, "ITT already in use");
    }
    boolean read = (in.flags() & 0x40) != 0;
    boolean write = (in.flags() & 0x20) != 0;
    int edtl = in.i32(20);
    long lunField = in.i64(8);
    int lun = Lun.decode(lunField);
    byte[] cdb = cdb(in);
    long outEdtl = write ? edtl & 0xffffffffL : 0;

    ScsiResult early = null;
    int wanted = 0;
    long writeResidual = outEdtl;
    int spdtl = lun == Lun.INVALID ? -1 : dataOutLength(lun, cdb);
    if (lun == Lun.INVALID) {
      early = check(ILLEGAL_REQUEST, 0x25, 0x00); // LOGICAL UNIT NOT SUPPORTED
    } else if (read && write) {
      early = check(ILLEGAL_REQUEST, 0x24, 0x00); // bidirectional commands are not supported
    } else if (spdtl > 0) {
      long collect = spdtl;
      if (spdtl > outEdtl) {
        // Less Data-Out than the CDB needs. WRITE and WRITE AND VERIFY become shorter writes
        // (FCP-4's first option, which libiscsi expects); every other command goes to the logical
        // unit with what arrived, so that write protection, reservations and ALUA state are
        // reported before the LU's own 05/0E/03 for the short data.
        byte[] shorter = WriteTruncation.truncate(cdb, spdtl, outEdtl);
        if (shorter != null) {
          cdb = shorter;
        }
        collect = outEdtl;
      }
      writeResidual = outEdtl - spdtl;
      if (collect > settings.maxCommandBytes()) {
        early = check(ILLEGAL_REQUEST, 0x24, 0x00);
      } else {
        wanted = (int) collect;
      }
    }
    if (early == null && immediate && immediateInFlight.get() >= settings.commandWindow()) {
      early = busy(ScsiResult.TASK_SET_FULL);
    }
    if (wanted > 0 && !session.reserve(wanted)) {
      early = busy(ScsiResult.TASK_SET_FULL);
      wanted = 0;
    }
    ByteBuffer buffer = wanted > 0 ? ByteBuffer.allocate(wanted) : EMPTY;
    int immediateBytes = in.dataSegmentLength();
    DataOutSequencer sequencer =
        new DataOutSequencer(wanted, (int) outEdtl, immediateBytes, params, conn::newTtt);
    Task t =
        new Task(itt, lun, lunField, cdb, immediate, read, write, edtl, wanted, buffer, sequencer);
    t.transportResult = early;
    t.writeResidual = writeResidual;
    if (immediate) {
      immediateInFlight.incrementAndGet();
    }
    tasks.put(itt, t);
    try {
      Placement p = sequencer.immediate(immediateBytes);
      buffer.clear().limit(p.keepBytes());
      conn.reader.readData(buffer);
    } catch (PduException e) {
      failCollecting(t, 0x47, 0x05, "immediate data: " + e.getMessage());
      throw e;
    }
    if (sequencer.complete()) {
      start(t);
    } else {
      collecting.put(itt, t);
      sendR2ts(t, sequencer.nextR2ts());
    }
  }

  void onDataOut(Bhs in) throws IOException, PduException {
    int itt = in.itt();
    Task t = collecting.get(itt);
    if (t == null) {
      // Late Data-Out of a command that failed or was aborted: drop it quietly.
      conn.reader.skipData();
      LOG.log(
          Level.DEBUG,
          "iSCSI {0}: Data-Out for unknown ITT {1}",
          conn.remote,
          Integer.toHexString(itt));
      return;
    }
    Placement p;
    try {
      p =
          t.sequencer.dataOut(
              in.i32(20), in.i32(36), in.i32(40), in.dataSegmentLength(), in.finalBit());
    } catch (SequenceError e) {
      conn.reader.skipData();
      failCollecting(t, e.asc, e.ascq, e.getMessage());
      return;
    }
    ByteBuffer b = t.buffer;
    b.limit(p.bufferOffset() + p.keepBytes()).position(p.bufferOffset());
    try {
      conn.reader.readData(b);
    } catch (PduException e) {
      failCollecting(t, 0x47, 0x05, e.getMessage()); // PROTOCOL SERVICE CRC ERROR
      throw e;
    }
    if (t.sequencer.complete()) {
      collecting.remove(itt);
      start(t);
    } else {
      sendR2ts(t, t.sequencer.nextR2ts());
    }
  }

  /** Ends a command that broke its Data-Out sequence with ABORTED COMMAND. */
  private void failCollecting(Task t, int asc, int ascq, String why) {
    LOG.log(Level.WARNING, "iSCSI {0}: ITT {1}: {2}", conn.remote, Integer.toHexString(t.itt), why);
    collecting.remove(t.itt);
    t.transportResult = check(ABORTED_COMMAND, asc, ascq);
    start(t);
  }

  private void sendR2ts(Task t, List<R2t> r2ts) throws IOException {
    if (r2ts.isEmpty()) {
      return;
    }
    PduWriter w = conn.writer;
    w.lock().lock();
    try {
      if (t.phase != Task.Phase.COLLECTING) {
        return;
      }
      for (R2t r : r2ts) {
        Bhs h = w.header();
        h.u8(0, Bhs.R2T);
        h.u8(1, 0x80);
        h.i64(8, t.lunField);
        h.i32(16, t.itt);
        h.i32(20, r.ttt());
        h.i32(24, conn.peekStatSn());
        conn.fillWindow(h);
        h.i32(36, r.r2tSn());
        h.i32(40, r.offset());
        h.i32(44, r.length());
        w.send(null);
      }
    } finally {
      w.lock().unlock();
    }
  }

  // ---------------------------------------------------------------- execution

  private void start(Task t) {
    conn.writer.lock().lock();
    try {
      if (t.phase != Task.Phase.COLLECTING) {
        return;
      }
      t.phase = Task.Phase.EXECUTING;
    } finally {
      conn.writer.lock().unlock();
    }
    Thread.ofVirtual().name("iscsi-cmd").start(() -> execute(t));
  }

  private void execute(Task t) {
    ScsiResult r = t.transportResult;
    if (r == null) {
      ByteBuffer out = t.wanted > 0 ? t.buffer.clear() : EMPTY;
      int allocation = t.read ? (int) Math.min(t.edtlUnsigned(), Integer.MAX_VALUE) : 0;
      ScsiTask task =
          new ScsiTask(session.nexus, t.cdb, out, allocation, false, t.itt & 0xffffffffL);
      try {
        r = session.luns.execute(t.lun, task);
      } catch (RuntimeException e) {
        LOG.log(
            Level.ERROR,
            "SCSI layer threw on CDB opcode 0x" + Integer.toHexString(t.cdb[0] & 0xff),
            e);
        r = check(HARDWARE_ERROR, 0x44, 0x00); // INTERNAL TARGET FAILURE
      }
    }
    try {
      respond(t, r);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "iSCSI {0}: response lost: {1}", conn.remote, e.toString());
      conn.close();
    }
  }

  private void respond(Task t, ScsiResult r) throws IOException {
    PduWriter w = conn.writer;
    w.lock().lock();
    try {
      boolean send = t.phase != Task.Phase.ABORTED;
      if (send) {
        t.phase = Task.Phase.ANSWERED;
      }
      // Retire before the header is built so MaxCmdSN already counts this command as done.
      retire(t);
      if (send) {
        responses.send(t, r);
      }
    } finally {
      w.lock().unlock();
    }
  }

  /** Releases what the task holds, once. */
  private void retire(Task t) {
    if (!t.finish()) {
      return;
    }
    tasks.remove(t.itt, t);
    collecting.remove(t.itt, t);
    if (t.wanted > 0) {
      session.release(t.wanted);
    }
    if (t.immediate) {
      immediateInFlight.decrementAndGet();
    } else {
      session.window.completed();
    }
  }

  // ---------------------------------------------------------------- task management

  Task task(int itt) {
    return tasks.get(itt);
  }

  List<Task> tasksOf(int lun) {
    List<Task> out = new ArrayList<>();
    for (Task t : tasks.values()) {
      if (lun < 0 || t.lun == lun) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Aborts one task: no response will be sent for it. Waits for a running execution to end.
   *
   * @return false when the task had already been answered
   */
  boolean abort(Task t, long timeoutMs) {
    boolean wasCollecting;
    conn.writer.lock().lock();
    try {
      if (t.phase == Task.Phase.ANSWERED) {
        return false;
      }
      wasCollecting = t.phase == Task.Phase.COLLECTING;
      t.phase = Task.Phase.ABORTED;
      if (wasCollecting) {
        retire(t);
      }
    } finally {
      conn.writer.lock().unlock();
    }
    try {
      if (!t.awaitDone(timeoutMs)) {
        LOG.log(
            Level.WARNING,
            "iSCSI {0}: aborted task {1} still running",
            conn.remote,
            Integer.toHexString(t.itt));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return true;
  }

  /** The connection is going away: nothing more will be answered. Any thread. */
  void abortAll() {
    conn.writer.lock().lock();
    try {
      for (Task t : tasks.values()) {
        if (t.phase != Task.Phase.ANSWERED) {
          boolean wasCollecting = t.phase == Task.Phase.COLLECTING;
          t.phase = Task.Phase.ABORTED;
          if (wasCollecting) {
            retire(t);
          }
        }
      }
    } finally {
      conn.writer.lock().unlock();
    }
  }

  /** Logout: abort commands still waiting for data, let running ones finish. */
  void drain(long timeoutMs) {
    long deadline = settings.nanoClock().getAsLong() + timeoutMs * 1_000_000;
    for (Task t : collecting.values()) {
      abort(t, 0);
    }
    try {
      for (Task t : tasks.values()) {
        long left = (deadline - settings.nanoClock().getAsLong()) / 1_000_000;
        if (left <= 0 || !t.awaitDone(left)) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- helpers

  private int dataOutLength(int lun, byte[] cdb) {
    try {
      return session.luns.dataOutLength(lun, cdb);
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "dataOutLength threw", e);
      return -1;
    }
  }

  /** The CDB: 16 bytes of the BHS plus an Extended CDB AHS when present. */
  private byte[] cdb(Bhs in) {
    byte[] ahs = conn.reader.ahs();
    int ahsLength = conn.reader.ahsLength();
    if (ahsLength >= 4 && (ahs[2] & 0xff) == 0x01) {
      int extended = (((ahs[0] & 0xff) << 8) | (ahs[1] & 0xff)) - 1;
      if (extended > 0 && extended <= ahsLength - 4) {
        byte[] cdb = new byte[16 + extended];
        System.arraycopy(in.bytes, 32, cdb, 0, 16);
        System.arraycopy(ahs, 4, cdb, 16, extended);
        return cdb;
      }
    }
    byte[] cdb = new byte[16];
    System.arraycopy(in.bytes, 32, cdb, 0, 16);
    return cdb;
  }

  /** Fixed-format sense (SPC-4 4.5.3), current error. */
  static ScsiResult check(int key, int asc, int ascq) {
    byte[] s = new byte[18];
    s[0] = 0x70;
    s[2] = (byte) key;
    s[7] = 10;
    s[12] = (byte) asc;
    s[13] = (byte) ascq;
    return new ScsiResult(ScsiResult.CHECK_CONDITION, s, EMPTY);
  }

  private static ScsiResult busy(int status) {
    return new ScsiResult(status, new byte[0], EMPTY);
  }
}
