package io.duet.cli;

import java.io.IOException;
import picocli.CommandLine.Command;

/** {@code duet session list}. */
@Command(
    name = "session",
    description = "iSCSI sessions logged in to the site.",
    mixinStandardHelpOptions = true,
    subcommands = {SessionCommand.ListSessions.class})
final class SessionCommand extends GroupCommand {

  @Command(name = "list", description = "List sessions.", mixinStandardHelpOptions = true)
  static final class ListSessions extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(
          api().get("/sessions"),
          list -> {
            Table t = new Table("INITIATOR", "ISID", "TSIH", "TARGET", "REMOTE", "COMMANDS");
            list.forEach(
                s ->
                    t.row(
                        s.path("initiatorName").asText(),
                        s.path("isid").asText(),
                        s.path("tsih").asInt(),
                        s.path("targetName").asText(),
                        s.path("remoteAddress").asText(),
                        s.path("commands").asLong()));
            t.print(out());
          });
    }
  }
}
