package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestApiTest {
  static final String IQN_A = "iqn.1994-05.com.redhat:host-a";
  static final String IQN_B = "iqn.1994-05.com.redhat:host-b";

  @TempDir Path dir;
  TestSite site;

  @BeforeEach
  void start() throws IOException {
    site = new TestSite(dir);
  }

  @AfterEach
  void stop() {
    site.close();
  }

  @Test
  void everyRequestNeedsTheToken() throws IOException {
    assertThat(site.call("GET", "/api/v1/volumes", null, null).status()).isEqualTo(401);
    assertThat(site.call("GET", "/api/v1/status", null, "Bearer wrong").status()).isEqualTo(401);
    TestSite.Reply r =
        site.call("POST", "/api/v1/volumes", "{\"name\":\"v\",\"size\":\"1MiB\"}", "Basic x");
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.body().path("error").asText()).isEqualTo("unauthorized");
    assertThat(r.body().path("detail").asText()).contains("Bearer");
    // The refused request did nothing.
    assertThat(site.ok("GET", "/api/v1/volumes", null)).isEmpty();
    assertThat(site.call("GET", "/api/v1/nothing-here", null, null).status()).isEqualTo(401);
  }

  @Test
  void tokenFileIsPrivate() throws IOException {
    Path token = site.dataDir.resolve("api-token");
    assertThat(Files.readString(token).strip()).isEqualTo(site.node.token());
    assertThat(Files.getPosixFilePermissions(token))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    // The state file holds CHAP secrets: the whole directory is the owner's only.
    assertThat(Files.getPosixFilePermissions(site.dataDir))
        .containsExactlyInAnyOrder(
            PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_EXECUTE);
  }

  @Test
  void volumeLifecycle() throws IOException {
    JsonNode v =
        site.ok(
            "POST", "/api/v1/volumes", "{\"name\":\"db\",\"size\":\"10MiB\",\"blockSize\":4096}");
    assertThat(v.path("sizeBytes").asLong()).isEqualTo(10L << 20);
    assertThat(v.path("blockSize").asInt()).isEqualTo(4096);
    assertThat(v.path("naa").asText()).startsWith("naa.6");
    assertThat(
            site.call(
                    "POST",
                    "/api/v1/volumes",
                    "{\"name\":\"db\",\"size\":4096}",
                    "Bearer " + site.node.token())
                .status())
        .isEqualTo(409);
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"logs\",\"size\":1048576}");
    assertThat(site.ok("GET", "/api/v1/volumes", null)).hasSize(2);
    assertThat(site.ok("GET", "/api/v1/volumes/db", null).path("uuid").asText())
        .isEqualTo(v.path("uuid").asText());

    assertThat(
            site.ok("PATCH", "/api/v1/volumes/db", "{\"size\":\"20MiB\"}")
                .path("sizeBytes")
                .asLong())
        .isEqualTo(20L << 20);
    assertThat(
            site.ok("POST", "/api/v1/volumes/db/resize", "{\"size\":\"30MiB\"}")
                .path("sizeBytes")
                .asLong())
        .isEqualTo(30L << 20);
    assertThat(site.call("PATCH", "/api/v1/volumes/db", "{\"size\":\"1MiB\"}").status())
        .isEqualTo(400);

    assertThat(site.call("DELETE", "/api/v1/volumes/db", null).status()).isEqualTo(204);
    assertThat(site.call("GET", "/api/v1/volumes/db", null).status()).isEqualTo(404);
    assertThat(site.call("DELETE", "/api/v1/volumes/db", null).status()).isEqualTo(404);
  }

  @Test
  void badRequestsGetClearErrorsAndTheNodeKeepsServing() throws IOException {
    String[][] cases = {
      {"{not json", "not valid JSON"},
      {"[1,2]", "JSON object"},
      {"", "empty"},
      {"{\"size\":\"1GiB\"}", "'name' is required"},
      {"{\"name\":\"x\"}", "'size' is required"},
      {"{\"name\":\"x\",\"size\":\"ten gigs\"}", "not a size"},
      {"{\"name\":\"x\",\"size\":-5}", "positive"},
      {"{\"name\":\"x\",\"size\":1000}", "multiple of the block size"},
      {"{\"name\":\"x\",\"size\":\"1MiB\",\"blockSize\":1000}", "512 or 4096"},
      {
        "{\"name\":\"x\",\"size\":\"1MiB\",\"blockSize\":\"big\"}", "'blockSize' must be an integer"
      },
      {"{\"name\":\"x\",\"size\":\"1MiB\",\"colour\":\"red\"}", "unknown field 'colour'"},
      {"{\"name\":7,\"size\":\"1MiB\"}", "'name' must be a string"},
    };
    for (String[] c : cases) {
      TestSite.Reply r = site.call("POST", "/api/v1/volumes", c[0]);
      assertThat(r.status()).as(c[0]).isEqualTo(400);
      assertThat(r.body().path("error").asText()).isEqualTo("bad request");
      assertThat(r.body().path("detail").asText()).as(c[0]).contains(c[1]);
    }
    assertThat(site.call("GET", "/api/v1/mappings/abc", null).status()).isEqualTo(400);
    assertThat(site.call("GET", "/api/v1/events?since=x", null).status()).isEqualTo(400);
    assertThat(site.call("DELETE", "/api/v1/volumes/x?force=maybe", null).status()).isEqualTo(400);
    assertThat(site.call("PUT", "/api/v1/alua", "{\"state\":\"sideways\"}").status())
        .isEqualTo(400);
    TestSite.Reply missing = site.call("GET", "/api/v1/nothing", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.body().path("error").asText()).isEqualTo("not found");
    assertThat(site.ok("GET", "/api/v1/status", null).path("site").asText()).isEqualTo("site-a");
  }

  @Test
  void hostsNeverShowSecrets() throws IOException {
    site.ok(
        "POST",
        "/api/v1/hosts",
        "{\"name\":\"web1\",\"iqns\":[\""
            + IQN_A
            + "\"],\"chapUser\":\"web1\",\"chapSecret\":\"0123456789abc\","
            + "\"mutualUser\":\"duet\",\"mutualSecret\":\"abcdefghijklmn\"}");
    JsonNode list = site.ok("GET", "/api/v1/hosts", null);
    assertThat(list.toString()).doesNotContain("0123456789abc").doesNotContain("abcdefghijklmn");
    assertThat(list.get(0).path("chap").asBoolean()).isTrue();
    assertThat(list.get(0).path("mutualChap").asBoolean()).isTrue();
    assertThat(site.ok("GET", "/api/v1/hosts/web1", null).toString()).doesNotContain("Secret\":\"");

    assertThat(
            site.call("POST", "/api/v1/hosts", "{\"name\":\"web2\",\"iqns\":[\"" + IQN_A + "\"]}")
                .status())
        .isEqualTo(409);
    assertThat(
            site.call("POST", "/api/v1/hosts", "{\"name\":\"web2\",\"iqns\":[\"not-an-iqn\"]}")
                .status())
        .isEqualTo(400);
    assertThat(
            site.call(
                    "POST",
                    "/api/v1/hosts",
                    "{\"name\":\"web2\",\"iqns\":[\""
                        + IQN_B
                        + "\"],\"chapUser\":\"u\",\"chapSecret\":\"short\"}")
                .body()
                .path("detail")
                .asText())
        .contains("chapSecret");
    assertThat(
            site.call(
                    "POST",
                    "/api/v1/hosts",
                    "{\"name\":\"web2\",\"iqns\":[\"" + IQN_B + "\"],\"chapUser\":\"u\"}")
                .status())
        .isEqualTo(400);

    JsonNode updated =
        site.ok(
            "PATCH",
            "/api/v1/hosts/web1",
            "{\"chapUser\":null,\"chapSecret\":null,\"mutualUser\":null,\"mutualSecret\":null,\"iqns\":[\""
                + IQN_A
                + "\",\""
                + IQN_B
                + "\"]}");
    assertThat(updated.path("chap").asBoolean()).isFalse();
    assertThat(updated.path("iqns")).hasSize(2);
    assertThat(site.node.catalog().credentials(IQN_A)).isEmpty();
    assertThat(site.call("DELETE", "/api/v1/hosts/web1", null).status()).isEqualTo(204);
    assertThat(site.ok("GET", "/api/v1/hosts", null)).isEmpty();
  }

  @Test
  void mappingsTargetsAndConflicts() throws IOException {
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"v1\",\"size\":\"1MiB\"}");
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"v2\",\"size\":\"1MiB\"}");
    site.ok("POST", "/api/v1/hosts", "{\"name\":\"a\",\"iqns\":[\"" + IQN_A + "\"]}");
    JsonNode m1 = site.ok("POST", "/api/v1/mappings", "{\"volume\":\"v1\",\"host\":\"a\"}");
    assertThat(m1.path("lun").asInt()).isZero();
    assertThat(m1.path("target").asText()).isEqualTo("iqn.2026-11.io.duet:site-a");
    JsonNode m2 =
        site.ok("POST", "/api/v1/mappings", "{\"volume\":\"v2\",\"host\":\"a\",\"readOnly\":true}");
    assertThat(m2.path("lun").asInt()).isEqualTo(1);
    // LUN 0 is taken for host a, so a '*' mapping at LUN 0 on the same target would clash.
    assertThat(
            site.call("POST", "/api/v1/mappings", "{\"volume\":\"v2\",\"host\":\"*\",\"lun\":0}")
                .status())
        .isEqualTo(409);
    assertThat(
            site.call("POST", "/api/v1/mappings", "{\"volume\":\"v1\",\"host\":\"a\",\"lun\":5}")
                .status())
        .isEqualTo(409);
    assertThat(
            site.call("POST", "/api/v1/mappings", "{\"volume\":\"v1\",\"host\":\"nobody\"}")
                .status())
        .isEqualTo(404);
    assertThat(
            site.call("POST", "/api/v1/mappings", "{\"volume\":\"v1\",\"host\":\"a\",\"lun\":300}")
                .status())
        .isEqualTo(400);

    JsonNode t = site.ok("POST", "/api/v1/targets", "{\"name\":\"db\"}");
    assertThat(t.path("name").asText()).isEqualTo("iqn.2026-11.io.duet:site-a.db");
    JsonNode m3 =
        site.ok(
            "POST",
            "/api/v1/mappings",
            "{\"volume\":\"v1\",\"host\":\"*\",\"target\":\"db\",\"lun\":3}");
    assertThat(m3.path("target").asText()).isEqualTo("iqn.2026-11.io.duet:site-a.db");
    JsonNode targets = site.ok("GET", "/api/v1/targets", null);
    assertThat(targets).hasSize(2);
    assertThat(targets.get(0).path("isDefault").asBoolean()).isTrue();
    assertThat(targets.get(1).path("isDefault").asBoolean()).isFalse();
    assertThat(targets.get(1).path("mappings").asInt()).isEqualTo(1);
    assertThat(site.call("DELETE", "/api/v1/targets/db", null).status()).isEqualTo(409);
    assertThat(site.call("DELETE", "/api/v1/targets/iqn.2026-11.io.duet:site-a", null).status())
        .isEqualTo(409);

    assertThat(site.call("DELETE", "/api/v1/volumes/v1", null).status()).isEqualTo(409);
    assertThat(site.call("DELETE", "/api/v1/hosts/a", null).status()).isEqualTo(409);
    assertThat(site.call("DELETE", "/api/v1/volumes/v1?force=true", null).status()).isEqualTo(204);
    assertThat(site.ok("GET", "/api/v1/mappings", null)).hasSize(1);
    assertThat(site.call("DELETE", "/api/v1/mappings/" + m2.path("id").asLong(), null).status())
        .isEqualTo(204);
    assertThat(site.call("DELETE", "/api/v1/mappings/" + m2.path("id").asLong(), null).status())
        .isEqualTo(404);
    assertThat(site.call("DELETE", "/api/v1/targets/db", null).status()).isEqualTo(204);
  }

  @Test
  void portalsAluaSessionsStatusEvents() throws IOException {
    JsonNode portals = site.ok("GET", "/api/v1/portals", null);
    assertThat(portals).hasSize(1);
    assertThat(portals.get(0).path("source").asText()).isEqualTo("config");
    JsonNode added = site.ok("POST", "/api/v1/portals", "{\"address\":\"127.0.0.1:0\"}");
    String address = added.path("address").asText();
    assertThat(address).startsWith("127.0.0.1:").doesNotEndWith(":0");
    assertThat(site.ok("GET", "/api/v1/portals", null)).hasSize(2);
    assertThat(site.call("POST", "/api/v1/portals", "{\"address\":\"" + address + "\"}").status())
        .isEqualTo(409);
    assertThat(site.call("POST", "/api/v1/portals", "{\"address\":\"0.0.0.0:3260\"}").status())
        .isEqualTo(400);
    assertThat(
            site.call("DELETE", "/api/v1/portals/" + portals.get(0).path("address").asText(), null)
                .status())
        .isEqualTo(409);
    assertThat(site.call("DELETE", "/api/v1/portals/" + address, null).status()).isEqualTo(204);
    assertThat(site.ok("GET", "/api/v1/portals", null)).hasSize(1);

    assertThat(site.ok("GET", "/api/v1/alua", null).path("state").asText())
        .isEqualTo("ACTIVE_OPTIMIZED");
    assertThat(site.ok("PUT", "/api/v1/alua", "{\"state\":\"standby\"}").path("state").asText())
        .isEqualTo("STANDBY");
    assertThat(site.ok("GET", "/api/v1/sessions", null)).isEmpty();

    JsonNode status = site.ok("GET", "/api/v1/status", null);
    assertThat(status.path("uuid").asText()).isEqualTo(site.node.uuid());
    assertThat(status.path("alua").path("state").asText()).isEqualTo("STANDBY");
    assertThat(status.path("portals")).hasSize(1);
    JsonNode events = site.ok("GET", "/api/v1/events", null);
    assertThat(events.findValuesAsText("type"))
        .contains("site.started", "portal.added", "portal.removed", "alua.changed");
    long last = events.get(events.size() - 1).path("id").asLong();
    assertThat(site.ok("GET", "/api/v1/events?since=" + last, null)).isEmpty();
    assertThat(site.ok("GET", "/api/v1/events?since=" + (last - 1), null)).hasSize(1);
  }

  @Test
  void stateSurvivesRestart() throws IOException {
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"v1\",\"size\":\"1MiB\"}");
    site.ok(
        "POST",
        "/api/v1/hosts",
        "{\"name\":\"a\",\"iqns\":[\""
            + IQN_A
            + "\"],\"chapUser\":\"a\",\"chapSecret\":\"0123456789abc\"}");
    site.ok("POST", "/api/v1/targets", "{\"name\":\"db\"}");
    site.ok(
        "POST",
        "/api/v1/mappings",
        "{\"volume\":\"v1\",\"host\":\"a\",\"lun\":7,\"readOnly\":true}");
    String portal =
        site.ok("POST", "/api/v1/portals", "{\"address\":\"127.0.0.1:0\"}")
            .path("address")
            .asText();
    site.ok("PUT", "/api/v1/alua", "{\"state\":\"ACTIVE_NON_OPTIMIZED\"}");
    String uuid = site.node.uuid();
    String token = site.node.token();
    long lastEvent =
        site.ok("GET", "/api/v1/events", null).findValues("id").stream()
            .mapToLong(JsonNode::asLong)
            .max()
            .orElseThrow();

    site.restart();

    assertThat(site.node.uuid()).isEqualTo(uuid);
    assertThat(site.node.token()).isEqualTo(token);
    assertThat(site.ok("GET", "/api/v1/volumes/v1", null).path("mappings")).hasSize(1);
    JsonNode mapping = site.ok("GET", "/api/v1/mappings", null).get(0);
    assertThat(mapping.path("lun").asInt()).isEqualTo(7);
    assertThat(mapping.path("readOnly").asBoolean()).isTrue();
    assertThat(site.ok("GET", "/api/v1/targets", null)).hasSize(2);
    assertThat(site.ok("GET", "/api/v1/portals", null).findValuesAsText("address"))
        .contains(portal);
    assertThat(site.ok("GET", "/api/v1/alua", null).path("state").asText())
        .isEqualTo("ACTIVE_NON_OPTIMIZED");
    assertThat(site.node.catalog().credentials(IQN_A)).isPresent();
    JsonNode events = site.ok("GET", "/api/v1/events", null);
    assertThat(events.get(0).path("id").asLong()).isGreaterThan(lastEvent);
    assertThat(Files.readAllLines(site.dataDir.resolve("events.log")))
        .hasSizeGreaterThan(events.size());
  }

  @Test
  void secondNodeOnTheSameDataDirIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Node.start(site.config()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("in use");
  }

  @Test
  void openApiListsEveryRoute() throws IOException {
    JsonNode doc = site.ok("GET", "/api/v1/openapi.json", null);
    assertThat(doc.path("openapi").asText()).startsWith("3.1");
    RestApi api =
        new RestApi(
            null, null, TestSite.JSON, java.time.Clock.systemUTC(), java.time.Instant.EPOCH);
    api.start(new io.duet.node.config.HostPort("127.0.0.1", 0));
    try {
      assertThat(api.routes()).hasSizeGreaterThan(20);
      for (String route : api.routes()) {
        String method = route.substring(0, route.indexOf(' ')).toLowerCase(java.util.Locale.ROOT);
        String path = route.substring(route.indexOf(' ') + 1);
        assertThat(doc.path("paths").path(path).has(method)).as(route).isTrue();
      }
    } finally {
      api.close();
    }
  }

  /** Random and mutated bodies on every write endpoint: refused with 4xx, never a 500. */
  @Test
  void fuzzedRequestsNeverBreakTheNode() throws IOException {
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"v\",\"size\":\"1MiB\"}");
    site.ok("POST", "/api/v1/hosts", "{\"name\":\"h\",\"iqns\":[\"" + IQN_A + "\"]}");
    String[][] endpoints = {
      {"POST", "/api/v1/volumes", "{\"name\":\"w\",\"size\":\"1MiB\",\"blockSize\":512}"},
      {"PATCH", "/api/v1/volumes/v", "{\"size\":\"2MiB\"}"},
      {
        "POST",
        "/api/v1/hosts",
        "{\"name\":\"g\",\"iqns\":[\"iqn.2000-01.x:y\"],\"chapUser\":\"u\",\"chapSecret\":\"0123456789abc\"}"
      },
      {"PATCH", "/api/v1/hosts/h", "{\"iqns\":[\"" + IQN_A + "\"],\"chapUser\":null}"},
      {
        "POST", "/api/v1/mappings", "{\"volume\":\"v\",\"host\":\"h\",\"lun\":1,\"readOnly\":false}"
      },
      {"POST", "/api/v1/targets", "{\"name\":\"t1\"}"},
      {"PUT", "/api/v1/alua", "{\"state\":\"standby\"}"},
      {"POST", "/api/v1/portals", "{\"address\":\"127.0.0.1:0\"}"},
    };
    java.util.Random random = new java.util.Random(1234);
    String alphabet = "{}[]\":,0123456789abciqn.:-*\\ nulltrue";
    for (int i = 0; i < 300; i++) {
      String[] e = endpoints[random.nextInt(endpoints.length)];
      StringBuilder b = new StringBuilder(e[2]);
      for (int k = 0; k < 1 + random.nextInt(4); k++) {
        int at = random.nextInt(b.length());
        if (random.nextBoolean()) {
          b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
        } else {
          b.deleteCharAt(at);
        }
      }
      TestSite.Reply r = site.call(e[0], e[1], b.toString());
      assertThat(r.status()).as(e[0] + " " + e[1] + " " + b).isLessThan(500);
      if (r.status() >= 400) {
        assertThat(r.body().path("detail").asText()).isNotBlank();
      }
    }
    assertThat(site.ok("GET", "/api/v1/status", null).path("site").asText()).isEqualTo("site-a");
  }
}
