package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code duet peer invite|create|list|delete}: pairing with another site. */
@Command(
    name = "peer",
    description =
        "Peerings with other sites: mutual TLS trust set up once with a one-time passphrase.",
    mixinStandardHelpOptions = true,
    subcommands = {
      PeerCommand.Invite.class,
      PeerCommand.Create.class,
      PeerCommand.ListPeers.class,
      PeerCommand.Delete.class
    })
final class PeerCommand extends GroupCommand {

  static void table(ApiCommand c, JsonNode list) {
    Table t = new Table("NAME", "UUID", "ADDRESS", "LINK", "FINGERPRINT");
    for (JsonNode p : list) {
      String fp = p.path("fingerprint").asText();
      t.row(
          p.path("name").asText(),
          p.path("uuid").asText(),
          p.path("address").asText().isEmpty() ? "-" : p.path("address").asText(),
          p.path("link").asText(),
          fp.length() > 16 ? fp.substring(0, 16) + "…" : fp);
    }
    t.print(c.out());
  }

  @Command(
      name = "invite",
      description =
          "Open a pairing invitation on this site and print its one-time passphrase (valid 15"
              + " minutes, 5 attempts; a new invitation revokes the previous one).",
      mixinStandardHelpOptions = true)
  static final class Invite extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(
          api().post("/peers/invitations", cli().mapper().createObjectNode()),
          n -> {
            out().println("passphrase: " + n.path("passphrase").asText() + "   (shown only once)");
            out()
                .println(
                    "valid until "
                        + n.path("expiresAt").asText()
                        + ", "
                        + n.path("attempts").asInt()
                        + " attempts");
            out()
                .println(
                    "on the other site run: duet peer create --address "
                        + n.path("address").asText()
                        + " --passphrase "
                        + n.path("passphrase").asText());
          });
    }
  }

  @Command(
      name = "create",
      description =
          "Pair this site with the site at ADDRESS (its replication port, or a proxy in front of"
              + " it) using the passphrase of its invitation.",
      mixinStandardHelpOptions = true)
  static final class Create extends ApiCommand {
    @Option(names = "--address", required = true, paramLabel = "HOST:PORT")
    String address;

    @Option(names = "--passphrase", required = true, paramLabel = "PASSPHRASE")
    String passphrase;

    @Override
    public Integer call() throws IOException {
      ObjectNode body =
          cli().mapper().createObjectNode().put("address", address).put("passphrase", passphrase);
      return show(
          api().post("/peers", body),
          n ->
              out()
                  .println(
                      "paired with site "
                          + n.path("name").asText()
                          + " ("
                          + n.path("uuid").asText()
                          + "), certificate "
                          + n.path("fingerprint").asText()));
    }
  }

  @Command(name = "list", description = "List paired sites.", mixinStandardHelpOptions = true)
  static final class ListPeers extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(api().get("/peers"), n -> table(this, n));
    }
  }

  @Command(
      name = "delete",
      description = "Forget a paired site and close the link (delete it on the other site too).",
      mixinStandardHelpOptions = true)
  static final class Delete extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      api().delete("/peers/" + ApiClient.segment(name));
      return done("peer " + name + " deleted");
    }
  }
}
