package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code duet portal add|list|remove}. */
@Command(
    name = "portal",
    description = "iSCSI portals (addresses the site listens on).",
    mixinStandardHelpOptions = true,
    subcommands = {
      PortalCommand.Add.class,
      PortalCommand.ListPortals.class,
      PortalCommand.Remove.class
    })
final class PortalCommand extends GroupCommand {

  @Command(
      name = "add",
      description = "Open a portal, e.g. 192.0.2.10:3260 or [::1]:3260.",
      mixinStandardHelpOptions = true)
  static final class Add extends ApiCommand {
    @Parameters(index = "0", paramLabel = "HOST:PORT")
    String address;

    @Override
    public Integer call() throws IOException {
      JsonNode p =
          api().post("/portals", cli().mapper().createObjectNode().put("address", address));
      return show(
          p,
          n ->
              out()
                  .println(
                      "portal "
                          + n.path("address").asText()
                          + " open (tpgt "
                          + n.path("portalGroupTag").asInt()
                          + ")"));
    }
  }

  @Command(name = "list", description = "List portals.", mixinStandardHelpOptions = true)
  static final class ListPortals extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(
          api().get("/portals"),
          list -> {
            Table t = new Table("ADDRESS", "TPGT", "SOURCE");
            list.forEach(
                p ->
                    t.row(
                        p.path("address").asText(),
                        p.path("portalGroupTag").asInt(),
                        p.path("source").asText()));
            t.print(out());
          });
    }
  }

  @Command(
      name = "remove",
      description = "Close a portal added with 'portal add'.",
      mixinStandardHelpOptions = true)
  static final class Remove extends ApiCommand {
    @Parameters(index = "0", paramLabel = "HOST:PORT")
    String address;

    @Override
    public Integer call() throws IOException {
      api().delete("/portals/" + ApiClient.segment(address));
      return done("portal " + address + " closed");
    }
  }
}
