package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code duet events [--since ID]}. */
@Command(name = "events", description = "Show recent events.", mixinStandardHelpOptions = true)
final class EventsCommand extends ApiCommand {
  @Option(
      names = "--since",
      paramLabel = "ID",
      defaultValue = "0",
      description = "only events after this id")
  long since;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "100",
      description = "at most N events (1..1000)")
  int limit;

  static void table(ApiCommand c, JsonNode list) {
    Table t = new Table("ID", "TIME", "TYPE", "MESSAGE");
    list.forEach(
        e ->
            t.row(
                e.path("id").asLong(),
                e.path("time").asText(),
                e.path("type").asText(),
                e.path("message").asText()));
    t.print(c.out());
  }

  @Override
  public Integer call() throws IOException {
    return show(api().get("/events?since=" + since + "&limit=" + limit), n -> table(this, n));
  }
}
