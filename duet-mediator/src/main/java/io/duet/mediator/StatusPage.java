package io.duet.mediator;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code /status} summary: JSON fields for tools, and a plain HTML table for people. */
final class StatusPage {
  private final MediatorClock clock;
  private final Instant started;
  private final long leaseMs;
  private final long graceMs;
  private volatile String url = "";

  StatusPage(MediatorClock clock, long leaseMs, long graceMs) {
    this.clock = clock;
    this.started = clock.now();
    this.leaseMs = leaseMs;
    this.graceMs = graceMs;
  }

  void url(String value) {
    url = value;
  }

  Map<String, Object> summary() {
    Map<String, Object> out = new LinkedHashMap<>();
    String version = StatusPage.class.getPackage().getImplementationVersion();
    out.put("service", "duet-mediator");
    out.put("version", version == null ? "dev" : version);
    out.put("url", url);
    out.put("started", started.toString());
    out.put("uptimeSeconds", Math.max(0, clock.now().getEpochSecond() - started.getEpochSecond()));
    out.put("leaseMs", leaseMs);
    out.put("graceMs", graceMs);
    return out;
  }

  String html(List<RelationshipView> views) {
    StringBuilder b = new StringBuilder(1024);
    b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Duet mediator</title>")
        .append("</head><body><h1>Duet mediator</h1><p>")
        .append(escape(url))
        .append(" &middot; lease ")
        .append(leaseMs)
        .append(" ms, grace ")
        .append(graceMs)
        .append(" ms &middot; ")
        .append(views.size())
        .append(" relationship(s)</p><table border=\"1\" cellpadding=\"4\"><tr><th>group</th>")
        .append("<th>epoch</th><th>leader</th><th>state</th><th>survivor</th><th>lease left")
        .append(" (ms)</th><th>last heard (ms ago)</th></tr>");
    for (RelationshipView v : views) {
      b.append("<tr><td>")
          .append(v.groupId())
          .append("</td><td>")
          .append(v.epoch())
          .append("</td><td>")
          .append(v.leader())
          .append("</td><td>")
          .append(v.inSync() ? "in sync" : "OUT OF SYNC")
          .append(v.preElected() != null ? " (pre-elected)" : "")
          .append("</td><td>")
          .append(v.survivor() == null ? "-" : v.survivor())
          .append("</td><td>")
          .append(v.leaseRemainingMs())
          .append("</td><td>");
      for (RelationshipView.SiteContact c : v.sites()) {
        b.append(c.site()).append(": ").append(c.ageMs() < 0 ? "never" : c.ageMs()).append("<br>");
      }
      b.append("</td></tr>");
    }
    return b.append("</table></body></html>").toString();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
