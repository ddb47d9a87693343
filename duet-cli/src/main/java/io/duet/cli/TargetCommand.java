package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code duet target list|create|delete}. */
@Command(
    name = "target",
    description = "iSCSI targets of the site.",
    mixinStandardHelpOptions = true,
    subcommands = {
      TargetCommand.ListTargets.class,
      TargetCommand.Create.class,
      TargetCommand.Delete.class
    })
final class TargetCommand extends GroupCommand {

  @Command(name = "list", description = "List targets.", mixinStandardHelpOptions = true)
  static final class ListTargets extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(
          api().get("/targets"),
          list -> {
            Table t = new Table("NAME", "DEFAULT", "MAPPINGS", "TPGT");
            list.forEach(
                x ->
                    t.row(
                        x.path("name").asText(),
                        x.path("isDefault").asBoolean() ? "yes" : "",
                        x.path("mappings").asInt(),
                        x.path("portalGroupTag").asInt()));
            t.print(out());
          });
    }
  }

  @Command(
      name = "create",
      description = "Create a target: a full iSCSI name, or a suffix to the site's prefix.",
      mixinStandardHelpOptions = true)
  static final class Create extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      JsonNode t = api().post("/targets", cli().mapper().createObjectNode().put("name", name));
      return show(t, n -> out().println("target " + n.path("name").asText() + " created"));
    }
  }

  @Command(name = "delete", description = "Delete a target.", mixinStandardHelpOptions = true)
  static final class Delete extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--force", description = "also remove its mappings")
    boolean force;

    @Override
    public Integer call() throws IOException {
      api().delete("/targets/" + ApiClient.segment(name) + (force ? "?force=true" : ""));
      return done("target " + name + " deleted");
    }
  }
}
