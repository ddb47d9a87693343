package io.duet.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.mediator.MediatorServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The mediator as its own JVM process ({@code duet mediator run --data-dir DIR --listen
 * 127.0.0.1:PORT}), for end-to-end failover tests that kill and restart it. It keeps its port and
 * data directory across restarts, as a real third-site mediator does; its log goes to {@code
 * <workDir>/mediator.log}. It has one user per site, {@value #USER_A} and {@value #USER_B}, created
 * in its data directory before the first start (the mediator lets a user act for one site only).
 */
public final class MediatorProcess implements AutoCloseable {
  /** The user for site A, and the one for site B. */
  public static final String USER_A = "site-a";

  public static final String USER_B = "site-b";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final Path dataDir;
  private final Path log;
  private final int port;
  private Process process;
  private JsonNode ready;

  private MediatorProcess(Path dataDir, Path log, int port) {
    this.dataDir = dataDir;
    this.log = log;
    this.port = port;
  }

  /** Starts a mediator with a new data directory under {@code workDir} on a free loopback port. */
  public static MediatorProcess start(Path workDir) throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    int port;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      port = s.getLocalPort();
    }
    MediatorProcess m =
        new MediatorProcess(workDir.resolve("data"), workDir.resolve("mediator.log"), port);
    for (String user : List.of(USER_A, USER_B)) {
      MediatorServer.setPassword(m.dataDir, user, m.password(user).toCharArray());
    }
    m.launch();
    return m;
  }

  /** (Re)starts the process with the same data directory and port; waits for its ready line. */
  public void launch() throws IOException, InterruptedException {
    DuetJvm.Started started =
        DuetJvm.launch(
            List.of(
                "mediator",
                "run",
                "--data-dir",
                dataDir.toString(),
                "--listen",
                "127.0.0.1:" + port),
            log,
            READY_TIMEOUT);
    process = started.process();
    ready = started.ready().path("mediator");
  }

  /** Its data directory (records, users, CA): a test may copy it and restore the copy. */
  public Path dataDir() {
    return dataDir;
  }

  /** The HTTPS API's base URL. */
  public String api() {
    return ready.path("api").asText();
  }

  /** The address sites reach it at (directly; tests may point them through a proxy instead). */
  public InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", port);
  }

  /** The mediator's CA certificate (PEM file) that sites install. */
  public Path caCertificate() {
    return Path.of(ready.path("caCert").asText());
  }

  /** The password of {@code user} ({@link #USER_A} or {@link #USER_B}): a test's secret. */
  public String password(String user) {
    return "password of " + user;
  }

  /** SIGKILL: no chance to flush or clean up. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
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
