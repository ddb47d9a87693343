package io.duet.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Duet site running as its own JVM process ({@code duet site run --config FILE}), started from
 * this JVM's class path, for end-to-end tests that kill, restart and attack it. The process
 * announces itself with a {@code {"event":"ready",...}} line on standard output; its log goes to
 * {@code <workDir>/site.log}.
 */
public final class SiteProcess implements AutoCloseable {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final Path config;
  private final Path dataDir;
  private final Path log;
  private Process process;
  private JsonNode ready;

  private SiteProcess(Path config, Path dataDir, Path log) {
    this.config = config;
    this.dataDir = dataDir;
    this.log = log;
  }

  /**
   * Writes a config for a site named {@code name} in {@code workDir} with one iSCSI portal and the
   * API on free loopback ports, and starts it.
   */
  public static SiteProcess start(Path workDir, String name)
      throws IOException, InterruptedException {
    return start(workDir, name, "");
  }

  /**
   * Like {@link #start(Path, String)}, plus an NBD listener on a free loopback port and {@code
   * extraYaml} appended to the config (e.g. an {@code nbdTls:} section; relative paths in it are
   * relative to {@code workDir}).
   */
  public static SiteProcess start(Path workDir, String name, String extraYaml)
      throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    // Absolute: the site resolves a relative dataDir against the config file's directory.
    Path data = workDir.toAbsolutePath().resolve("data");
    Path config = workDir.resolve("site.yaml");
    String yaml =
        "name: "
            + name
            + "\n"
            + "dataDir: "
            + data
            + "\n"
            + "api: 127.0.0.1:"
            + freePort()
            + "\n"
            + "portals:\n  - 127.0.0.1:"
            + freePort()
            + "\n"
            + "nbd:\n  - 127.0.0.1:0\n"
            + extraYaml;
    Files.writeString(config, yaml);
    SiteProcess site = new SiteProcess(config, data, workDir.resolve("site.log"));
    site.launch();
    return site;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  /** (Re)starts the process with the same config and waits for its ready line. */
  public void launch() throws IOException, InterruptedException {
    DuetJvm.Started started =
        DuetJvm.launch(List.of("site", "run", "--config", config.toString()), log, READY_TIMEOUT);
    process = started.process();
    ready = started.ready();
  }

  /** The site entry of the ready line ({@code name, api, token, iscsi[], nbd[]}). */
  public JsonNode info() {
    JsonNode sites = ready.get("sites");
    return sites != null && sites.isArray() ? sites.get(0) : ready;
  }

  public String apiUrl() {
    return info().get("api").asText();
  }

  /** The NBD URLs the ready line listed (one per export that existed at start). */
  public List<String> nbdUrls() {
    List<String> urls = new ArrayList<>();
    info().path("nbd").forEach(u -> urls.add(u.asText()));
    return urls;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** The API token the site wrote at first start. */
  public String token() throws IOException {
    JsonNode t = info().get("token");
    return t != null ? t.asText() : Files.readString(dataDir.resolve("api-token")).trim();
  }

  /** A client for this site's REST API. */
  public DuetApi api() throws IOException {
    return new DuetApi(apiUrl(), token());
  }

  /** The first iSCSI portal as host:port. */
  public InetSocketAddress portal() throws IOException {
    JsonNode portals = api().get("/api/v1/portals");
    JsonNode first = portals.isArray() ? portals.get(0) : portals.get("portals").get(0);
    String address = first.has("address") ? first.get("address").asText() : first.asText();
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(
        address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  /** SIGKILL: the process gets no chance to flush or clean up. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGKILL without waiting (see {@link TwoSites#kill9Both}). */
  void sendKill9() {
    process.destroyForcibly();
  }

  /** SIGSTOP: the process stops in its tracks, sockets open, until {@link #resume}. */
  public void pause() throws IOException, InterruptedException {
    DuetJvm.signal(process, "STOP");
  }

  /** SIGCONT after {@link #pause}. */
  public void resume() throws IOException, InterruptedException {
    DuetJvm.signal(process, "CONT");
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGTERM and wait. */
  @Override
  public void close() {
    DuetJvm.stop(process);
  }
}
