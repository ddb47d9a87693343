package io.duet.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.mediator.Decision.Reason;
import io.duet.mediator.MediatorException.Kind;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mediator over real HTTPS on loopback, with a manual clock for its leases. */
class MediatorServerTest {
  static final UUID GROUP = UUID.randomUUID();
  static final UUID A = UUID.randomUUID();
  static final UUID B = UUID.randomUUID();
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  MediatorServer server;
  MediatorClient client;

  @BeforeEach
  void start() throws IOException {
    server = start(MediatorConfig.defaults(dir.resolve("m")).withListen("127.0.0.1", 0));
    client = passwordClient(password());
  }

  MediatorServer start(MediatorConfig cfg) throws IOException {
    return MediatorServer.start(cfg, clock, new SecureRandom(), 1000);
  }

  String password() throws IOException {
    return Files.readString(server.initialPasswordFile()).strip();
  }

  MediatorClient passwordClient(String password) throws IOException {
    return MediatorClient.withPassword(
        URI.create(server.url()),
        server.caCertificateFile(),
        MediatorServer.INITIAL_USER,
        password,
        TIMEOUT);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void sitesRegisterHeartbeatAndTakeOverOnlyAfterTheLease() throws IOException {
    RelationshipView v = client.register(GROUP, A, B, A, 1);
    assertThat(v.epoch()).isEqualTo(1);
    assertThat(client.register(GROUP, B, A, B, 1).leader()).isEqualTo(A);
    assertThat(client.heartbeat(GROUP, A, 1, A, true).granted()).isTrue();
    assertThat(client.renewLease(GROUP, A, 1).leaseMs()).isEqualTo(MediatorConfig.LEASE_MS_DEFAULT);
    // A new record decides nothing before both sites have reported their epochs.
    Decision unconfirmed = client.requestTakeover(GROUP, B, 1);
    assertThat(unconfirmed.reason()).isEqualTo(Reason.UNCONFIRMED);
    assertThat(client.relationship(GROUP).awaiting()).containsExactly(B);
    assertThat(client.heartbeat(GROUP, B, 1, A, true).granted()).isTrue();
    assertThat(client.relationship(GROUP).awaiting()).isEmpty();

    Decision early = client.requestTakeover(GROUP, B, 1);
    assertThat(early.granted()).isFalse();
    assertThat(early.reason()).isEqualTo(Reason.LEASE_VALID);
    assertThat(early.waitMs())
        .isEqualTo(MediatorConfig.LEASE_MS_DEFAULT + MediatorConfig.GRACE_MS_DEFAULT);

    clock.advanceMs(early.waitMs());
    Decision granted = client.requestTakeover(GROUP, B, 1);
    assertThat(granted.granted()).isTrue();
    assertThat(granted.relationship().survivor()).isEqualTo(B);
    assertThat(client.renewLease(GROUP, A, 1).reason()).isEqualTo(Reason.FENCED);
    assertThat(client.relationship(GROUP).epoch()).isEqualTo(2);
  }

  @Test
  void outOfSyncPreElectionAndForcedFailoverTravel() throws IOException {
    client.register(GROUP, A, B, A, 1);
    client.heartbeat(GROUP, A, 1, A, true);
    client.heartbeat(GROUP, B, 1, A, true);
    assertThat(client.preElect(GROUP, B, 1).relationship().preElected()).isEqualTo(A);
    assertThat(client.outOfSync(GROUP, A, 1).relationship().survivor()).isEqualTo(A);
    Decision forced = client.forcedFailover(GROUP, B, 2, "operator: site A is gone");
    assertThat(forced.relationship().epoch()).isEqualTo(3);
    assertThat(forced.relationship().leader()).isEqualTo(B);
    client.remove(GROUP);
    assertThatThrownBy(() -> client.relationship(GROUP))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
  }

  @Test
  void unknownRelationshipsAndStrangersAreClear4xx() throws IOException {
    assertThatThrownBy(() -> client.heartbeat(UUID.randomUUID(), A, 1, A, true))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    client.register(GROUP, A, B, A, 1);
    assertThatThrownBy(() -> client.requestTakeover(GROUP, UUID.randomUUID(), 1))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FORBIDDEN));
    assertThatThrownBy(() -> client.register(GROUP, A, UUID.randomUUID(), A, 1))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT));
    assertThat(client.healthy()).isTrue();
  }

  @Test
  void wrongPasswordsLockTheUserOutAndTheMediatorKeepsRunning() throws IOException {
    try (MediatorClient wrong = passwordClient("not-the-password")) {
      for (int i = 0; i < MediatorConfig.MAX_FAILED_LOGINS_DEFAULT; i++) {
        assertThatThrownBy(wrong::relationships)
            .isInstanceOfSatisfying(
                MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED));
      }
    }
    assertThatThrownBy(client::relationships)
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.LOCKED_OUT));
    assertThat(client.healthy()).isTrue();
    clock.advanceMs(MediatorConfig.LOCKOUT_MS_DEFAULT);
    assertThat(client.relationships()).isEmpty();
  }

  @Test
  void aClientThatTrustsAnotherCaCannotConnect() throws IOException {
    Path otherCa = dir.resolve("other");
    MediatorCa.loadOrCreate(otherCa, new SecureRandom(), clock.now());
    try (MediatorClient c =
        MediatorClient.withPassword(
            URI.create(server.url()),
            otherCa.resolve(MediatorCa.CA_CERT_FILE),
            MediatorServer.INITIAL_USER,
            password(),
            TIMEOUT)) {
      assertThat(c.healthy()).isFalse();
      assertThatThrownBy(c::relationships)
          .isInstanceOfSatisfying(
              MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNREACHABLE));
    }
  }

  @Test
  void clientCertificatesFromAnAllowedCaNeedNoPassword() throws IOException {
    Path sitesDir = dir.resolve("sites-ca");
    SecureRandom random = new SecureRandom();
    MediatorCa sitesCa = MediatorCa.loadOrCreate(sitesDir, random, clock.now());
    MediatorCa strangerCa = MediatorCa.loadOrCreate(dir.resolve("stranger"), random, clock.now());
    server.close();
    MediatorConfig base = MediatorConfig.defaults(dir.resolve("m")).withListen("127.0.0.1", 0);
    server =
        start(
            new MediatorConfig(
                base.dataDir(),
                base.host(),
                base.port(),
                List.of(),
                List.of(sitesDir.resolve(MediatorCa.CA_CERT_FILE)),
                5000,
                2000,
                5,
                60_000));
    MediatorCa.Issued site = sitesCa.issueClient("site-a", random, clock.now());
    try (MediatorClient c =
        MediatorClient.withCertificate(
            URI.create(server.url()),
            server.caCertificateFile(),
            site.key(),
            List.of(site.certificate()),
            TIMEOUT)) {
      assertThat(c.register(GROUP, A, B, A, 1).epoch()).isEqualTo(1);
    }
    MediatorCa.Issued stranger = strangerCa.issueClient("site-x", random, clock.now());
    try (MediatorClient c =
        MediatorClient.withCertificate(
            URI.create(server.url()),
            server.caCertificateFile(),
            stranger.key(),
            List.of(stranger.certificate()),
            TIMEOUT)) {
      assertThatThrownBy(() -> c.relationship(GROUP)).isInstanceOf(MediatorException.class);
    }
    // Passwords still work beside certificates.
    try (MediatorClient c = passwordClient(password())) {
      assertThat(c.relationship(GROUP).epoch()).isEqualTo(1);
    }
  }

  @Test
  void statusIsJsonOrHtmlAndHealthNeedsNoLogin() throws Exception {
    client.register(GROUP, A, B, A, 1);
    try (HttpClient raw = rawClient()) {
      HttpResponse<String> health = raw.send(get("/api/v1/health", false).build(), body());
      assertThat(health.statusCode()).isEqualTo(200);
      HttpResponse<String> anonymous = raw.send(get("/api/v1/status", false).build(), body());
      assertThat(anonymous.statusCode()).isEqualTo(401);
      HttpResponse<String> json = raw.send(get("/api/v1/status", true).build(), body());
      assertThat(json.statusCode()).isEqualTo(200);
      assertThat(json.body()).contains("\"relationships\"", GROUP.toString(), "\"leaseMs\":5000");
      HttpResponse<String> html =
          raw.send(get("/api/v1/status", true).header("Accept", "text/html").build(), body());
      assertThat(html.body()).startsWith("<!doctype html>").contains(GROUP.toString(), "in sync");
    }
  }

  @Test
  void malformedAndRandomBodiesGetA4xxNeverA500() throws Exception {
    client.register(GROUP, A, B, A, 1);
    Random random = new Random(7);
    List<String> bodies =
        List.of(
            "",
            "{",
            "[]",
            "null",
            "{\"site\":1}",
            "{\"site\":\"nope\",\"epoch\":1}",
            "{\"site\":\"" + A + "\",\"epoch\":-1}",
            "{\"site\":\"" + A + "\",\"epoch\":1,\"x\":1}",
            "{\"site\":\"" + A + "\",\"epoch\":1.5}",
            "{\"site\":\"" + A + "\",\"epoch\":1e99}");
    List<String> verbs =
        List.of("heartbeat", "lease", "out-of-sync", "takeover", "pre-election", "forced-failover");
    try (HttpClient raw = rawClient()) {
      for (int i = 0; i < 120; i++) {
        String text;
        if (i < bodies.size() * 2) {
          text = bodies.get(i % bodies.size());
        } else {
          byte[] junk = new byte[random.nextInt(40)];
          random.nextBytes(junk);
          text = new String(junk, StandardCharsets.ISO_8859_1);
        }
        String group = i % 5 == 0 ? "not-a-uuid" : GROUP.toString();
        HttpRequest req =
            post("/api/v1/relationships/" + group + "/" + verbs.get(i % verbs.size()), text);
        HttpResponse<String> r = raw.send(req, body());
        assertThat(r.statusCode()).as("body %s", text).isBetween(400, 499);
        assertThat(r.body()).contains("\"detail\"");
      }
      assertThat(raw.send(post("/api/v1/relationships/" + GROUP, "{}"), body()).statusCode())
          .isBetween(404, 405);
    }
    assertThat(client.relationship(GROUP).epoch()).isEqualTo(1);
  }

  private HttpClient rawClient() throws IOException {
    return HttpClient.newBuilder()
        .sslContext(MediatorClient.tls(server.caCertificateFile(), null))
        .connectTimeout(TIMEOUT)
        .build();
  }

  private HttpRequest.Builder get(String path, boolean auth) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(TIMEOUT);
    return auth ? b.header("Authorization", basic()) : b;
  }

  private HttpRequest post(String path, String text) throws IOException {
    return HttpRequest.newBuilder(URI.create(server.url() + path))
        .timeout(TIMEOUT)
        .header("Authorization", basic())
        .POST(HttpRequest.BodyPublishers.ofString(text, StandardCharsets.ISO_8859_1))
        .build();
  }

  private String basic() throws IOException {
    return "Basic "
        + java.util.Base64.getEncoder()
            .encodeToString(("duet:" + password()).getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse.BodyHandler<String> body() {
    return HttpResponse.BodyHandlers.ofString();
  }
}
