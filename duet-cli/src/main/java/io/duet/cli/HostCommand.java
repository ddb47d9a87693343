package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code duet host create|update|list|show|delete}. */
@Command(
    name = "host",
    description = "Hosts: initiator names and CHAP secrets that mappings refer to.",
    mixinStandardHelpOptions = true,
    subcommands = {
      HostCommand.Create.class,
      HostCommand.Update.class,
      HostCommand.ListHosts.class,
      HostCommand.Show.class,
      HostCommand.Delete.class
    })
final class HostCommand extends GroupCommand {
  static final String SITE_HELP =
      "the site the host sits at: that site's ports are active/optimized for it, the other"
          + " site's active/non-optimized; 'all' (default) makes every serving port optimized";

  static String site(String value) {
    String s = value.strip();
    if (s.isEmpty()) {
      throw new UsageError("--site: give a site name or 'all'");
    }
    return s;
  }

  static void table(ApiCommand c, JsonNode list) {
    Table t = new Table("NAME", "INITIATORS", "SITE", "CHAP", "MUTUAL");
    for (JsonNode h : list) {
      List<String> iqns = new java.util.ArrayList<>();
      h.path("iqns").forEach(i -> iqns.add(i.asText()));
      t.row(
          h.path("name").asText(),
          String.join(",", iqns),
          h.path("site").asText("").isEmpty() ? "all" : h.path("site").asText(),
          h.path("chap").asBoolean() ? h.path("chapUser").asText() : "no",
          h.path("mutualChap").asBoolean() ? h.path("mutualUser").asText() : "no");
    }
    t.print(c.out());
  }

  @Command(name = "create", description = "Create a host.", mixinStandardHelpOptions = true)
  static final class Create extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(
        names = "--iqn",
        required = true,
        paramLabel = "IQN",
        description = "an initiator name (repeat for several)")
    List<String> iqns;

    @Option(names = "--chap-user", paramLabel = "USER")
    String chapUser;

    @Option(names = "--chap-secret", paramLabel = "SECRET", description = "12 to 255 characters")
    String chapSecret;

    @Option(
        names = "--mutual-user",
        paramLabel = "USER",
        description = "the name this target answers with (mutual CHAP)")
    String mutualUser;

    @Option(names = "--mutual-secret", paramLabel = "SECRET")
    String mutualSecret;

    @Option(names = "--site", paramLabel = "SITE|all", description = SITE_HELP)
    String site;

    @Override
    public Integer call() throws IOException {
      if ((chapUser == null) != (chapSecret == null)) {
        throw new UsageError("--chap-user and --chap-secret go together");
      }
      if ((mutualUser == null) != (mutualSecret == null)) {
        throw new UsageError("--mutual-user and --mutual-secret go together");
      }
      ObjectNode body = cli().mapper().createObjectNode().put("name", name);
      iqns.forEach(body.putArray("iqns")::add);
      if (chapUser != null) {
        body.put("chapUser", chapUser).put("chapSecret", chapSecret);
      }
      if (mutualUser != null) {
        body.put("mutualUser", mutualUser).put("mutualSecret", mutualSecret);
      }
      if (site != null) {
        body.put("site", site(site));
      }
      return show(
          api().post("/hosts", body),
          n ->
              out()
                  .println(
                      "host "
                          + n.path("name").asText()
                          + " created"
                          + (n.path("chap").asBoolean()
                              ? " (CHAP" + (n.path("mutualChap").asBoolean() ? ", mutual)" : ")")
                              : "")));
    }
  }

  @Command(
      name = "update",
      description = "Change where a host sits (ALUA path preference for replicated volumes).",
      mixinStandardHelpOptions = true)
  static final class Update extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--site", required = true, paramLabel = "SITE|all", description = SITE_HELP)
    String site;

    @Override
    public Integer call() throws IOException {
      ObjectNode body = cli().mapper().createObjectNode().put("site", site(site));
      return show(
          api().patch("/hosts/" + ApiClient.segment(name), body),
          n -> table(this, cli().mapper().createArrayNode().add(n)));
    }
  }

  @Command(name = "list", description = "List hosts.", mixinStandardHelpOptions = true)
  static final class ListHosts extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(api().get("/hosts"), n -> table(this, n));
    }
  }

  @Command(
      name = "show",
      description = "Show one host (secrets are never shown).",
      mixinStandardHelpOptions = true)
  static final class Show extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      return show(
          api().get("/hosts/" + ApiClient.segment(name)),
          n -> table(this, cli().mapper().createArrayNode().add(n)));
    }
  }

  @Command(name = "delete", description = "Delete a host.", mixinStandardHelpOptions = true)
  static final class Delete extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--force", description = "also remove its mappings")
    boolean force;

    @Override
    public Integer call() throws IOException {
      api().delete("/hosts/" + ApiClient.segment(name) + (force ? "?force=true" : ""));
      return done("host " + name + " deleted");
    }
  }
}
