package io.duet.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.mediator.Decision.Reason;
import io.duet.mediator.MediatorException.Kind;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real mediator process: kill -9 right after its answers, restart, nothing answered is lost —
 * neither the records nor which site each user acts for. Each site has its own user.
 */
class MediatorProcessIT {
  static final long LEASE_MS = 30_000;
  static final Duration TIMEOUT = Duration.ofSeconds(30);
  static final UUID A = UUID.randomUUID();
  static final UUID B = UUID.randomUUID();
  static final String USER_A = "site-a";
  static final String USER_B = "site-b";

  @TempDir Path dir;
  Process process;

  @AfterEach
  void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Creates a user in the data directory before the first start (the mediator reads them then). */
  void createUser(String user, String password) throws IOException {
    Credentials.open(
            dir.resolve("m"),
            new java.security.SecureRandom(),
            MediatorClock.SYSTEM,
            ChildMediator.MAX_FAILED_LOGINS,
            600_000,
            10_000)
        .setPassword(user, password.toCharArray());
  }

  /** Starts the child and returns its URL once it printed its ready line. */
  String start() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    process =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                ChildMediator.class.getName(),
                dir.resolve("m").toString(),
                Long.toString(LEASE_MS))
            .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("stderr").toFile()))
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> line =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return out.readLine();
              } catch (IOException e) {
                return null;
              }
            });
    String ready = line.get(60, TimeUnit.SECONDS);
    assertThat(ready).as("stderr: %s", stderr()).startsWith("ready https://");
    String url = ready.substring("ready ".length());
    // A cold JVM's first TLS handshakes can be slow on a loaded machine: wait until it answers.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try (MediatorClient probe = client(url, USER_A, "")) {
      while (!probe.healthy()) {
        assertThat(System.nanoTime() - deadline).as("mediator never healthy").isNegative();
      }
    }
    return url;
  }

  String stderr() {
    try {
      return Files.readString(dir.resolve("stderr"));
    } catch (IOException e) {
      return "(none)";
    }
  }

  MediatorClient client(String url, String user, String password) {
    try {
      return MediatorClient.withPassword(
          URI.create(url),
          dir.resolve("m").resolve(MediatorCa.CA_CERT_FILE),
          user,
          password,
          TIMEOUT);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  void kill9() throws InterruptedException {
    process.destroyForcibly();
    assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void stateSurvivesKill9AndLockoutWorks() throws Exception {
    UUID linkCut = UUID.randomUUID();
    UUID leaderLost = UUID.randomUUID();
    String password = "password of site A";
    String passwordB = "password of site B";
    createUser(USER_A, password);
    createUser(USER_B, passwordB);
    String url = start();
    try (MediatorClient a = client(url, USER_A, password);
        MediatorClient b = client(url, USER_B, passwordB)) {
      a.register(linkCut, A, B, A, 1);
      a.register(leaderLost, A, B, A, 4);
      for (UUID g : List.of(linkCut, leaderLost)) { // both sites report: the records confirm
        long epoch = g.equals(linkCut) ? 1 : 4;
        assertThat(a.heartbeat(g, A, epoch, A, true).granted()).isTrue();
        assertThat(b.heartbeat(g, B, epoch, A, true).granted()).isTrue();
      }
      assertThat(a.renewLease(leaderLost, A, 4).granted()).isTrue();
      assertThat(a.outOfSync(linkCut, A, 1).relationship().epoch()).isEqualTo(2);
    }
    kill9();

    url = start();
    try (MediatorClient a = client(url, USER_A, password);
        MediatorClient b = client(url, USER_B, passwordB)) {
      RelationshipView v = a.relationship(linkCut);
      assertThat(v.epoch()).isEqualTo(2);
      assertThat(v.survivor()).isEqualTo(A);
      Decision stale = b.heartbeat(linkCut, B, 1, A, true);
      assertThat(stale.reason()).isEqualTo(Reason.STALE_EPOCH);
      assertThat(stale.relationship().epoch()).isEqualTo(2);
      // A lease granted before the crash is honoured after it.
      Decision early = b.requestTakeover(leaderLost, B, 4);
      assertThat(early.reason()).isEqualTo(Reason.LEASE_VALID);
      assertThat(early.waitMs()).isGreaterThan(0).isLessThanOrEqualTo(LEASE_MS + 1000);
      assertThat(a.relationships()).hasSize(2);
      // Which site each user acts for survived the kill too: site A's user cannot ask for B.
      assertThatThrownBy(() -> a.requestTakeover(leaderLost, B, 4))
          .isInstanceOfSatisfying(
              MediatorException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(Kind.FORBIDDEN);
                assertThat(e.getMessage()).contains("user 'site-a' acts for site " + A);
              });
    }

    try (MediatorClient wrong = client(url, USER_A, "wrong-password")) {
      for (int i = 0; i < ChildMediator.MAX_FAILED_LOGINS; i++) {
        assertThatThrownBy(() -> wrong.relationship(linkCut))
            .isInstanceOfSatisfying(
                MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED));
      }
    }
    try (MediatorClient c = client(url, USER_A, password)) {
      assertThatThrownBy(() -> c.relationship(linkCut))
          .isInstanceOfSatisfying(
              MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.LOCKED_OUT));
      assertThat(c.healthy()).isTrue();
    }
    assertThat(process.isAlive()).isTrue();
    assertThat(List.of(stderr())).noneMatch(s -> s.contains("Exception in thread"));
  }
}
