package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;

/** {@code duet mapping list}. */
@Command(
    name = "mapping",
    description = "Volume-to-host mappings.",
    mixinStandardHelpOptions = true,
    subcommands = {MappingCommand.ListMappings.class})
final class MappingCommand extends GroupCommand {

  static void table(ApiCommand c, JsonNode list) {
    Table t = new Table("ID", "VOLUME", "HOST", "LUN", "MODE", "TARGET");
    for (JsonNode m : list) {
      t.row(
          m.path("id").asLong(),
          m.path("volume").asText(),
          m.path("host").asText(),
          m.path("lun").asInt(),
          m.path("readOnly").asBoolean() ? "ro" : "rw",
          m.path("target").asText());
    }
    t.print(c.out());
  }

  static ApiCommand.Printer printer(ApiCommand c) {
    return n ->
        c.out()
            .println(
                "volume "
                    + n.path("volume").asText()
                    + " mapped to "
                    + n.path("host").asText()
                    + " at LUN "
                    + n.path("lun").asInt()
                    + " of "
                    + n.path("target").asText()
                    + (n.path("readOnly").asBoolean() ? " (read-only)" : "")
                    + ", mapping id "
                    + n.path("id").asLong());
  }

  @Command(name = "list", description = "List mappings.", mixinStandardHelpOptions = true)
  static final class ListMappings extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(api().get("/mappings"), n -> table(this, n));
    }
  }
}
