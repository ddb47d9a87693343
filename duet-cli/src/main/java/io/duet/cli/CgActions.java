package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.node.ByteSize;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The {@code duet cg} verbs that act on a running group: verify, role changes, resync, settings.
 */
final class CgActions {
  private CgActions() {}

  @Command(
      name = "verify",
      description =
          "Compare the group's volumes at both sites by region digest, without moving data;"
              + " exits 1 when regions differ and were not repaired.",
      mixinStandardHelpOptions = true)
  static final class Verify extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--repair", description = "copy differing regions from the leader")
    boolean repair;

    @Override
    public Integer call() throws IOException {
      ObjectNode body = cli().mapper().createObjectNode().put("repair", repair);
      JsonNode result = api().post(CgCommand.path(name) + "/verify", body);
      show(result, n -> report(out(), name, n));
      boolean differs = result.path("differingRegions").size() > 0;
      // Like cmp(1): a difference that is still there is a failed check for a script.
      return differs && !result.path("repaired").asBoolean() ? DuetCli.EXIT_API : 0;
    }

    private static void report(PrintWriter out, String name, JsonNode n) {
      JsonNode diff = n.path("differingRegions");
      out.println(
          "verified "
              + name
              + ": "
              + n.path("regionsCompared").asLong()
              + " regions compared, "
              + diff.size()
              + " differ"
              + (diff.size() > 0 && n.path("repaired").asBoolean()
                  ? " (repaired from the leader)"
                  : ""));
      if (diff.size() > 0) {
        Table t = new Table("VOLUME", "OFFSET", "LENGTH");
        diff.forEach(
            d ->
                t.row(
                    d.path("volume").asText(),
                    d.path("offset").asLong(),
                    ByteSize.format(d.path("length").asLong())));
        t.print(out);
        if (!n.path("repaired").asBoolean()) {
          out.println("repair them with: duet cg verify " + name + " --repair");
        }
      }
    }
  }

  @Command(
      name = "validate",
      description =
          "Run the checks before go-live: in sync, both sites reachable, mediator configured,"
              + " connected and in quorum at both, no operation running, ALUA serving at both."
              + " Exits 1 when a check fails.",
      mixinStandardHelpOptions = true)
  static final class Validate extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      JsonNode result = api().get(CgCommand.path(name) + "/validate");
      show(result, n -> report(out(), n));
      return result.path("passed").asBoolean() ? 0 : DuetCli.EXIT_API;
    }

    private static void report(PrintWriter out, JsonNode n) {
      Table t = new Table("RESULT", "CHECK", "DETAIL");
      for (JsonNode c : n.path("checks")) {
        t.row(
            c.path("passed").asBoolean() ? "PASS" : "FAIL",
            c.path("name").asText(),
            c.path("detail").asText());
      }
      t.print(out);
      out.println(
          n.path("passed").asBoolean()
              ? "group " + n.path("group").asText() + " is ready"
              : "group " + n.path("group").asText() + " is NOT ready: fix what FAILs above");
    }
  }

  @Command(
      name = "switchover",
      description =
          "Planned move of the leader role to the other site; both sites keep serving (refused"
              + " unless in sync).",
      mixinStandardHelpOptions = true)
  static final class Switchover extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      return show(
          api().post(CgCommand.path(name) + "/switchover", cli().mapper().createObjectNode()),
          n ->
              CgCommand.printView(
                  this,
                  n,
                  "switchover done: "
                      + n.path("leader").asText()
                      + " now leads "
                      + name
                      + " (epoch "
                      + n.path("epoch").asLong()
                      + ")"));
    }
  }

  @Command(
      name = "failover",
      description =
          "Forced failover: make this site serve the group alone when the peer is known to be"
              + " lost. Writes the peer acknowledged but never replicated here are lost.",
      mixinStandardHelpOptions = true)
  static final class Failover extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(
        names = "--force",
        description = "required: confirms that the peer is lost and data loss is accepted")
    boolean force;

    @Option(names = "--reason", paramLabel = "TEXT", description = "recorded in the event log")
    String reason;

    @Override
    public Integer call() throws IOException {
      if (!force) {
        throw new UsageError(
            "failover without --force is refused: promoting this site while the peer may still"
                + " hold acknowledged writes can lose them; use 'duet cg switchover' for a planned"
                + " move, or add --force when the peer is known to be lost");
      }
      PrintWriter err = cli().err();
      err.println("WARNING: forced failover of " + name + ".");
      err.println(
          "WARNING: writes the other site acknowledged but did not replicate here are LOST; when it"
              + " returns it is fenced and resynced from this site.");
      err.println(
          "With a mediator, the failover is recorded there first and this site serves only once"
              + " the old leader's lease has ended (up to a lease plus the mediator's grace; a"
              + " whole lease when the mediator cannot be reached); the event cg.forced-failover"
              + " says what it waited for. Without one it serves at once and nothing fences the"
              + " old leader.");
      err.flush();
      ObjectNode body = cli().mapper().createObjectNode().put("force", true);
      body.put("reason", reason == null ? "forced from the duet CLI" : reason);
      return show(
          api().post(CgCommand.path(name) + "/failover", body),
          n ->
              CgCommand.printView(
                  this,
                  n,
                  "forced failover done: "
                      + n.path("leader").asText()
                      + " leads "
                      + name
                      + " at epoch "
                      + n.path("epoch").asLong()));
    }
  }

  @Command(
      name = "resync",
      description =
          "Start a resync now (when auto-resync is off). With --full, rebuild this site's"
              + " replication state and copy every region from the site that leads: the way out"
              + " when the group's state here is missing.",
      mixinStandardHelpOptions = true)
  static final class Resync extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(
        names = "--full",
        description =
            "rebuild the dirty maps with every region marked (a lost epoch from the peer's, this"
                + " site stale) and restart the group")
    boolean full;

    @Override
    public Integer call() throws IOException {
      var body = cli().mapper().createObjectNode();
      if (full) {
        body.put("full", true);
      }
      api().post(CgCommand.path(name) + "/resync", body);
      return done(
          (full ? "full resync of " : "resync of ")
              + name
              + " started (follow it: duet cg show "
              + name
              + " --watch)");
    }
  }

  @Command(
      name = "set",
      description = "Change a group's automatic resync/recovery and resync rate.",
      mixinStandardHelpOptions = true)
  static final class Set extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--auto-resync", paramLabel = "on|off")
    String autoResync;

    @Option(names = "--auto-recover", paramLabel = "on|off")
    String autoRecover;

    @Option(names = "--resync-rate", paramLabel = "RATE", description = "per second, e.g. 100MiB")
    String resyncRate;

    @Override
    public Integer call() throws IOException {
      if (autoResync == null && autoRecover == null && resyncRate == null) {
        throw new UsageError("nothing to set: give --auto-resync, --auto-recover or --resync-rate");
      }
      ObjectNode body = cli().mapper().createObjectNode();
      if (autoResync != null) {
        body.put("autoResync", onOff("--auto-resync", autoResync));
      }
      if (autoRecover != null) {
        body.put("autoRecover", onOff("--auto-recover", autoRecover));
      }
      if (resyncRate != null) {
        body.put("resyncRate", CgCommand.rate("--resync-rate", resyncRate));
      }
      return show(
          api().patch(CgCommand.path(name), body),
          n -> CgCommand.printView(this, n, "consistency group " + name + " updated"));
    }

    static boolean onOff(String option, String value) {
      return switch (value.strip().toLowerCase(Locale.ROOT)) {
        case "on", "true", "yes" -> true;
        case "off", "false", "no" -> false;
        default -> throw new UsageError(option + ": '" + value + "' must be on or off");
      };
    }
  }
}
