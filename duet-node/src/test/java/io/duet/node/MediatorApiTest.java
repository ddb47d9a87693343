package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.node.mediator.MediatorTestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code PUT/GET/DELETE /api/v1/mediator} on a real site against a real mediator on loopback: bad
 * input is refused with a message naming the field and the site keeps running; a mediator that does
 * not answer, does not match the CA or refuses the user is not saved; the password is stored
 * owner-only and never shown.
 */
class MediatorApiTest {
  static final String USER = MediatorTestServer.USER_A;
  @TempDir static Path shared;
  static MediatorTestServer mediator;

  @TempDir Path dir;
  TestSite site;

  @BeforeAll
  static void startMediator() throws IOException {
    mediator = new MediatorTestServer(shared.resolve("mediator"));
  }

  @AfterAll
  static void stopMediator() {
    mediator.close();
  }

  @BeforeEach
  void start() throws IOException {
    site = new TestSite(dir);
  }

  @AfterEach
  void stop() {
    site.close();
  }

  static ObjectNode body(String address, String ca, String user, String password) {
    ObjectNode b = TestSite.JSON.createObjectNode();
    b.put("address", address).put("caCert", ca).put("user", user).put("password", password);
    return b;
  }

  ObjectNode good() throws IOException {
    return body(mediator.address(), mediator.caPem(), USER, mediator.password(USER));
  }

  void refused(ObjectNode body, int status, String... detail) throws IOException {
    TestSite.Reply r = site.call("PUT", "/api/v1/mediator", body.toString());
    assertThat(r.status()).as(body.path("address") + " -> " + r.body()).isEqualTo(status);
    assertThat(r.body().path("detail").asText()).contains(detail);
    assertThat(r.body().toString()).doesNotContain(mediator.password(USER));
  }

  @Test
  void badInputIsRefusedClearlyAndTheSiteRunsOn() throws Exception {
    String ca = mediator.caPem();
    refused(body("", ca, "duet", "pw"), 400, "'address'");
    refused(body("mediator.example.com", ca, "duet", "pw"), 400, "'address'", "host:port");
    refused(body("127.0.0.1:99999", ca, "duet", "pw"), 400, "'address'", "0..65535");
    refused(body("0.0.0.0:7090", ca, "duet", "pw"), 400, "'address'", "wildcard");
    // Found by the fuzz below: the URL grammar takes no host from a last label with a digit.
    refused(body("127t.0.0.1:7090", ca, "duet", "pw"), 400, "'address'", "not a host name");
    refused(body("127.0.0.1:7090", "", "duet", "pw"), 400, "'caCert'", "required");
    refused(body("127.0.0.1:7090", "hello", "duet", "pw"), 400, "'caCert'", "not a PEM");
    refused(
        body(
            "127.0.0.1:7090",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "duet",
            "pw"),
        400,
        "'caCert'",
        "not a readable");
    refused(body("127.0.0.1:7090", ca, " ", "pw"), 400, "'user'");
    refused(body("127.0.0.1:7090", ca, "a b", "pw"), 400, "'user'");
    refused(body("127.0.0.1:7090", ca, "duet", ""), 400, "'password'");
    TestSite.Reply unknown =
        site.call("PUT", "/api/v1/mediator", good().put("token", "x").toString());
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.body().path("detail").asText()).contains("unknown field 'token'");
    assertThat(site.call("PUT", "/api/v1/mediator", "{not json").status()).isEqualTo(400);
    assertThat(site.call("PUT", "/api/v1/mediator", "[]").status()).isEqualTo(400);

    assertThat(site.ok("GET", "/api/v1/status", null).path("site").asText()).isEqualTo("site-a");
    assertThat(site.ok("GET", "/api/v1/mediator", null).path("configured").asBoolean()).isFalse();
    assertThat(Files.exists(site.dataDir.resolve("mediator").resolve("settings"))).isFalse();
  }

  @Test
  void aMediatorThatCannotBeUsedIsNotSaved() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    refused(
        body("127.0.0.1:" + closed, mediator.caPem(), USER, mediator.password(USER)),
        503,
        "does not answer");
    refused(
        body(mediator.address(), otherCa(), USER, mediator.password(USER)),
        400,
        "not present a certificate signed by the given CA");
    refused(body(mediator.address(), mediator.caPem(), "duet", "wrong"), 400, "refused user");
    assertThat(site.ok("GET", "/api/v1/mediator", null).path("configured").asBoolean()).isFalse();
  }

  @Test
  void configuredShownWithoutThePasswordKeptOverARestartAndRemoved() throws Exception {
    JsonNode v = site.ok("PUT", "/api/v1/mediator", good().toString());
    assertThat(v.path("configured").asBoolean()).isTrue();
    assertThat(v.path("address").asText()).isEqualTo(mediator.address());
    assertThat(v.path("url").asText()).isEqualTo(mediator.server.url());
    assertThat(v.path("user").asText()).isEqualTo(USER);
    assertThat(v.path("connected").asBoolean()).isTrue();
    assertThat(v.path("caCertSha256").asText()).hasSize(64);
    assertThat(v.toString()).doesNotContain(mediator.password(USER));

    Path password = site.dataDir.resolve("mediator").resolve("password");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(password)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(password).strip()).isEqualTo(mediator.password(USER));
    assertThat(Files.readAllBytes(site.dataDir.resolve("mediator").resolve("settings")))
        .asString()
        .doesNotContain(mediator.password(USER));

    JsonNode status = site.ok("GET", "/api/v1/status", null);
    assertThat(status.path("mediator").path("address").asText()).isEqualTo(mediator.address());
    assertThat(status.toString()).doesNotContain(mediator.password(USER));
    try (Stream<Path> logs = Files.list(site.dataDir)) {
      for (Path p : logs.filter(p -> p.getFileName().toString().startsWith("events")).toList()) {
        assertThat(Files.readString(p)).doesNotContain(mediator.password(USER));
      }
    }

    site.restart();
    JsonNode again = site.ok("GET", "/api/v1/mediator", null);
    assertThat(again.path("configured").asBoolean()).isTrue();
    assertThat(again.path("address").asText()).isEqualTo(mediator.address());

    assertThat(site.call("DELETE", "/api/v1/mediator", null).status()).isEqualTo(204);
    assertThat(site.ok("GET", "/api/v1/mediator", null).path("configured").asBoolean()).isFalse();
    assertThat(password).doesNotExist();
    TestSite.Reply twice = site.call("DELETE", "/api/v1/mediator", null);
    assertThat(twice.status()).isEqualTo(404);
    assertThat(twice.body().path("detail").asText()).contains("no mediator");
    site.restart();
    assertThat(site.ok("GET", "/api/v1/mediator", null).path("configured").asBoolean()).isFalse();
  }

  /**
   * Mutated bodies (seeded): refused with a 4xx naming the problem, or 503 when what is left still
   * names a mediator that does not answer; never a 500, and the site runs on.
   */
  @Test
  void fuzzedBodiesNeverBreakTheSite() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String base = body("127.0.0.1:" + closed, mediator.caPem(), "duet", "pw").toString();
    java.util.Random random = new java.util.Random(42);
    String alphabet = "{}[]\":,0123456789abcdefABCDEF+/=-\\ \nnulltrue";
    for (int i = 0; i < 200; i++) {
      StringBuilder b = new StringBuilder(base);
      for (int k = 0; k < 1 + random.nextInt(4); k++) {
        int at = random.nextInt(b.length());
        if (random.nextBoolean()) {
          b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
        } else {
          b.deleteCharAt(at);
        }
      }
      TestSite.Reply r = site.call("PUT", "/api/v1/mediator", b.toString());
      assertThat(r.status()).as(b.toString()).isIn(400, 503);
      assertThat(r.body().path("detail").asText()).isNotBlank();
    }
    assertThat(site.ok("GET", "/api/v1/status", null).path("site").asText()).isEqualTo("site-a");
    assertThat(site.ok("GET", "/api/v1/mediator", null).path("configured").asBoolean()).isFalse();
  }

  /** The CA certificate of another mediator, as PEM. */
  static String otherCa() throws IOException {
    try (MediatorTestServer other = new MediatorTestServer(shared.resolve("other"))) {
      return other.caPem();
    }
  }
}
