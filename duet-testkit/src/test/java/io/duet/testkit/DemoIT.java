package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.mediator.MediatorClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code duet demo --json}: the first line is the ready event with working iSCSI URLs at both
 * sites, which show one device, and the mediator's URL, which answers; both sites report the
 * mediator connected and in quorum for the group; SIGTERM stops both sites and the mediator and
 * removes the temporary data directory.
 */
class DemoIT {
  @Test
  void readyLineUrlsWorkAndSigtermCleansUp() throws Exception {
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            "io.duet.cli.DuetCli",
            "demo",
            "--json",
            "--port-base",
            "23260");
    Process demo =
        new ProcessBuilder(cmd)
            .redirectError(
                ProcessBuilder.Redirect.appendTo(Path.of("target", "demo-it.log").toFile()))
            .start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(demo.getInputStream()));
      String first = out.readLine();
      assertThat(first).as("first line of duet demo --json").isNotNull();
      JsonNode ready = new ObjectMapper().readTree(first);
      assertThat(ready.get("event").asText()).isEqualTo("ready");
      JsonNode site = ready.get("sites").get(0);
      assertThat(site.get("name").asText()).isNotBlank();
      assertThat(site.get("api").asText()).startsWith("http://127.0.0.1:");
      assertThat(site.get("nbd").isArray()).isTrue();
      String url = site.get("iscsi").get(0).asText();
      assertThat(url).matches("iscsi://127\\.0\\.0\\.1:\\d+/iqn\\.[^/]+/0");
      Path dataDir = Path.of(site.get("dataDir").asText());
      assertThat(dataDir).exists();

      JsonNode siteB = ready.get("sites").get(1);
      assertThat(siteB.get("name").asText()).isEqualTo("site-b");
      String urlB = siteB.get("iscsi").get(0).asText();
      assertThat(urlB).matches("iscsi://127\\.0\\.0\\.1:\\d+/iqn\\.[^/]+/0").isNotEqualTo(url);
      long childPid = siteB.get("pid").asLong();

      JsonNode mediator = ready.get("mediator");
      assertThat(mediator.get("api").asText()).startsWith("https://127.0.0.1:");
      long mediatorPid = mediator.get("pid").asLong();
      try (MediatorClient health =
          MediatorClient.withPassword(
              URI.create(mediator.get("api").asText()),
              Path.of(mediator.get("caCert").asText()),
              "health-needs-no-user",
              "-",
              Duration.ofSeconds(10))) {
        health.checkHealth();
      }
      for (JsonNode s : List.of(site, siteB)) {
        DuetApi api = new DuetApi(s.get("api").asText(), s.get("token").asText());
        assertThat(api.get("/api/v1/status").path("mediator").path("url").asText())
            .isEqualTo(mediator.get("api").asText());
        awaitMediatorInQuorum(s.get("name").asText(), api);
      }

      for (String u : List.of(url, urlB)) {
        assertThat(run("iscsi-readcapacity16", u)).contains("LOGICAL BLOCK LENGTH IN BYTES:512");
      }
      // One device at two sites: the same logical unit designators (VPD 0x83) and serial (0x80).
      assertThat(logicalUnitDesignators(run("iscsi-inq", "-e", "1", "-c", "131", urlB)))
          .isEqualTo(logicalUnitDesignators(run("iscsi-inq", "-e", "1", "-c", "131", url)))
          .isNotEmpty();
      assertThat(run("iscsi-inq", "-e", "1", "-c", "128", urlB))
          .contains("Unit Serial Number:")
          .isEqualTo(run("iscsi-inq", "-e", "1", "-c", "128", url));

      demo.destroy(); // SIGTERM
      assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("demo exits on SIGTERM").isTrue();
      assertThat(ProcessHandle.of(childPid).map(ProcessHandle::isAlive).orElse(false))
          .as("site B's process stopped with the demo")
          .isFalse();
      assertThat(ProcessHandle.of(mediatorPid).map(ProcessHandle::isAlive).orElse(false))
          .as("the mediator's process stopped with the demo")
          .isFalse();
      assertThat(dataDir).as("temporary data directory removed").doesNotExist();
      assertThat(Files.exists(dataDir.getParent())).as("temporary parent removed").isFalse();
    } finally {
      demo.destroyForcibly();
    }
  }

  /**
   * Polls the group at a site until it reports the mediator connected and in quorum; the site
   * status must say connected too. The first heartbeats follow the group's start by a second.
   */
  private static void awaitMediatorInQuorum(String name, DuetApi api) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonNode m = null;
    while (System.nanoTime() < deadline) {
      m = api.get("/api/v1/cgs/demo").path("mediator");
      if (m.path("connected").asBoolean()
          && m.path("inQuorum").asBoolean()
          && api.get("/api/v1/status").path("mediator").path("connected").asBoolean()) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new AssertionError(name + ": mediator not connected and in quorum in 60 s: " + m);
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    return out;
  }

  /**
   * The designators of iscsi-inq's VPD 0x83 output that name the logical unit; the target and port
   * designators name each site's own target and port group, so they differ.
   */
  private static List<String> logicalUnitDesignators(String inq) {
    return java.util.Arrays.stream(inq.split("DEVICE DESIGNATOR #\\d+"))
        .filter(d -> d.contains("LOGICAL_UNIT"))
        .map(String::strip)
        .toList();
  }
}
