package io.duet.iscsi;

import io.duet.iscsi.TextKeys.Pair;
import io.duet.iscsi.TextKeys.TextFormatException;
import io.duet.scsi.ItNexus;
import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One iSCSI connection: its reader (a virtual thread running {@link #run}) goes through login and
 * then dispatches Full Feature PDUs; responses from any thread go through the {@link PduWriter}
 * under its lock, which also guards StatSN. Any protocol failure ends this connection only, with a
 * log line.
 */
final class Connection implements Runnable {
  private static final System.Logger LOG = System.getLogger(Connection.class.getName());

  /** During login the RFC default MaxRecvDataSegmentLength applies (8192); allow some slack. */
  private static final int LOGIN_MAX_DATA_BYTES = 64 * 1024;

  /** Longest a logout or task management function waits for running commands. */
  static final long DRAIN_TIMEOUT_MS = 30_000;

  final IscsiServer server;
  final SocketChannel channel;
  final int portalGroupTag;
  final PduReader reader;
  final PduWriter writer;
  final SocketAddress remote;
  final SocketAddress local;
  private final Bhs in = new Bhs();
  private final AtomicInteger nextTtt = new AtomicInteger(1);

  /** Guarded by the writer lock. */
  private int statSn;

  /** The last StatSN put on the wire, for ExpStatSN checks on the reader thread. */
  private volatile int sentStatSn;

  private boolean expStatSnWarned;

  private volatile Session session;
  private volatile boolean closed;
  private CommandPath commands;
  private TextResponder text;
  private byte[] small;

  private final long connectedNanos;
  private volatile long lastReceiveNanos;
  private volatile long pingSentNanos;
  private volatile int pingTtt = Bhs.RESERVED_TAG;

  Connection(IscsiServer server, SocketChannel channel, int portalGroupTag) throws IOException {
    this.server = server;
    this.channel = channel;
    this.portalGroupTag = portalGroupTag;
    this.reader = new PduReader(channel, LOGIN_MAX_DATA_BYTES);
    this.writer = new PduWriter(channel);
    this.remote = channel.getRemoteAddress();
    this.local = channel.getLocalAddress();
    this.connectedNanos = server.settings().nanoClock().getAsLong();
    this.lastReceiveNanos = connectedNanos;
  }

  Session session() {
    return session;
  }

  /** The command path (null before full feature phase). */
  CommandPath commands() {
    return commands;
  }

  @Override
  public void run() {
    try {
      if (login()) {
        fullFeature();
      }
    } catch (PduException e) {
      LOG.log(Level.WARNING, "iSCSI connection {0}: {1}; closing", remote, e.getMessage());
      if (session != null) {
        reject(e.rejectReason(), in);
      }
    } catch (EOFException | ClosedChannelException e) {
      LOG.log(Level.DEBUG, "iSCSI connection {0} closed", remote);
    } catch (IOException e) {
      LOG.log(Level.INFO, "iSCSI connection {0}: {1}", remote, e.toString());
    } catch (RuntimeException e) {
      // A bug must not take the server down: log it with the stack and drop this connection.
      LOG.log(Level.ERROR, "iSCSI connection " + remote + " failed", e);
    } finally {
      close();
    }
  }

  /** Closes the socket; the reader then ends and cleans up. Idempotent, any thread. */
  void close() {
    closed = true;
    try {
      channel.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "close {0}: {1}", remote, e.toString());
    }
    if (commands != null) {
      commands.abortAll();
    }
    server.connectionClosed(this);
  }

  boolean closed() {
    return closed;
  }

  int newTtt() {
    int t = nextTtt.getAndIncrement();
    if (t == Bhs.RESERVED_TAG) {
      t = nextTtt.getAndIncrement();
    }
    return t;
  }

  // ---------------------------------------------------------------- login

  private boolean login() throws IOException, PduException {
    LoginNegotiation negotiation = server.newNegotiation(portalGroupTag);
    byte[] data = new byte[LOGIN_MAX_DATA_BYTES];
    boolean first = true;
    while (true) {
      if (!reader.readHeader(in)) {
        return false;
      }
      if (in.opcode() != Bhs.LOGIN_REQUEST) {
        LOG.log(
            Level.WARNING,
            "iSCSI connection {0}: {1} before login completed; closing",
            remote,
            Bhs.opcodeName(in.opcode()));
        return false;
      }
      int length = in.dataSegmentLength();
      reader.readData(ByteBuffer.wrap(data, 0, length));
      if (first) {
        statSn = in.sn28();
        first = false;
      }
      LoginNegotiation.Reply reply = negotiation.onRequest(in, data, length);
      int tsih = 0;
      if (negotiation.state() == LoginNegotiation.State.FULL_FEATURE) {
        tsih = establish(negotiation);
        if (tsih < 0) {
          reply =
              new LoginNegotiation.Reply(
                  false, reply.csg(), 0, LoginException.SESSION_DOES_NOT_EXIST, new byte[0]);
        }
      }
      sendLoginResponse(reply, Math.max(tsih, 0));
      if (reply.status() != 0) {
        LoginException why = negotiation.failure();
        LOG.log(
            Level.WARNING,
            "iSCSI login from {0} ({1}) refused with 0x{2}: {3}",
            remote,
            negotiation.initiatorName(),
            String.format("%04x", reply.status()),
            why == null ? "session does not exist" : why.getMessage());
        return false;
      }
      if (session != null) {
        return true;
      }
    }
  }

  /** Creates the session at the end of login; -1 when a non-zero TSIH names no session. */
  private int establish(LoginNegotiation negotiation) {
    SessionParams p = negotiation.params();
    ItNexus nexus =
        p.discovery()
            ? null
            : new ItNexus(p.initiatorName(), p.initiatorPort(), negotiation.target().port());
    CmdWindow window = new CmdWindow(in.sn24(), server.settings().commandWindow());
    int tsih = server.registerSession(p, this);
    if (tsih < 0) {
      return -1;
    }
    Session s =
        new Session(
            tsih,
            p,
            negotiation.target(),
            nexus,
            negotiation.luns(),
            window,
            this,
            server.settings().maxSessionBufferBytes());
    server.sessionEstablished(s);
    session = s;
    if (!p.discovery()) {
      negotiation.luns().attach(nexus);
    }
    LOG.log(
        Level.INFO,
        "iSCSI {0} session tsih={1} from {2} ({3}) to {4}",
        p.discovery() ? "discovery" : "normal",
        tsih,
        p.initiatorName(),
        remote,
        p.targetName());
    return tsih;
  }

  private void sendLoginResponse(LoginNegotiation.Reply reply, int tsih) throws IOException {
    writer.lock().lock();
    try {
      Bhs h = writer.header();
      h.u8(0, Bhs.LOGIN_RESPONSE);
      h.u8(
          1,
          (reply.transit() ? 0x80 : 0) | (reply.csg() << 2) | (reply.transit() ? reply.nsg() : 0));
      h.u48(8, in.u48(8));
      h.u16(14, reply.status() == 0 ? tsih : 0);
      h.i32(16, in.itt());
      h.i32(24, takeStatSn());
      int cmdSn = in.sn24();
      h.i32(28, cmdSn);
      h.i32(32, session != null ? session.window.maxCmdSn() : cmdSn);
      h.u8(36, reply.status() >>> 8);
      h.u8(37, reply.status() & 0xff);
      writer.send(ByteBuffer.wrap(reply.data()));
      if (session != null) {
        SessionParams p = session.params;
        writer.configure(p.headerDigest(), p.dataDigest());
      }
    } finally {
      writer.lock().unlock();
    }
  }

  // ---------------------------------------------------------------- full feature phase

  private void fullFeature() throws IOException, PduException {
    SessionParams p = session.params;
    reader.configure(p.headerDigest(), p.dataDigest(), p.maxRecvDataSegmentLength());
    small = new byte[p.maxRecvDataSegmentLength()];
    commands = new CommandPath(this, session);
    text = new TextResponder(this, session);
    while (!closed) {
      if (!reader.readHeader(in)) {
        return;
      }
      lastReceiveNanos = server.settings().nanoClock().getAsLong();
      try {
        if (!dispatch()) {
          return;
        }
      } catch (PduException e) {
        if (e.fatal()) {
          throw e;
        }
        LOG.log(Level.WARNING, "iSCSI {0}: {1}", remote, e.getMessage());
        if (reader.pendingData() > 0) {
          reader.skipData();
        }
        reject(e.rejectReason(), in);
      }
    }
  }

  /** Handles one PDU; false when the connection is to end. */
  private boolean dispatch() throws IOException, PduException {
    int opcode = in.opcode();
    checkExpStatSn(in.sn28());
    if (session.params.discovery()
        && opcode != Bhs.TEXT_REQUEST
        && opcode != Bhs.LOGOUT_REQUEST
        && opcode != Bhs.NOP_OUT) {
      reader.skipData();
      throw new PduException(
          PduException.PROTOCOL_ERROR, false, Bhs.opcodeName(opcode) + " in a discovery session");
    }
    switch (opcode) {
      case Bhs.SCSI_COMMAND -> commands.onCommand(in);
      case Bhs.DATA_OUT -> commands.onDataOut(in);
      case Bhs.NOP_OUT -> onNopOut();
      case Bhs.TASK_MGMT_REQUEST -> {
        reader.skipData();
        if (admit()) {
          new TaskManagement(this, session, commands).handle(in);
        }
      }
      case Bhs.TEXT_REQUEST -> {
        int length = in.dataSegmentLength();
        reader.readData(ByteBuffer.wrap(small, 0, length));
        if (admit()) {
          text.handle(in, small, length);
        }
      }
      case Bhs.LOGOUT_REQUEST -> {
        reader.skipData();
        if (admit()) {
          return !onLogout();
        }
      }
      case Bhs.LOGIN_REQUEST -> {
        reader.skipData();
        throw new PduException(PduException.PROTOCOL_ERROR, false, "Login in full feature phase");
      }
      case Bhs.SNACK_REQUEST -> {
        reader.skipData();
        throw new PduException(
            PduException.COMMAND_NOT_SUPPORTED, false, "SNACK with ErrorRecoveryLevel=0");
      }
      default -> {
        reader.skipData();
        throw new PduException(
            PduException.COMMAND_NOT_SUPPORTED, false, "unknown " + Bhs.opcodeName(opcode));
      }
    }
    return true;
  }

  /** CmdSN check for a non-SCSI request; a non-immediate one completes at once. */
  boolean admit() {
    if (!session.window.admit(in.sn24(), in.immediate())) {
      LOG.log(
          Level.DEBUG,
          "iSCSI {0}: {1} with CmdSN {2} outside the window, dropped",
          remote,
          Bhs.opcodeName(in.opcode()),
          Integer.toUnsignedString(in.sn24()));
      return false;
    }
    if (!in.immediate()) {
      session.window.completed();
    }
    return true;
  }

  private void onNopOut() throws IOException, PduException {
    int length = in.dataSegmentLength();
    reader.readData(ByteBuffer.wrap(small, 0, length));
    if (in.itt() == Bhs.RESERVED_TAG) {
      // An answer to our NOP-In ping (or a ping that wants no answer).
      if (in.i32(20) == pingTtt) {
        pingTtt = Bhs.RESERVED_TAG;
      }
      return;
    }
    if (!admit()) {
      return;
    }
    int echo = Math.min(length, session.params.maxSendDataSegmentLength());
    writer.lock().lock();
    try {
      Bhs h = writer.header();
      h.u8(0, Bhs.NOP_IN);
      h.u8(1, 0x80);
      h.i64(8, in.i64(8));
      h.i32(16, in.itt());
      h.i32(20, Bhs.RESERVED_TAG);
      h.i32(24, takeStatSn());
      fillWindow(h);
      writer.send(ByteBuffer.wrap(small, 0, echo));
    } finally {
      writer.lock().unlock();
    }
  }

  /** Returns true when the connection must close after the response. */
  private boolean onLogout() throws IOException {
    int reason = in.flags() & 0x7f;
    int cid = in.u16(20);
    int response;
    if (reason == 2) {
      response = 2; // connection recovery is not supported at ErrorRecoveryLevel 0
    } else if (reason == 1 && cid != session.params.cid()) {
      response = 1;
    } else if (reason <= 1) {
      response = 0;
    } else {
      response = 3;
    }
    if (response == 0) {
      commands.drain(DRAIN_TIMEOUT_MS);
      // The nexus ends before the initiator hears so: its reservations must be gone by then.
      server.retireSession(session);
    }
    writer.lock().lock();
    try {
      Bhs h = writer.header();
      h.u8(0, Bhs.LOGOUT_RESPONSE);
      h.u8(1, 0x80);
      h.u8(2, response);
      h.i32(16, in.itt());
      h.i32(24, takeStatSn());
      fillWindow(h);
      h.u16(40, 2); // Time2Wait
      h.u16(42, 0); // Time2Retain: no session continuation at ErrorRecoveryLevel 0
      writer.send(null);
    } finally {
      writer.lock().unlock();
    }
    LOG.log(Level.INFO, "iSCSI logout of tsih={0} from {1}", session.tsih, remote);
    return response == 0;
  }

  /** Sets ExpCmdSN and MaxCmdSN of a target PDU. Call under the writer lock. */
  void fillWindow(Bhs h) {
    h.i32(28, session.window.expCmdSn());
    h.i32(32, session.window.maxCmdSn());
  }

  /** The next StatSN, advancing it. Call under the writer lock. */
  int takeStatSn() {
    int sn = statSn++;
    sentStatSn = sn;
    return sn;
  }

  /**
   * ExpStatSN acknowledges statuses up to one past the last we sent; a value beyond that means the
   * initiator and target disagree about this connection's status stream. With ErrorRecoveryLevel 0
   * there is nothing to retransmit, so it is only reported (once).
   */
  private void checkExpStatSn(int expStatSn) {
    if (!expStatSnWarned && CmdWindow.before(sentStatSn + 1, expStatSn)) {
      expStatSnWarned = true;
      LOG.log(
          Level.WARNING,
          "iSCSI {0}: ExpStatSN {1} is ahead of StatSN {2}",
          remote,
          Integer.toUnsignedString(expStatSn),
          Integer.toUnsignedString(sentStatSn));
    }
  }

  /** The current StatSN without advancing (Reject, NOP-In pings, non-final Data-In). */
  int peekStatSn() {
    return statSn;
  }

  /** Sends a Reject carrying the offending header; failures to send only end up in the log. */
  void reject(int reason, Bhs rejected) {
    writer.lock().lock();
    try {
      byte[] copy = rejected.bytes.clone();
      Bhs h = writer.header();
      h.u8(0, Bhs.REJECT);
      h.u8(1, 0x80);
      h.u8(2, reason);
      h.i32(16, Bhs.RESERVED_TAG);
      h.i32(24, statSn);
      if (session != null) {
        fillWindow(h);
      }
      writer.send(ByteBuffer.wrap(copy));
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "reject to {0}: {1}", remote, e.toString());
    } finally {
      writer.lock().unlock();
    }
  }

  /**
   * Liveness check driven by the server's ticker: pings an idle connection with a NOP-In and closes
   * one whose ping went unanswered (and that sent nothing else) for the timeout.
   */
  void tick(long nowNanos) {
    IscsiSettings s = server.settings();
    Session current = session;
    if (closed) {
      return;
    }
    if (current == null) {
      // Connections that never finish login would otherwise hold buffers forever.
      if ((nowNanos - connectedNanos) / 1_000_000 >= s.loginTimeoutMs()) {
        LOG.log(Level.WARNING, "iSCSI {0}: login not completed in time; closing", remote);
        close();
      }
      return;
    }
    if (s.nopInIntervalMs() == 0) {
      return;
    }
    long idleMs = (nowNanos - lastReceiveNanos) / 1_000_000;
    if (pingTtt != Bhs.RESERVED_TAG) {
      if (lastReceiveNanos - pingSentNanos >= 0) {
        pingTtt = Bhs.RESERVED_TAG; // it spoke since the ping: alive
      } else {
        long waitedMs = (nowNanos - pingSentNanos) / 1_000_000;
        if (waitedMs >= s.nopInTimeoutMs()) {
          LOG.log(Level.WARNING, "iSCSI {0}: NOP-In unanswered {1} ms; closing", remote, waitedMs);
          close();
        }
        return;
      }
    }
    if (idleMs < s.nopInIntervalMs()) {
      return;
    }
    writer.lock().lock();
    try {
      int ttt = newTtt();
      pingSentNanos = nowNanos;
      pingTtt = ttt;
      Bhs h = writer.header();
      h.u8(0, Bhs.NOP_IN);
      h.u8(1, 0x80);
      h.i32(16, Bhs.RESERVED_TAG);
      h.i32(20, ttt);
      h.i32(24, statSn);
      fillWindow(h);
      writer.send(null);
    } catch (IOException e) {
      close();
    } finally {
      writer.lock().unlock();
    }
  }

  /** Parses text keys for Text requests; bad text becomes a Reject. */
  static List<Pair> parseText(byte[] data, int length) throws PduException {
    try {
      return TextKeys.parse(data, length);
    } catch (TextFormatException e) {
      throw new PduException(PduException.PROTOCOL_ERROR, false, "bad text: " + e.getMessage());
    }
  }
}
