package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.node.ByteSize;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code duet cg
 * create|list|show|add-volume|verify|switchover|failover|resync|set|validate|delete}: consistency
 * groups replicated to a paired site. The verbs that act on a running group live in {@link
 * CgActions}.
 */
@Command(
    name = "cg",
    description =
        "Consistency groups: volumes replicated active/active to a paired site and failed over"
            + " together.",
    mixinStandardHelpOptions = true,
    subcommands = {
      CgCommand.Create.class,
      CgCommand.ListCgs.class,
      CgCommand.Show.class,
      CgCommand.AddVolume.class,
      CgActions.Verify.class,
      CgActions.Switchover.class,
      CgActions.Failover.class,
      CgActions.Resync.class,
      CgActions.Set.class,
      CgActions.Validate.class,
      CgCommand.Delete.class
    })
final class CgCommand extends GroupCommand {
  static final String POLICY_ACTIVE_ACTIVE = "active-active";

  static String path(String name) {
    return "/cgs/" + ApiClient.segment(name);
  }

  /**
   * Checks a rate such as {@code 200MiB} or {@code 200MiB/s} (bytes per second) and returns it in
   * the form the API takes; the API parses the same syntax, so the text is sent as written.
   */
  static String rate(String option, String text) {
    String t = text.strip();
    if (t.endsWith("/s")) {
      t = t.substring(0, t.length() - 2).strip();
    }
    try {
      if (ByteSize.parse(t) <= 0) {
        throw new UsageError(option + ": the rate must be above 0 bytes per second");
      }
    } catch (IllegalArgumentException e) {
      throw new UsageError(option + ": " + e.getMessage() + " (per second)");
    }
    return t;
  }

  static void printView(ApiCommand c, JsonNode view, String headline) {
    c.out().println(headline);
    CgView.table(c.out(), c.cli().mapper().createArrayNode().add(view));
  }

  @Command(
      name = "create",
      description =
          "Create a consistency group of volumes of this site, replicated to a paired site (which"
              + " creates the twin volumes); the initial copy runs leader to follower.",
      mixinStandardHelpOptions = true)
  static final class Create extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(
        names = "--policy",
        required = true,
        paramLabel = "POLICY",
        description = "active-active (synchronous, both sites serve I/O)")
    String policy;

    @Option(
        names = "--peer",
        required = true,
        paramLabel = "PEER",
        description = "the paired site, as 'duet peer list' names it")
    String peer;

    @Option(
        names = "--volumes",
        required = true,
        split = ",",
        paramLabel = "V1,V2",
        description = "volumes of this site to replicate")
    List<String> volumes;

    @Option(
        names = "--leader",
        paramLabel = "local|peer",
        defaultValue = "local",
        description = "which site orders writes and wins ties (default local)")
    String leader;

    @Option(
        names = "--resync-rate",
        paramLabel = "RATE",
        description = "resync bandwidth limit per second, e.g. 200MiB")
    String resyncRate;

    @Option(names = "--no-auto-resync", description = "resync only when told (duet cg resync)")
    boolean noAutoResync;

    @Option(
        names = "--no-auto-recover",
        description = "keep a resynced site unavailable until told")
    boolean noAutoRecover;

    @Override
    public Integer call() throws IOException {
      if (!POLICY_ACTIVE_ACTIVE.equals(policy)) {
        throw new UsageError(
            "--policy: '" + policy + "' is not a policy; use " + POLICY_ACTIVE_ACTIVE);
      }
      if (!leader.equals("local") && !leader.equals("peer")) {
        throw new UsageError("--leader: '" + leader + "' must be local or peer");
      }
      if (volumes.stream().anyMatch(String::isBlank)) {
        throw new UsageError(
            "--volumes: an empty volume name in '" + String.join(",", volumes) + "'");
      }
      if (volumes.stream().distinct().count() != volumes.size()) {
        throw new UsageError(
            "--volumes: a volume is named twice in '" + String.join(",", volumes) + "'");
      }
      ObjectNode body =
          cli()
              .mapper()
              .createObjectNode()
              .put("name", name)
              .put("policy", policy)
              .put("peer", peer)
              .put("leader", leader)
              .put("autoResync", !noAutoResync)
              .put("autoRecover", !noAutoRecover);
      volumes.forEach(body.putArray("volumes")::add);
      if (resyncRate != null) {
        body.put("resyncRate", rate("--resync-rate", resyncRate));
      }
      return show(
          api().post("/cgs", body),
          n ->
              printView(
                  this,
                  n,
                  "consistency group "
                      + n.path("name").asText()
                      + " created with "
                      + n.path("peer").asText()
                      + "; initial sync runs from "
                      + n.path("leader").asText()
                      + " (watch it: duet cg show "
                      + n.path("name").asText()
                      + " --watch)"));
    }
  }

  @Command(name = "list", description = "List consistency groups.", mixinStandardHelpOptions = true)
  static final class ListCgs extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(api().get("/cgs"), n -> CgView.table(out(), n));
    }
  }

  @Command(
      name = "show",
      description =
          "Show a consistency group; with --watch, redraw its state and resync progress until it"
              + " is in sync and serving (or Ctrl-C).",
      mixinStandardHelpOptions = true)
  static final class Show extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--watch", description = "poll until the group is in sync and serving")
    boolean watch;

    @Option(
        names = "--interval-ms",
        paramLabel = "MS",
        defaultValue = "1000",
        description = "time between polls with --watch (default 1000)")
    long intervalMs;

    @Override
    public Integer call() throws IOException, InterruptedException {
      if (intervalMs < 1 || intervalMs > 60_000) {
        throw new UsageError("--interval-ms must be 1..60000");
      }
      JsonNode view = api().get(path(name));
      if (!watch) {
        return show(view, n -> CgView.detail(out(), n));
      }
      return watch(view);
    }

    /**
     * Polls until in sync and serving. Prints each state as a JSON line with --json, else one
     * status line per poll (redrawn in place on a terminal) with the copy rate measured between
     * polls.
     */
    private int watch(JsonNode first) throws IOException, InterruptedException {
      ApiClient api = api();
      PrintWriter out = out();
      boolean redraw = !cli().json() && System.console() != null && System.console().isTerminal();
      JsonNode view = first;
      long lastDone = CgView.bytesDone(view);
      long lastNanos = System.nanoTime();
      double rate = -1;
      while (true) {
        if (cli().json()) {
          // One JSON object per line, so a script can read the states as they come.
          out.println(
              cli()
                  .mapper()
                  .writer()
                  .without(SerializationFeature.INDENT_OUTPUT)
                  .writeValueAsString(view));
        } else {
          String line = CgView.status(view, rate);
          out.print(redraw ? "\r\033[K" + line : line + System.lineSeparator());
        }
        out.flush();
        if (CgView.settled(view)) {
          if (redraw) {
            out.println();
          }
          return 0;
        }
        TimeUnit.MILLISECONDS.sleep(intervalMs);
        view = api.get(path(name));
        long now = System.nanoTime();
        long done = CgView.bytesDone(view);
        // A new resync starts again from 0: no rate from a negative delta.
        rate = done >= lastDone ? (done - lastDone) * 1e9 / Math.max(1, now - lastNanos) : -1;
        lastDone = done;
        lastNanos = now;
      }
    }
  }

  @Command(
      name = "add-volume",
      description = "Add a volume of this site to a group (its twin is created at the peer).",
      mixinStandardHelpOptions = true)
  static final class AddVolume extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "VOLUME")
    String volume;

    @Override
    public Integer call() throws IOException {
      ObjectNode body = cli().mapper().createObjectNode().put("volume", volume);
      return show(
          api().post(path(name) + "/volumes", body),
          n -> printView(this, n, "volume " + volume + " added to " + name + "; it resyncs now"));
    }
  }

  @Command(
      name = "delete",
      description =
          "Stop replicating a group at both sites; the volumes stay, each site keeps its copy.",
      mixinStandardHelpOptions = true)
  static final class Delete extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      api().delete(path(name));
      return done("consistency group " + name + " deleted (volumes kept at both sites)");
    }
  }
}
