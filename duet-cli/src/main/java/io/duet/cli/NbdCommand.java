package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code duet nbd export|list|unexport}: volumes offered to NBD clients. */
@Command(
    name = "nbd",
    description = "NBD exports (volumes offered to NBD clients such as qemu-img and nbdcopy).",
    mixinStandardHelpOptions = true,
    subcommands = {
      NbdCommand.Export.class,
      NbdCommand.ListExports.class,
      NbdCommand.Unexport.class
    })
final class NbdCommand extends GroupCommand {

  @Command(
      name = "export",
      description = "Export a volume over NBD (to this machine only unless --allow says more).",
      mixinStandardHelpOptions = true)
  static final class Export extends ApiCommand {
    @Parameters(index = "0", paramLabel = "VOLUME")
    String volume;

    @Option(
        names = "--name",
        paramLabel = "N",
        description = "export name clients ask for (default: the volume name)")
    String name;

    @Option(
        names = "--allow",
        paramLabel = "CIDR",
        arity = "1..*",
        description = "client networks allowed, e.g. 192.0.2.0/24 (default 127.0.0.0/8, ::1/128)")
    List<String> allow = new ArrayList<>();

    @Option(names = "--read-only", description = "clients may only read")
    boolean readOnly;

    @Override
    public Integer call() throws IOException {
      ObjectNode body = cli().mapper().createObjectNode().put("volume", volume);
      if (name != null) {
        body.put("name", name);
      }
      if (!allow.isEmpty()) {
        allow.forEach(body.putArray("allow")::add);
      }
      body.put("readOnly", readOnly);
      JsonNode e = api().post("/nbd/exports", body);
      return show(
          e,
          n -> {
            out()
                .println(
                    "volume "
                        + n.path("volume").asText()
                        + " exported as "
                        + n.path("name").asText()
                        + (n.path("readOnly").asBoolean() ? " (read-only)" : ""));
            n.path("urls").forEach(u -> out().println("  " + u.asText()));
          });
    }
  }

  @Command(name = "list", description = "List NBD exports.", mixinStandardHelpOptions = true)
  static final class ListExports extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(
          api().get("/nbd/exports"),
          list -> {
            Table t = new Table("NAME", "VOLUME", "MODE", "ALLOW", "CLIENTS", "URL");
            list.forEach(
                e ->
                    t.row(
                        e.path("name").asText(),
                        e.path("volume").asText(),
                        e.path("readOnly").asBoolean() ? "ro" : "rw",
                        join(e.path("allow")),
                        e.path("connections").asLong(),
                        e.path("urls").isEmpty() ? "-" : e.path("urls").get(0).asText()));
            t.print(out());
          });
    }

    private static String join(JsonNode array) {
      List<String> parts = new ArrayList<>();
      array.forEach(x -> parts.add(x.asText()));
      return String.join(",", parts);
    }
  }

  @Command(
      name = "unexport",
      description = "Remove an NBD export; connected clients are dropped.",
      mixinStandardHelpOptions = true)
  static final class Unexport extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      api().delete("/nbd/exports/" + ApiClient.segment(name));
      return done("NBD export " + name + " removed");
    }
  }
}
