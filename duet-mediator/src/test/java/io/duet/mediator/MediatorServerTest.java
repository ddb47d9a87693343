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
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mediator over real HTTPS on loopback, with a manual clock for its leases. Each site has its
 * own user ({@code site-a} acts for A, {@code site-b} for B), as a deployment must: a user acts for
 * one site only. {@code other} is a third account of the same mediator.
 */
class MediatorServerTest {
  static final UUID GROUP = UUID.randomUUID();
  static final UUID A = UUID.randomUUID();
  static final UUID B = UUID.randomUUID();
  static final Duration TIMEOUT = Duration.ofSeconds(5);
  static final String USER_A = "site-a";
  static final String USER_B = "site-b";
  static final String OTHER = "other";

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  final List<MediatorClient> clients = new ArrayList<>();
  MediatorServer server;

  /** Site A's client (user {@code site-a}), and site B's. */
  MediatorClient a;

  MediatorClient b;

  @BeforeEach
  void start() throws IOException {
    Credentials users =
        Credentials.open(dir.resolve("m"), new SecureRandom(), clock, 5, 60_000, 1000);
    for (String user : List.of(USER_A, USER_B, OTHER)) {
      users.setPassword(user, password(user).toCharArray());
    }
    server = start(config());
    connect();
  }

  MediatorConfig config() {
    return MediatorConfig.defaults(dir.resolve("m")).withListen("127.0.0.1", 0);
  }

  MediatorServer start(MediatorConfig cfg) throws IOException {
    return MediatorServer.start(cfg, clock, new SecureRandom(), 1000);
  }

  /** Stops the mediator and starts it again on the same data directory (a new port). */
  void restart() throws IOException {
    server.close();
    server = start(config());
    connect();
  }

  void connect() throws IOException {
    a = client(USER_A);
    b = client(USER_B);
  }

  static String password(String user) {
    return "password of " + user;
  }

  MediatorClient client(String user) throws IOException {
    return passwordClient(user, password(user));
  }

  MediatorClient passwordClient(String user, String password) throws IOException {
    MediatorClient c =
        MediatorClient.withPassword(
            URI.create(server.url()), server.caCertificateFile(), user, password, TIMEOUT);
    clients.add(c);
    return c;
  }

  static void assertForbidden(ThrowingCallable call, String... detail) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            MediatorException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.FORBIDDEN);
              assertThat(e.getMessage()).contains(detail);
            });
  }

  @AfterEach
  void stop() {
    clients.forEach(MediatorClient::close);
    server.close();
  }

  @Test
  void sitesRegisterHeartbeatAndTakeOverOnlyAfterTheLease() throws IOException {
    RelationshipView v = a.register(GROUP, A, B, A, 1);
    assertThat(v.epoch()).isEqualTo(1);
    assertThat(b.register(GROUP, B, A, B, 1).leader()).isEqualTo(A);
    assertThat(a.heartbeat(GROUP, A, 1, A, true).granted()).isTrue();
    assertThat(a.renewLease(GROUP, A, 1).leaseMs()).isEqualTo(MediatorConfig.LEASE_MS_DEFAULT);
    // A new record decides nothing before both sites have reported their epochs.
    Decision unconfirmed = b.requestTakeover(GROUP, B, 1);
    assertThat(unconfirmed.reason()).isEqualTo(Reason.UNCONFIRMED);
    assertThat(a.relationship(GROUP).awaiting()).containsExactly(B);
    assertThat(b.heartbeat(GROUP, B, 1, A, true).granted()).isTrue();
    assertThat(a.relationship(GROUP).awaiting()).isEmpty();

    Decision early = b.requestTakeover(GROUP, B, 1);
    assertThat(early.granted()).isFalse();
    assertThat(early.reason()).isEqualTo(Reason.LEASE_VALID);
    assertThat(early.waitMs())
        .isEqualTo(MediatorConfig.LEASE_MS_DEFAULT + MediatorConfig.GRACE_MS_DEFAULT);

    clock.advanceMs(early.waitMs());
    Decision granted = b.requestTakeover(GROUP, B, 1);
    assertThat(granted.granted()).isTrue();
    assertThat(granted.relationship().survivor()).isEqualTo(B);
    assertThat(a.renewLease(GROUP, A, 1).reason()).isEqualTo(Reason.FENCED);
    assertThat(a.relationship(GROUP).epoch()).isEqualTo(2);
  }

  @Test
  void outOfSyncPreElectionAndForcedFailoverTravel() throws IOException {
    a.register(GROUP, A, B, A, 1);
    a.heartbeat(GROUP, A, 1, A, true);
    b.heartbeat(GROUP, B, 1, A, true);
    assertThat(b.preElect(GROUP, B, 1).relationship().preElected()).isEqualTo(A);
    assertThat(a.outOfSync(GROUP, A, 1).relationship().survivor()).isEqualTo(A);
    Decision forced = b.forcedFailover(GROUP, B, 2, "operator: site A is gone");
    assertThat(forced.relationship().epoch()).isEqualTo(3);
    assertThat(forced.relationship().leader()).isEqualTo(B);
    b.remove(GROUP);
    assertThatThrownBy(() -> a.relationship(GROUP))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
  }

  @Test
  void unknownRelationshipsAndStrangersAreClear4xx() throws IOException {
    assertThatThrownBy(() -> a.heartbeat(UUID.randomUUID(), A, 1, A, true))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    a.register(GROUP, A, B, A, 1);
    // A site that is not a member, asking through its own user.
    UUID stranger = UUID.randomUUID();
    assertForbidden(
        () -> client(OTHER).requestTakeover(GROUP, stranger, 1),
        "site " + stranger + " is not a member of group " + GROUP);
    assertThatThrownBy(() -> a.register(GROUP, A, UUID.randomUUID(), A, 1))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT));
    assertThat(a.healthy()).isTrue();
  }

  @Test
  void aUserActsOnlyForTheSiteItIsBoundTo() throws IOException {
    a.register(GROUP, A, B, A, 1);
    a.heartbeat(GROUP, A, 1, A, true);
    b.heartbeat(GROUP, B, 1, A, true);
    clock.advanceMs(MediatorConfig.LEASE_MS_DEFAULT + MediatorConfig.GRACE_MS_DEFAULT);
    // Site A's user may not speak for B: no takeover, forced failover or heartbeat in its name,
    // nor a registration that names B as the caller.
    String[] why = {"user 'site-a' acts for site " + A, "may not act for site " + B, "--unbind"};
    assertForbidden(() -> a.requestTakeover(GROUP, B, 1), why);
    assertForbidden(() -> a.forcedFailover(GROUP, B, 1, "impersonated"), why);
    assertForbidden(() -> a.heartbeat(GROUP, B, 1, A, false), why);
    assertForbidden(() -> a.register(GROUP, B, A, B, 1), why);
    RelationshipView v = a.relationship(GROUP);
    assertThat(v.epoch()).isEqualTo(1);
    assertThat(v.survivor()).isNull();
    assertThat(v.inSync()).isTrue();
    // B itself still may.
    assertThat(b.requestTakeover(GROUP, B, 1).granted()).isTrue();
  }

  @Test
  void aSecondUserCannotClaimASiteThatHasOne() throws IOException {
    a.register(GROUP, A, B, A, 1);
    MediatorClient other = client(OTHER);
    String[] why = {"site " + A + " is bound to user 'site-a'", "user 'other' may not act for it"};
    assertForbidden(() -> other.heartbeat(GROUP, A, 1, A, true), why);
    assertForbidden(() -> other.outOfSync(GROUP, A, 1), why);
    assertForbidden(() -> other.register(UUID.randomUUID(), A, B, A, 1), why);
    assertThat(a.relationship(GROUP).sites())
        .allSatisfy(s -> assertThat(s.lastHeartbeat()).isNull());
    // Refused, it is still free to act for a site of its own.
    UUID c = UUID.randomUUID();
    assertThat(other.register(UUID.randomUUID(), c, UUID.randomUUID(), c, 1).epoch()).isEqualTo(1);
  }

  @Test
  void onlyAMemberSiteDeletesARelationship() throws IOException {
    a.register(GROUP, A, B, A, 1);
    b.heartbeat(GROUP, B, 1, A, true);
    MediatorClient other = client(OTHER);
    assertForbidden(() -> other.remove(GROUP), "user 'other' acts for no site yet", A.toString());
    UUID c = UUID.randomUUID();
    other.register(UUID.randomUUID(), c, UUID.randomUUID(), c, 1);
    assertForbidden(() -> other.remove(GROUP), "user 'other' acts for site " + c, "member");
    assertThat(a.relationship(GROUP).epoch()).isEqualTo(1);
    // Deleting what is not there asks nothing of anyone.
    other.remove(UUID.randomUUID());
    b.remove(GROUP);
    assertThat(a.relationships()).noneMatch(r -> r.groupId().equals(GROUP));
  }

  @Test
  void bindingsSurviveARestart() throws IOException {
    a.register(GROUP, A, B, A, 1);
    b.heartbeat(GROUP, B, 1, A, true);
    restart();
    assertForbidden(() -> a.heartbeat(GROUP, B, 1, A, true), "user 'site-a' acts for site " + A);
    assertForbidden(() -> client(OTHER).heartbeat(GROUP, A, 1, A, true), "bound to user 'site-a'");
    assertThat(a.heartbeat(GROUP, A, 1, A, true).granted()).isTrue();
  }

  @Test
  void anOperatorUnbindsOrBindsAheadWithTheMediatorStopped() throws IOException {
    a.register(GROUP, A, B, A, 1);
    Path data = dir.resolve("m");
    // While it runs, the mediator owns the bindings (an offline change would be undone).
    assertThatThrownBy(() -> MediatorServer.unbind(data, USER_A, false))
        .isInstanceOfSatisfying(
            MediatorException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.CONFLICT);
              assertThat(e.getMessage()).contains("stop the mediator");
            });
    server.close();
    assertThat(MediatorServer.unbind(data, USER_A, false)).contains(A);
    assertThat(MediatorServer.unbind(data, USER_A, false)).isEmpty();
    MediatorServer.bind(data, OTHER, false, A);
    MediatorServer.bind(data, OTHER, false, A); // again: harmless
    assertThatThrownBy(() -> MediatorServer.bind(data, USER_B, false, A))
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT));
    server = start(config());
    connect();
    assertForbidden(() -> a.heartbeat(GROUP, A, 1, A, true), "bound to user 'other'");
    assertThat(client(OTHER).heartbeat(GROUP, A, 1, A, true).granted()).isTrue();
  }

  @Test
  void wrongPasswordsLockTheUserOutAndTheMediatorKeepsRunning() throws IOException {
    try (MediatorClient wrong = passwordClient(USER_A, "not-the-password")) {
      for (int i = 0; i < MediatorConfig.MAX_FAILED_LOGINS_DEFAULT; i++) {
        assertThatThrownBy(wrong::relationships)
            .isInstanceOfSatisfying(
                MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED));
      }
    }
    assertThatThrownBy(a::relationships)
        .isInstanceOfSatisfying(
            MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.LOCKED_OUT));
    assertThat(a.healthy()).isTrue();
    clock.advanceMs(MediatorConfig.LOCKOUT_MS_DEFAULT);
    assertThat(a.relationships()).isEmpty();
  }

  @Test
  void aClientThatTrustsAnotherCaCannotConnect() throws IOException {
    Path otherCa = dir.resolve("other");
    MediatorCa.loadOrCreate(otherCa, new SecureRandom(), clock.now());
    try (MediatorClient c =
        MediatorClient.withPassword(
            URI.create(server.url()),
            otherCa.resolve(MediatorCa.CA_CERT_FILE),
            USER_A,
            password(USER_A),
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
    // A certificate's subject is bound like a user: another certificate (or a user) cannot act
    // for the site it registered.
    MediatorCa.Issued siteB = sitesCa.issueClient("site-b", random, clock.now());
    try (MediatorClient c =
        MediatorClient.withCertificate(
            URI.create(server.url()),
            server.caCertificateFile(),
            siteB.key(),
            List.of(siteB.certificate()),
            TIMEOUT)) {
      assertForbidden(
          () -> c.heartbeat(GROUP, A, 1, A, true),
          "site " + A + " is bound to client certificate 'CN=site-a'",
          "client certificate 'CN=site-b' may not act for it",
          "duet mediator user \"CN=site-a\" --certificate --unbind --data-dir");
      assertThat(c.heartbeat(GROUP, B, 1, A, true).granted()).isTrue();
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
    try (MediatorClient c = client(USER_A)) {
      assertThat(c.relationship(GROUP).epoch()).isEqualTo(1);
    }
  }

  @Test
  void statusIsJsonOrHtmlAndHealthNeedsNoLogin() throws Exception {
    a.register(GROUP, A, B, A, 1);
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
    a.register(GROUP, A, B, A, 1);
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
    assertThat(a.relationship(GROUP).epoch()).isEqualTo(1);
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
            .encodeToString((USER_A + ":" + password(USER_A)).getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse.BodyHandler<String> body() {
    return HttpResponse.BodyHandlers.ofString();
  }
}
