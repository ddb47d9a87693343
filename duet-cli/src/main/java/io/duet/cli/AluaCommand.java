package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code duet alua show|set STATE}. */
@Command(
    name = "alua",
    description = "The ALUA state of this site's target port group.",
    mixinStandardHelpOptions = true,
    subcommands = {AluaCommand.Show.class, AluaCommand.Set.class})
final class AluaCommand extends GroupCommand {

  static void print(ApiCommand c, JsonNode n) {
    c.out()
        .println(
            "port group "
                + n.path("portGroupId").asInt()
                + ": "
                + n.path("state").asText()
                + " (relative target ports "
                + n.path("relativeTargetPortIds")
                + ")");
  }

  @Command(name = "show", description = "Show the state.", mixinStandardHelpOptions = true)
  static final class Show extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(api().get("/alua"), n -> print(this, n));
    }
  }

  @Command(
      name = "set",
      description =
          "Set the state: active-optimized, active-non-optimized, standby, unavailable,"
              + " transitioning.",
      mixinStandardHelpOptions = true)
  static final class Set extends ApiCommand {
    @Parameters(index = "0", paramLabel = "STATE")
    String state;

    @Override
    public Integer call() throws IOException {
      return show(
          api().put("/alua", cli().mapper().createObjectNode().put("state", state)),
          n -> print(this, n));
    }
  }
}
