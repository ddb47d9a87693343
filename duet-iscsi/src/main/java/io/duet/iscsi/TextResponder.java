package io.duet.iscsi;

import io.duet.iscsi.TargetCatalog.DiscoveredTarget;
import io.duet.iscsi.TargetCatalog.Portal;
import io.duet.iscsi.TextKeys.Pair;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Text Request handling (RFC 7143 11.10/11.11): SendTargets (All, a target name, or empty for the
 * session's own target) answered from the catalog; other keys NotUnderstood. Answers longer than
 * the initiator's MaxRecvDataSegmentLength go out in pieces, each asked for by an empty Text
 * Request echoing our Target Transfer Tag.
 */
final class TextResponder {
  /** Request text accumulated over C-bit PDUs, and a whole answer, are bounded. */
  static final int MAX_TEXT_BYTES = 1024 * 1024;

  private final Connection conn;
  private final Session session;

  private byte[] pendingRequest = new byte[0];
  private byte[] answer;
  private int answerOffset;
  private int answerTtt = Bhs.RESERVED_TAG;
  private int answerItt;

  TextResponder(Connection conn, Session session) {
    this.conn = conn;
    this.session = session;
  }

  void handle(Bhs in, byte[] data, int length) throws IOException, PduException {
    int itt = in.itt();
    int ttt = in.i32(20);
    boolean more = (in.flags() & 0x40) != 0;
    if (ttt != Bhs.RESERVED_TAG) {
      if (answer == null || ttt != answerTtt || itt != answerItt) {
        throw new PduException(PduException.INVALID_PDU_FIELD, false, "Text TTT unknown");
      }
      sendNextPiece(itt);
      return;
    }
    answer = null; // a new request cancels an unfinished answer
    if (pendingRequest.length + length > MAX_TEXT_BYTES) {
      pendingRequest = new byte[0];
      throw new PduException(PduException.PROTOCOL_ERROR, false, "Text request too long");
    }
    byte[] text = Arrays.copyOf(pendingRequest, pendingRequest.length + length);
    System.arraycopy(data, 0, text, pendingRequest.length, length);
    if (more) {
      pendingRequest = text;
      answer = new byte[0];
      answerOffset = 0;
      answerItt = itt;
      answerTtt = conn.newTtt();
      sendPiece(itt, new byte[0], 0, 0, false, answerTtt);
      return;
    }
    pendingRequest = new byte[0];
    List<Pair> out = new ArrayList<>();
    for (Pair p : Connection.parseText(text, text.length)) {
      if (p.key().equals("SendTargets")) {
        sendTargets(p.value(), out);
      } else {
        out.add(new Pair(p.key(), "NotUnderstood"));
      }
    }
    answer = TextKeys.encode(out);
    if (answer.length > MAX_TEXT_BYTES) {
      answer = null;
      throw new PduException(PduException.LONG_OPERATION_REJECT, false, "answer too long");
    }
    answerOffset = 0;
    answerItt = itt;
    answerTtt = conn.newTtt();
    sendNextPiece(itt);
  }

  private void sendTargets(String value, List<Pair> out) {
    List<DiscoveredTarget> visible = conn.server.catalog().discover(session.params.initiatorName());
    List<DiscoveredTarget> chosen = new ArrayList<>();
    if (value.equals("All")) {
      chosen.addAll(visible);
    } else {
      String name =
          value.isEmpty() && !session.params.discovery() ? session.params.targetName() : value;
      for (DiscoveredTarget t : visible) {
        if (t.name().equals(name)) {
          chosen.add(t);
        }
      }
      if (chosen.isEmpty()) {
        out.add(new Pair("SendTargets", "Reject"));
        return;
      }
    }
    for (DiscoveredTarget t : chosen) {
      out.add(new Pair("TargetName", t.name()));
      for (Portal p : t.portals()) {
        out.add(new Pair("TargetAddress", p.sendTargetsValue()));
      }
    }
  }

  private void sendNextPiece(int itt) throws IOException {
    int max = session.params.maxSendDataSegmentLength();
    int length = Math.min(max, answer.length - answerOffset);
    boolean last = answerOffset + length == answer.length;
    int offset = answerOffset;
    answerOffset += length;
    // C is set when a key=value pair continues in the next piece.
    boolean splitPair = !last && length > 0 && answer[offset + length - 1] != 0;
    byte[] whole = answer;
    int ttt = last ? Bhs.RESERVED_TAG : answerTtt;
    if (last) {
      answer = null;
    }
    sendPiece(itt, whole, offset, length, last, ttt, splitPair);
  }

  private void sendPiece(int itt, byte[] data, int offset, int length, boolean last, int ttt)
      throws IOException {
    sendPiece(itt, data, offset, length, last, ttt, false);
  }

  private void sendPiece(
      int itt, byte[] data, int offset, int length, boolean last, int ttt, boolean cont)
      throws IOException {
    PduWriter w = conn.writer;
    w.lock().lock();
    try {
      Bhs h = w.header();
      h.u8(0, Bhs.TEXT_RESPONSE);
      h.u8(1, (last ? 0x80 : 0) | (cont ? 0x40 : 0));
      h.i32(16, itt);
      h.i32(20, ttt);
      h.i32(24, conn.takeStatSn());
      conn.fillWindow(h);
      w.send(ByteBuffer.wrap(data, offset, length));
    } finally {
      w.lock().unlock();
    }
  }
}
