package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.node.Node;
import io.duet.node.config.ConfigException;
import io.duet.node.config.SiteConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code duet demo}: two sites and a mediator on this machine, site A in this process, site B and
 * the mediator in child JVMs; the sites paired and both using the mediator, with a 1 GiB volume
 * replicated active/active in the group {@code demo} and exported at both over iSCSI (every
 * initiator, LUN 0) and NBD. With {@code --json} stdout carries only JSON lines: a {@code ready}
 * object listing both sites (A first, with the keys it always had) and the mediator, then one
 * object per event of site A. SIGTERM or Ctrl-C stops all three.
 */
@Command(
    name = "demo",
    description =
        "Run two demo sites and a mediator on this machine, with a volume replicated between the"
            + " sites and exported at both, to every initiator and over NBD.",
    mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
  static final String SITE = DemoSites.SITE_A;
  static final String VOLUME = DemoSetup.VOLUME;
  static final String LOOPBACK = "127.0.0.1";

  /** The mediator's data directory (and log, with .log) in the demo's data directory. */
  static final String MEDIATOR = "mediator";

  /** The first port tried for the NBD listeners: NBD's registered port. */
  static final int NBD_PORT_BASE = 10809;

  /** How many ports above --port-base are tried for the iSCSI portals. */
  static final int PORT_SEARCH = 100;

  @Spec CommandSpec spec;

  @Option(
      names = "--port-base",
      paramLabel = "N",
      defaultValue = "3260",
      description = "first port tried for the iSCSI portals (default 3260)")
  int portBase;

  @Override
  public Integer call() throws IOException, InterruptedException, ConfigException {
    DuetCli cli = (DuetCli) spec.root().userObject();
    if (portBase < 1 || portBase > 65535 - PORT_SEARCH) {
      throw new UsageError("--port-base must be 1.." + (65535 - PORT_SEARCH));
    }
    boolean temporary = cli.dataDir() == null;
    Path data = temporary ? Files.createTempDirectory("duet-demo-") : cli.dataDir();
    DemoSites.Ports ports = new DemoSites.Ports(portBase, NBD_PORT_BASE, PORT_SEARCH);
    Node node = null;
    DemoSites.Child siteB = null;
    DemoSites.Child mediator = null;
    SiteConfig cfgB;
    try {
      Files.createDirectories(data);
      // One mediator user per site (it lets a user act for one site only), before it starts.
      DemoSetup.Login loginA = DemoSetup.Login.create(data.resolve(MEDIATOR), DemoSites.SITE_A);
      DemoSetup.Login loginB = DemoSetup.Login.create(data.resolve(MEDIATOR), DemoSites.SITE_B);
      mediator =
          DemoSites.Child.startMediator(
              data.resolve(MEDIATOR), data.resolve(MEDIATOR + ".log"), cli.mapper());
      node = Node.start(DemoSites.config(data, DemoSites.SITE_A, ports));
      // B's ports are chosen after A has bound its own, so the two never pick the same port.
      cfgB = DemoSites.config(data, DemoSites.SITE_B, ports);
      siteB =
          DemoSites.Child.start(
              data.resolve(DemoSites.SITE_B + ".yaml"),
              data.resolve(DemoSites.SITE_B + ".log"),
              cli.mapper());
      new DemoSetup(
              new ApiClient(node.apiUrl(), node.token(), cli.mapper()),
              new ApiClient(siteB.api(), siteB.token(), cli.mapper()),
              cli.mapper(),
              DemoSetup.Mediator.of(mediator.mediator(), loginA, loginB))
          .run();
    } catch (IOException | ConfigException | RuntimeException | InterruptedException e) {
      stop(node, siteB, mediator);
      if (temporary) {
        Running.deleteTree(data);
      }
      throw e;
    }
    Running running = new Running(cli.out());
    if (cli.json()) {
      ObjectNode ready = ready(running, node, siteB, cfgB);
      ready
          .putObject("mediator")
          .put("api", mediator.mediator().path("api").asText())
          .put("caCert", mediator.mediator().path("caCert").asText())
          .put("log", mediator.log().toString())
          .put("pid", mediator.pid());
      running.line(ready);
      running.streamEvents(node);
    } else {
      explain(cli.out(), node, siteB, mediator, cfgB, data, temporary);
    }
    Node a = node;
    DemoSites.Child b = siteB;
    DemoSites.Child m = mediator;
    Running.runUntilStopped(() -> stop(a, b, m), temporary ? data : null);
    return 0;
  }

  /** Stops the sites before the mediator, so neither sees it go away first. */
  private static void stop(Node node, DemoSites.Child siteB, DemoSites.Child mediator) {
    try {
      if (node != null) {
        node.close();
      }
    } finally {
      try {
        if (siteB != null) {
          siteB.close();
        }
      } finally {
        if (mediator != null) {
          mediator.close();
        }
      }
    }
  }

  /** Site A's entry as {@code site run} prints it, then site B's with the same keys. */
  private static ObjectNode ready(
      Running running, Node node, DemoSites.Child siteB, SiteConfig cfgB) {
    ObjectNode root = running.ready(node);
    JsonNode b = siteB.site();
    ObjectNode site = ((ArrayNode) root.get("sites")).addObject();
    site.put("name", DemoSites.SITE_B)
        .put("uuid", b.path("uuid").asText())
        .put("api", siteB.api())
        .put("token", siteB.token());
    ArrayNode iscsi = site.putArray("iscsi");
    DemoSites.iscsiUrls(cfgB, 0).forEach(iscsi::add);
    ArrayNode nbd = site.putArray("nbd");
    DemoSites.nbdUrls(cfgB, VOLUME).forEach(nbd::add);
    ArrayNode portals = site.putArray("portals");
    cfgB.portals().forEach(p -> portals.add(p.toString()));
    site.put("target", cfgB.targetPrefix());
    site.put("dataDir", cfgB.dataDir().toString());
    site.put("log", siteB.log().toString());
    site.put("pid", siteB.pid());
    return root;
  }

  private static void explain(
      PrintWriter out,
      Node node,
      DemoSites.Child siteB,
      DemoSites.Child mediator,
      SiteConfig cfgB,
      Path data,
      boolean temporary) {
    List<String> urlsB = DemoSites.iscsiUrls(cfgB, 0);
    String url = node.iscsiUrls().isEmpty() ? "(none)" : node.iscsiUrls().get(0);
    String duet = "./duet --api " + node.apiUrl() + " --token " + node.token();
    out.println(
        "Duet demo is running: sites "
            + node.name()
            + " (this process) and "
            + DemoSites.SITE_B
            + " (a child JVM, log "
            + siteB.log()
            + "), data in "
            + data
            + (temporary ? " (deleted on exit)" : ""));
    out.println();
    out.println(
        "  volume   "
            + VOLUME
            + ", 1 GiB, 512-byte blocks, replicated active/active in group "
            + DemoSetup.GROUP
            + ", LUN 0 at both sites, mapped to every initiator");
    out.println("  " + node.name() + "   iSCSI " + String.join("  ", node.iscsiUrls()));
    out.println("           NBD   " + String.join("  ", node.nbdUrls()));
    out.println("           API   " + node.apiUrl() + "   token " + node.token());
    out.println("  " + DemoSites.SITE_B + "   iSCSI " + String.join("  ", urlsB));
    out.println("           NBD   " + String.join("  ", DemoSites.nbdUrls(cfgB, VOLUME)));
    out.println("           API   " + siteB.api() + "   token " + siteB.token());
    out.println(
        "  mediator "
            + mediator.mediator().path("api").asText()
            + "   (a child JVM, log "
            + mediator.log()
            + "; both sites use it for automatic failover)");
    out.println();
    out.println("Try:");
    out.println("  iscsi-inq " + url);
    if (!urlsB.isEmpty()) {
      out.println("  iscsi-test-cu -d --test=ALL.MultipathIO " + url + " " + urlsB.get(0));
    }
    if (!node.nbdUrls().isEmpty()) {
      out.println("  nbdinfo " + node.nbdUrls().get(0));
    }
    out.println("  " + duet + " cg show " + DemoSetup.GROUP + " --watch");
    out.println("  " + duet + " cg verify " + DemoSetup.GROUP);
    out.println("  " + duet + " cg switchover " + DemoSetup.GROUP);
    out.println("  " + duet + " cg validate " + DemoSetup.GROUP);
    out.println("  " + duet + " status");
    out.println();
    out.println("Press Ctrl-C to stop both sites and the mediator.");
    out.flush();
  }
}
