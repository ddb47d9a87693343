package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.node.ByteSize;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Human renderings of the consistency-group views the API returns. */
final class CgView {
  private CgView() {}

  static void table(PrintWriter out, JsonNode list) {
    Table t =
        new Table(
            "NAME", "ROLE", "LEADER", "PEER", "SYNC", "LINK", "AVAILABILITY", "RESYNC", "VOLUMES");
    for (JsonNode cg : list) {
      t.row(
          cg.path("name").asText(),
          cg.path("role").asText(),
          cg.path("leader").asText(),
          cg.path("peer").asText(),
          cg.path("syncState").asText(),
          cg.path("link").asText(),
          cg.path("availability").asText(),
          resyncCell(cg),
          volumeNames(cg));
    }
    t.print(out);
  }

  /** The whole view: fields, then progress while resyncing, then the volumes. */
  static void detail(PrintWriter out, JsonNode cg) {
    Table t = new Table("FIELD", "VALUE");
    t.row("name", cg.path("name").asText())
        .row("id", cg.path("id").asText())
        .row("policy", cg.path("policy").asText())
        .row("peer", cg.path("peer").asText() + " (" + cg.path("peerSiteId").asText() + ")")
        .row("role", cg.path("role").asText())
        .row("leader", cg.path("leader").asText() + " (epoch " + cg.path("epoch").asLong() + ")")
        .row("sync", cg.path("syncState").asText())
        .row("link", cg.path("link").asText())
        .row("availability", cg.path("availability").asText())
        .row("auto resync", onOff(cg.path("autoResync")))
        .row("auto recover", onOff(cg.path("autoRecover")))
        .row("resync rate", rate(cg.path("resyncRate")))
        .row("operation", cg.path("operation").isTextual() ? cg.path("operation").asText() : "-");
    if (cg.path("problem").isTextual()) {
      t.row("PROBLEM", cg.path("problem").asText());
    }
    mediatorRows(t, cg.path("mediator"));
    t.print(out);
    if (resyncing(cg)) {
      out.println();
      out.println("resync " + progress(cg, -1));
    }
    out.println();
    Table v = new Table("VOLUME", "SIZE", "NAA", "SERIAL");
    for (JsonNode vol : cg.path("volumes")) {
      v.row(
          vol.path("name").asText(),
          ByteSize.format(vol.path("sizeBytes").asLong()),
          vol.path("naa").asText(),
          vol.path("serial").asText());
    }
    v.print(out);
  }

  /** The group's mediator contact at this site, as rows of the detail table. */
  private static void mediatorRows(Table t, JsonNode m) {
    if (!m.path("configured").asBoolean()) {
      t.row("mediator", "none (automatic failover off; see duet mediator add)");
      return;
    }
    t.row("mediator", m.path("connected").asBoolean() ? "connected" : "NOT connected")
        .row("  in quorum", yesNo(m.path("inQuorum")))
        .row("  pre-elected", yesNo(m.path("preElected")))
        .row("  lease remaining", m.path("leaseRemainingMs").asLong() + " ms")
        .row(
            "  last message",
            m.path("lastMessage").asText().isEmpty() ? "-" : m.path("lastMessage").asText());
  }

  /** ", mediator in quorum" or similar for one-line summaries; empty without a mediator. */
  static String quorum(JsonNode m) {
    if (!m.path("configured").asBoolean()) {
      return "";
    }
    if (!m.path("connected").asBoolean()) {
      return ", mediator NOT connected";
    }
    return m.path("inQuorum").asBoolean() ? ", mediator in quorum" : ", mediator NOT in quorum";
  }

  private static String yesNo(JsonNode flag) {
    return flag.asBoolean() ? "yes" : "no";
  }

  /** One status line for --watch: state and, while resyncing, the bar. */
  static String status(JsonNode cg, double measuredBytesPerSecond) {
    String head =
        cg.path("name").asText()
            + "  "
            + cg.path("syncState").asText()
            + "  link "
            + cg.path("link").asText()
            + "  "
            + cg.path("availability").asText();
    return resyncing(cg) ? head + "  " + progress(cg, measuredBytesPerSecond) : head;
  }

  static boolean resyncing(JsonNode cg) {
    return "RESYNCING".equals(cg.path("syncState").asText());
  }

  static boolean inSync(JsonNode cg) {
    return "IN_SYNC".equals(cg.path("syncState").asText());
  }

  /**
   * In sync and, unless auto-recover is off (then the operator brings the site back), serving: what
   * {@code --watch} waits for, since a site turns serving a moment after the resync ends.
   */
  static boolean settled(JsonNode cg) {
    return inSync(cg)
        && ("SERVING".equals(cg.path("availability").asText())
            || !cg.path("autoRecover").asBoolean(true));
  }

  static long bytesDone(JsonNode cg) {
    return cg.path("resync").path("bytesDone").asLong();
  }

  private static String progress(JsonNode cg, double measuredBytesPerSecond) {
    JsonNode r = cg.path("resync");
    long done = r.path("bytesDone").asLong();
    long total = r.path("bytesTotal").asLong();
    long eta = r.path("etaSeconds").asLong(-1);
    double rate =
        measuredBytesPerSecond >= 0
            ? measuredBytesPerSecond
            : ResyncProgress.impliedRate(done, total, eta);
    return ResyncProgress.line(done, total, rate, eta);
  }

  private static String resyncCell(JsonNode cg) {
    if (!resyncing(cg)) {
      return "-";
    }
    JsonNode r = cg.path("resync");
    return String.format(
        java.util.Locale.ROOT,
        "%.1f%% ETA %s",
        r.path("percent").asDouble(),
        ResyncProgress.eta(r.path("etaSeconds").asLong(-1)));
  }

  private static String volumeNames(JsonNode cg) {
    List<String> names = new ArrayList<>();
    cg.path("volumes").forEach(v -> names.add(v.path("name").asText()));
    return names.isEmpty() ? "-" : String.join(",", names);
  }

  private static String onOff(JsonNode flag) {
    return flag.isMissingNode() || flag.isNull() ? "-" : flag.asBoolean() ? "on" : "off";
  }

  private static String rate(JsonNode bytesPerSecond) {
    long r = bytesPerSecond.asLong(0);
    return r <= 0 ? "unlimited" : ByteSize.format(r) + "/s";
  }
}
