package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code duet status}. */
@Command(name = "status", description = "Show the site's status.", mixinStandardHelpOptions = true)
final class StatusCommand extends ApiCommand {
  @Override
  public Integer call() throws IOException {
    return show(
        api().get("/status"),
        n -> {
          Table t = new Table("FIELD", "VALUE");
          t.row("site", text(n, "site"))
              .row("uuid", text(n, "uuid"))
              .row("version", text(n, "version"))
              .row("uptime", n.path("uptimeSeconds").asLong() + " s")
              .row("volumes", text(n, "volumes"))
              .row("hosts", text(n, "hosts"))
              .row("mappings", text(n, "mappings"))
              .row("sessions", text(n, "sessions"))
              .row("portals", join(n.path("portals")))
              .row("targets", join(n.path("targets")))
              .row("nbd", join(n.path("nbdListeners")))
              .row("nbd exports", join(n.path("nbd")))
              .row(
                  "replication",
                  n.path("replication").asText().isEmpty() ? "-" : n.path("replication").asText())
              .row("peers", peers(n.path("peers")))
              .row("mediator", mediator(n.path("mediator")))
              .row("groups", groups(n.path("cgs")))
              .row(
                  "alua",
                  n.path("alua").path("state").asText()
                      + " (group "
                      + n.path("alua").path("portGroupId").asInt()
                      + ")");
          t.print(out());
          JsonNode events = n.path("recentEvents");
          if (events.size() > 0) {
            out().println();
            EventsCommand.table(this, events);
          }
        });
  }

  private static String peers(JsonNode list) {
    List<String> items = new ArrayList<>();
    list.forEach(
        p -> items.add(p.path("name").asText() + " (link " + p.path("link").asText() + ")"));
    return items.isEmpty() ? "-" : String.join(", ", items);
  }

  /** One item per consistency group: name, role, state, and resync percent while resyncing. */
  private static String groups(JsonNode list) {
    List<String> items = new ArrayList<>();
    for (JsonNode g : list) {
      String item =
          g.path("name").asText()
              + " ("
              + g.path("role").asText()
              + ", "
              + g.path("syncState").asText()
              + (CgView.resyncing(g)
                  ? String.format(
                      java.util.Locale.ROOT, " %.1f%%", g.path("resync").path("percent").asDouble())
                  : "")
              + ", link "
              + g.path("link").asText()
              + ", "
              + g.path("availability").asText()
              + CgView.quorum(g.path("mediator"))
              + ")";
      items.add(item);
    }
    return items.isEmpty() ? "-" : String.join(", ", items);
  }

  /** The site's mediator: its address and whether it answers. */
  private static String mediator(JsonNode m) {
    if (!m.path("configured").asBoolean()) {
      return "-";
    }
    return m.path("address").asText() + " (connected: " + MediatorSiteCommands.connected(m) + ")";
  }

  private static String join(JsonNode list) {
    List<String> items = new ArrayList<>();
    list.forEach(i -> items.add(i.asText()));
    return items.isEmpty() ? "-" : String.join(", ", items);
  }
}
