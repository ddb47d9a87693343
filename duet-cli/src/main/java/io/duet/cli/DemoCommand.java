package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.node.Node;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code duet demo}: one site in this process with a 1 GiB volume mapped to every initiator, and
 * what a host needs to reach it. With {@code --json} stdout carries only JSON lines: a {@code
 * ready} object, then one object per event.
 */
@Command(
    name = "demo",
    description =
        "Run a demo site on this machine with a volume exported to every initiator and over NBD.",
    mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
  static final String SITE = "site-a";
  static final String VOLUME = "demo";
  static final String LOOPBACK = "127.0.0.1";

  /** The first port tried for the NBD listener: NBD's registered port. */
  static final int NBD_PORT_BASE = 10809;

  /** How many ports above --port-base are tried for the iSCSI portal. */
  static final int PORT_SEARCH = 100;

  @Spec CommandSpec spec;

  @Option(
      names = "--port-base",
      paramLabel = "N",
      defaultValue = "3260",
      description = "first port tried for the iSCSI portal (default 3260)")
  int portBase;

  @Override
  public Integer call() throws IOException, InterruptedException {
    DuetCli cli = (DuetCli) spec.root().userObject();
    if (portBase < 1 || portBase > 65535 - PORT_SEARCH) {
      throw new UsageError("--port-base must be 1.." + (65535 - PORT_SEARCH));
    }
    boolean temporary = cli.dataDir() == null;
    Path data = temporary ? Files.createTempDirectory("duet-demo-") : cli.dataDir();
    Node node;
    try {
      SiteConfig cfg =
          SiteConfig.defaults(SITE, data.resolve(SITE))
              .withPortals(List.of(new HostPort(LOOPBACK, freePort(portBase))))
              .withApi(new HostPort(LOOPBACK, 0))
              .withNbd(List.of(new HostPort(LOOPBACK, freePort(NBD_PORT_BASE))));
      node = Node.start(cfg);
    } catch (IOException | RuntimeException e) {
      if (temporary) {
        Running.deleteTree(data);
      }
      throw e;
    }
    try {
      exportDemoVolume(node, cli);
    } catch (IOException | RuntimeException e) {
      node.close();
      if (temporary) {
        Running.deleteTree(data);
      }
      throw e;
    }
    Running running = new Running(cli.out());
    if (cli.json()) {
      running.line(running.ready(node));
      running.streamEvents(node);
    } else {
      explain(cli.out(), node, data, temporary);
    }
    Running.runUntilStopped(node, temporary ? data : null);
    return 0;
  }

  /** Creates and maps the demo volume unless a reused data directory has it already. */
  private static void exportDemoVolume(Node node, DuetCli cli) throws IOException {
    ApiClient api = new ApiClient(node.apiUrl(), node.token(), cli.mapper());
    boolean exists = false;
    for (JsonNode v : api.get("/volumes")) {
      exists |= v.path("name").asText().equals(VOLUME);
    }
    if (!exists) {
      api.post(
          "/volumes",
          cli.mapper()
              .createObjectNode()
              .put("name", VOLUME)
              .put("size", "1GiB")
              .put("blockSize", 512));
    }
    boolean mapped = false;
    for (JsonNode m : api.get("/mappings")) {
      mapped |= m.path("volume").asText().equals(VOLUME) && m.path("host").asText().equals("*");
    }
    if (!mapped) {
      api.post(
          "/mappings",
          cli.mapper().createObjectNode().put("volume", VOLUME).put("host", "*").put("lun", 0));
    }
    boolean exported = false;
    for (JsonNode e : api.get("/nbd/exports")) {
      exported |= e.path("name").asText().equals(VOLUME);
    }
    if (!exported) {
      api.post("/nbd/exports", cli.mapper().createObjectNode().put("volume", VOLUME));
    }
  }

  private static int freePort(int base) throws IOException {
    for (int port = base; port < base + PORT_SEARCH; port++) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(LOOPBACK, port));
        return port;
      } catch (IOException e) {
        // taken: try the next one
      }
    }
    throw new IOException(
        "no free port in " + base + ".." + (base + PORT_SEARCH - 1) + " on " + LOOPBACK);
  }

  private static void explain(PrintWriter out, Node node, Path data, boolean temporary) {
    String url = node.iscsiUrls().isEmpty() ? "(none)" : node.iscsiUrls().get(0);
    String portal = node.portals().get(0).toString();
    String duet = "./duet --api " + node.apiUrl() + " --token " + node.token();
    out.println(
        "Duet demo is running: site "
            + node.name()
            + ", data in "
            + data
            + (temporary ? " (deleted on exit)" : ""));
    out.println();
    out.println(
        "  volume   " + VOLUME + ", 1 GiB, 512-byte blocks, LUN 0, mapped to every initiator");
    out.println("  iSCSI    " + String.join("  ", node.iscsiUrls()));
    out.println("  NBD      " + String.join("  ", node.nbdUrls()));
    out.println("  portal   " + portal + "   target " + node.defaultTarget());
    out.println("  API      " + node.apiUrl());
    out.println("  token    " + node.token());
    out.println();
    out.println("Try:");
    out.println("  iscsi-inq " + url);
    out.println("  iscsi-readcapacity16 " + url);
    out.println("  iscsi-ls -s iscsi://" + portal);
    if (!node.nbdUrls().isEmpty()) {
      out.println("  nbdinfo " + node.nbdUrls().get(0));
    }
    out.println(
        "  sudo iscsiadm -m discovery -t st -p "
            + portal
            + " && sudo iscsiadm -m node -T "
            + node.defaultTarget()
            + " --login");
    out.println("  " + duet + " status");
    out.println("  " + duet + " volume create data --size 10GiB");
    out.println(
        "  curl -H 'Authorization: Bearer "
            + node.token()
            + "' "
            + node.apiUrl()
            + "/api/v1/volumes");
    out.println();
    out.println("Press Ctrl-C to stop.");
    out.flush();
  }
}
