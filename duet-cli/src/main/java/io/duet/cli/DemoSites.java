package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.node.config.ConfigException;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The two sites of {@code duet demo}: their configs (written once into the data directory, so a
 * reused directory keeps its ports, pairing and group), and site B as a child JVM started with this
 * JVM's launcher and class path, announcing itself with its {@code ready} line.
 */
final class DemoSites {
  static final String SITE_A = "site-a";
  static final String SITE_B = "site-b";
  static final Duration CHILD_READY_TIMEOUT = Duration.ofSeconds(60);
  static final Duration CHILD_STOP_TIMEOUT = Duration.ofSeconds(20);

  private DemoSites() {}

  /** Ports the demo looks for: iSCSI from --port-base, NBD from 10809, in one search window. */
  record Ports(int portBase, int nbdBase, int search) {}

  /**
   * The config of {@code site} in {@code data}: read from {@code data/<site>.yaml} when a previous
   * demo wrote it, else made with free loopback ports and written there.
   */
  static SiteConfig config(Path data, String site, Ports ports)
      throws IOException, ConfigException {
    Path file = data.resolve(site + ".yaml");
    if (!Files.exists(file)) {
      boolean a = site.equals(SITE_A);
      String yaml =
          "# written by duet demo; edit or delete it to change the ports\n"
              + "name: "
              + site
              + "\n"
              + "dataDir: "
              + site
              + "\n"
              + "portals: [\"127.0.0.1:"
              + freePort(ports.portBase(), ports.search())
              + "\"]\n"
              + "api: 127.0.0.1:0\n"
              + "nbd: [\"127.0.0.1:"
              + freePort(ports.nbdBase(), ports.search())
              + "\"]\n"
              + "replication: 127.0.0.1:"
              + freePort(0, 1)
              + "\n"
              // Each site is its own ALUA port group with its own relative port ids.
              + "portGroupId: "
              + (a ? 1 : 2)
              + "\n"
              + "relativeTargetPortId: "
              + (a ? 1 : 2)
              + "\n"
              + "portalGroupTag: "
              + (a ? 1 : 2)
              + "\n";
      Files.createDirectories(data);
      Files.writeString(file, yaml, StandardCharsets.UTF_8);
    }
    return SiteConfig.load(file);
  }

  /**
   * A free loopback port from {@code base} on ({@code base} 0: any free port). The port is free
   * when asked; the site binds it moments later.
   */
  static int freePort(int base, int search) throws IOException {
    for (int port = base; port < base + search; port++) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(DemoCommand.LOOPBACK, port));
        return s.getLocalPort();
      } catch (IOException e) {
        // taken: try the next one
      }
    }
    throw new IOException(
        "no free port in " + base + ".." + (base + search - 1) + " on " + DemoCommand.LOOPBACK);
  }

  /**
   * Site B or the mediator running as a child process of the demo (its log in the data directory),
   * known by its {@code ready} line.
   */
  static final class Child implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final JsonNode ready;

    private Child(Process process, Path log, JsonNode ready) {
      this.process = process;
      this.log = log;
      this.ready = ready;
    }

    /** Starts {@code duet site run --config FILE} in a new JVM and waits for its ready line. */
    static Child start(Path config, Path log, ObjectMapper json)
        throws IOException, InterruptedException {
      return start(
          "site " + SITE_B, List.of("site", "run", "--config", config.toString()), log, json);
    }

    /**
     * Starts {@code duet mediator run --data-dir DIR --listen 127.0.0.1:PORT} (a free port) in a
     * new JVM and waits for its ready line.
     */
    static Child startMediator(Path dataDir, Path log, ObjectMapper json)
        throws IOException, InterruptedException {
      String listen = DemoCommand.LOOPBACK + ":" + freePort(0, 1);
      return start(
          "the mediator",
          List.of("mediator", "run", "--data-dir", dataDir.toString(), "--listen", listen),
          log,
          json);
    }

    /** Starts {@code duet ARGS} in a new JVM and waits for its ready line. */
    private static Child start(String what, List<String> args, Path log, ObjectMapper json)
        throws IOException, InterruptedException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmOptions());
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DuetCli.class.getName()));
      cmd.addAll(args);
      // The pipe on its standard input ends when this process does, even by SIGKILL: the child
      // then stops too instead of outliving the demo.
      cmd.add("--stop-on-stdin-eof");
      Process p =
          new ProcessBuilder(cmd)
              .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
      BlockingQueue<String> first = new ArrayBlockingQueue<>(1);
      // Read standard output for the child's whole life: a full pipe would block its event lines.
      Thread.ofVirtual().name("demo-child-stdout").start(() -> drain(p, first));
      String line = first.poll(CHILD_READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (line == null || line.isEmpty()) {
        p.destroyForcibly();
        throw new IOException(
            what
                + " did not start"
                + (line == null ? " in time" : "")
                + "; its log is "
                + log
                + ":\n"
                + tail(log));
      }
      return new Child(p, log, json.readTree(line));
    }

    private static void drain(Process p, BlockingQueue<String> first) {
      boolean announced = false;
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (!announced && line.startsWith("{") && line.contains("\"ready\"")) {
            announced = first.offer(line);
          }
        }
      } catch (IOException e) {
        // the child is gone; its exit is noticed below or by the caller
      } finally {
        if (!announced) {
          first.offer("");
        }
      }
    }

    /** The JVM options of this process worth giving the child (not agents or debuggers). */
    private static List<String> jvmOptions() {
      List<String> options = new ArrayList<>();
      for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (!arg.startsWith("-agentlib")
            && !arg.startsWith("-javaagent")
            && !arg.startsWith("-Xrunjdwp")
            && !arg.startsWith("-Dsun.java.command")) {
          options.add(arg);
        }
      }
      if (options.stream().noneMatch(o -> o.startsWith("--enable-native-access"))) {
        options.add("--enable-native-access=ALL-UNNAMED");
      }
      return options;
    }

    /** The mediator entry of the child's ready line (api, caCert, dataDir). */
    JsonNode mediator() {
      return ready.path("mediator");
    }

    /** The site entry of the child's ready line. */
    JsonNode site() {
      return ready.path("sites").path(0);
    }

    String api() {
      return site().path("api").asText();
    }

    String token() {
      return site().path("token").asText();
    }

    Path log() {
      return log;
    }

    long pid() {
      return process.pid();
    }

    /** SIGTERM, then SIGKILL if the site has not closed in time. */
    @Override
    public void close() {
      if (!process.isAlive()) {
        return;
      }
      process.destroy();
      try {
        if (!process.waitFor(CHILD_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor(CHILD_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** {@code iscsi://portal/target/lun} for each portal of {@code cfg}. */
  static List<String> iscsiUrls(SiteConfig cfg, int lun) {
    List<String> urls = new ArrayList<>();
    for (HostPort p : cfg.portals()) {
      urls.add("iscsi://" + p + "/" + cfg.targetPrefix() + "/" + lun);
    }
    return urls;
  }

  /** {@code nbd://listener/export} for each NBD listener of {@code cfg}. */
  static List<String> nbdUrls(SiteConfig cfg, String export) {
    List<String> urls = new ArrayList<>();
    for (HostPort l : cfg.nbd()) {
      urls.add("nbd://" + l.urlHost() + ":" + l.port() + "/" + export);
    }
    return urls;
  }
}
