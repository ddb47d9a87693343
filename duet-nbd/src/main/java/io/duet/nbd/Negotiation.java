package io.duet.nbd;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The fixed newstyle handshake and option haggling of one connection, as a loop over options: each
 * option gets its replies, and the loop ends with a {@link Session} (EXPORT_NAME, GO), with nothing
 * (ABORT, the client hung up), or with a {@link ProtocolViolation} that closes the connection.
 */
final class Negotiation {
  /** The client broke a rule whose only remedy, by proto.md, is dropping the connection. */
  static final class ProtocolViolation extends IOException {
    private static final long serialVersionUID = 1L;

    ProtocolViolation(String message) {
      super(message);
    }
  }

  private final Wire wire;
  private final ExportCatalog catalog;
  private final NbdSettings settings;
  private final InetAddress client;
  private boolean noZeroes;
  private boolean structured;
  // SET_META_CONTEXT selects contexts for one export; GO on another export ignores them.
  private String metaExport;
  private boolean baseAllocation;

  Negotiation(Wire wire, ExportCatalog catalog, NbdSettings settings, InetAddress client) {
    this.wire = wire;
    this.catalog = catalog;
    this.settings = settings;
    this.client = client;
  }

  /** Runs the handshake; empty when the client aborted. */
  Optional<Session> run() throws IOException {
    OutputStream out = wire.out();
    out.write(
        ByteBuffer.allocate(18)
            .putLong(Nbd.NBDMAGIC)
            .putLong(Nbd.IHAVEOPT)
            .putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES))
            .array());
    out.flush();
    int clientFlags = wire.in().readInt();
    if ((clientFlags & ~(Nbd.CLIENT_FIXED_NEWSTYLE | Nbd.CLIENT_NO_ZEROES)) != 0) {
      throw new ProtocolViolation("unknown client flags 0x" + Integer.toHexString(clientFlags));
    }
    noZeroes = (clientFlags & Nbd.CLIENT_NO_ZEROES) != 0;
    while (true) {
      DataInputStream in = wire.in(); // changes after STARTTLS
      long magic = in.readLong();
      if (magic != Nbd.IHAVEOPT) {
        throw new ProtocolViolation(String.format("bad option magic 0x%016x", magic));
      }
      int option = in.readInt();
      long length = Integer.toUnsignedLong(in.readInt());
      if (length > Nbd.MAX_OPTION_BYTES) {
        tooBig(option, length);
        continue;
      }
      byte[] data = in.readNBytes((int) length);
      if (data.length != length) {
        throw new java.io.EOFException("option data cut short");
      }
      if (settings.tlsRequired()
          && !wire.tls()
          && option != Nbd.OPT_STARTTLS
          && option != Nbd.OPT_ABORT) {
        if (option == Nbd.OPT_EXPORT_NAME) {
          throw new ProtocolViolation("EXPORT_NAME before the required STARTTLS");
        }
        reply(option, Nbd.REP_ERR_TLS_REQD, text("TLS is required: send NBD_OPT_STARTTLS"));
        continue;
      }
      Optional<Session> done = option(option, data);
      if (done == null) {
        return Optional.empty();
      }
      if (done.isPresent()) {
        return done;
      }
    }
  }

  /** Over-long option data: skipped when small enough to read past, else the connection ends. */
  private void tooBig(int option, long length) throws IOException {
    if (option == Nbd.OPT_EXPORT_NAME || length > Nbd.MAX_OPTION_DISCARD_BYTES) {
      if (option != Nbd.OPT_EXPORT_NAME) {
        reply(option, Nbd.REP_ERR_TOO_BIG, text("option data of " + length + " bytes"));
      }
      throw new ProtocolViolation("option " + option + " with " + length + " bytes of data");
    }
    wire.in().skipNBytes(length);
    reply(option, Nbd.REP_ERR_TOO_BIG, text("option data of " + length + " bytes is too long"));
  }

  /**
   * Handles one option.
   *
   * @return a session to enter transmission, empty to keep negotiating, null to end (ABORT)
   */
  private Optional<Session> option(int option, byte[] data) throws IOException {
    switch (option) {
      case Nbd.OPT_EXPORT_NAME -> {
        return Optional.of(exportName(data));
      }
      case Nbd.OPT_ABORT -> {
        reply(option, Nbd.REP_ACK, new byte[0]);
        return null;
      }
      case Nbd.OPT_LIST -> list(data);
      case Nbd.OPT_STARTTLS -> startTls(data);
      case Nbd.OPT_INFO, Nbd.OPT_GO -> {
        return info(option, data);
      }
      case Nbd.OPT_STRUCTURED_REPLY -> {
        if (data.length != 0) {
          reply(option, Nbd.REP_ERR_INVALID, text("STRUCTURED_REPLY takes no data"));
        } else {
          structured = true;
          reply(option, Nbd.REP_ACK, new byte[0]);
        }
      }
      case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> metaContext(option, data);
      default -> reply(option, Nbd.REP_ERR_UNSUP, text("option " + option + " is not supported"));
    }
    return Optional.empty();
  }

  private Session exportName(byte[] data) throws IOException {
    String name;
    try {
      name = OptionCodec.decodeExportName(data);
    } catch (MalformedException e) {
      throw new ProtocolViolation("EXPORT_NAME: " + e.getMessage());
    }
    // EXPORT_NAME cannot fail politely: proto.md says to drop the connection.
    ExportCatalog.Export export =
        catalog
            .open(name, client, wire.peerSubject())
            .orElseThrow(() -> new ProtocolViolation("no export named '" + name + "'"));
    Session session = session(export, name);
    ByteBuffer b = ByteBuffer.allocate(noZeroes ? 10 : 134);
    b.putLong(export.volume().sizeBytes()).putShort((short) session.transmissionFlags());
    wire.out().write(b.array());
    wire.out().flush();
    return session;
  }

  private Session session(ExportCatalog.Export export, String requestedName) {
    boolean meta = baseAllocation && requestedName.equals(metaExport);
    return new Session(export, structured, meta, Session.flagsFor(export, structured));
  }

  private void list(byte[] data) throws IOException {
    if (data.length != 0) {
      reply(Nbd.OPT_LIST, Nbd.REP_ERR_INVALID, text("LIST takes no data"));
      return;
    }
    for (String name : catalog.list(client, wire.peerSubject())) {
      reply(Nbd.OPT_LIST, Nbd.REP_SERVER, OptionCodec.encodeServer(name));
    }
    reply(Nbd.OPT_LIST, Nbd.REP_ACK, new byte[0]);
  }

  private void startTls(byte[] data) throws IOException {
    if (settings.tls().isEmpty()) {
      reply(Nbd.OPT_STARTTLS, Nbd.REP_ERR_POLICY, text("TLS is not configured on this server"));
    } else if (wire.tls()) {
      reply(Nbd.OPT_STARTTLS, Nbd.REP_ERR_INVALID, text("TLS is already active"));
    } else if (data.length != 0) {
      reply(Nbd.OPT_STARTTLS, Nbd.REP_ERR_INVALID, text("STARTTLS takes no data"));
    } else {
      reply(Nbd.OPT_STARTTLS, Nbd.REP_ACK, new byte[0]);
      // A failed handshake cannot fall back to plain text: the exception closes the connection.
      wire.startTls(settings.tls().get(), settings.clientCertificateRequired());
    }
  }

  private Optional<Session> info(int option, byte[] data) throws IOException {
    OptionCodec.InfoRequest request;
    try {
      request = OptionCodec.decodeInfo(data);
    } catch (MalformedException e) {
      reply(option, Nbd.REP_ERR_INVALID, text(e.getMessage()));
      return Optional.empty();
    }
    Optional<ExportCatalog.Export> found =
        catalog.open(request.exportName(), client, wire.peerSubject());
    if (found.isEmpty()) {
      reply(
          option,
          Nbd.REP_ERR_UNKNOWN,
          text("no export named '" + request.exportName() + "' for this client"));
      return Optional.empty();
    }
    ExportCatalog.Export export = found.get();
    Session session = session(export, request.exportName());
    long size = export.volume().sizeBytes();
    reply(option, Nbd.REP_INFO, OptionCodec.encodeInfoExport(size, session.transmissionFlags()));
    if (request.items().contains(Nbd.INFO_NAME)) {
      reply(option, Nbd.REP_INFO, OptionCodec.encodeInfoText(Nbd.INFO_NAME, export.name()));
    }
    if (request.items().contains(Nbd.INFO_DESCRIPTION) && !export.description().isEmpty()) {
      reply(
          option,
          Nbd.REP_INFO,
          OptionCodec.encodeInfoText(Nbd.INFO_DESCRIPTION, export.description()));
    }
    // Sent unasked too (allowed): any alignment works (partial blocks are read-modify-written),
    // but whole blocks of the volume, at least 4 KiB, avoid that cost.
    int preferred = Math.max(4096, export.volume().blockSize());
    reply(
        option, Nbd.REP_INFO, OptionCodec.encodeInfoBlockSize(1, preferred, Nbd.MAX_PAYLOAD_BYTES));
    reply(option, Nbd.REP_ACK, new byte[0]);
    return option == Nbd.OPT_GO ? Optional.of(session) : Optional.empty();
  }

  private void metaContext(int option, byte[] data) throws IOException {
    if (!structured) {
      reply(option, Nbd.REP_ERR_INVALID, text("negotiate STRUCTURED_REPLY first"));
      return;
    }
    OptionCodec.MetaContextRequest request;
    try {
      request = OptionCodec.decodeMetaContext(data);
    } catch (MalformedException e) {
      reply(option, Nbd.REP_ERR_INVALID, text(e.getMessage()));
      return;
    }
    boolean set = option == Nbd.OPT_SET_META_CONTEXT;
    if (set) {
      baseAllocation = false; // SET replaces the previous selection, whatever its outcome
      metaExport = null;
    }
    if (catalog.open(request.exportName(), client, wire.peerSubject()).isEmpty()) {
      reply(option, Nbd.REP_ERR_UNKNOWN, text("no export named '" + request.exportName() + "'"));
      return;
    }
    Set<String> matches = new LinkedHashSet<>();
    List<String> queries = request.queries();
    if (queries.isEmpty() && !set) {
      matches.add(Nbd.BASE_ALLOCATION); // LIST with no query: every context we know
    }
    for (String q : queries) {
      if (q.equals(Nbd.BASE_ALLOCATION) || (!set && q.equals("base:"))) {
        matches.add(Nbd.BASE_ALLOCATION);
      }
    }
    for (String m : matches) {
      // LIST replies carry id 0 (reserved); SET assigns the id BLOCK_STATUS replies will use.
      int id = set ? Nbd.BASE_ALLOCATION_ID : 0;
      reply(option, Nbd.REP_META_CONTEXT, OptionCodec.encodeMetaContext(id, m));
    }
    if (set && !matches.isEmpty()) {
      baseAllocation = true;
      metaExport = request.exportName();
    }
    reply(option, Nbd.REP_ACK, new byte[0]);
  }

  private void reply(int option, int type, byte[] data) throws IOException {
    OutputStream out = wire.out();
    out.write(
        ByteBuffer.allocate(20 + data.length)
            .putLong(Nbd.OPTION_REPLY_MAGIC)
            .putInt(option)
            .putInt(type)
            .putInt(data.length)
            .put(data)
            .array());
    out.flush();
  }

  private static byte[] text(String message) {
    return message.getBytes(StandardCharsets.UTF_8);
  }
}
