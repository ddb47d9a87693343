package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code duet demo --json} as its own process: both sites and the mediator announced, stdout is
 * JSON lines only, SIGTERM stops it, its child site and the mediator.
 */
class DemoProcessTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void demoJsonAnnouncesReadyThenStreamsEvents(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("demo-data");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "io.duet.cli.DuetCli",
                "demo",
                "--json",
                "--data-dir",
                data.toString(),
                "--port-base",
                "3900")
            .redirectError(dir.resolve("demo.log").toFile())
            .start();
    BlockingQueue<String> lines = new ArrayBlockingQueue<>(256);
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.offer(line);
                }
              } catch (IOException e) {
                // process gone
              }
            });
    long childPid = -1;
    long mediatorPid = -1;
    try {
      String first = null;
      // Three JVMs start (the mediator, then site A here and site B) on a machine that may be busy.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (first == null && p.isAlive() && System.nanoTime() < deadline) {
        first = lines.poll(200, TimeUnit.MILLISECONDS);
      }
      assertThat(first).as("ready line; log: %s", log(dir)).isNotNull();
      JsonNode ready = JSON.readTree(first);
      assertThat(ready.path("event").asText()).isEqualTo("ready");
      JsonNode site = ready.path("sites").get(0);
      assertThat(site.path("name").asText()).isEqualTo("site-a");
      assertThat(site.path("api").asText()).startsWith("http://127.0.0.1:");
      assertThat(site.path("token").asText()).hasSizeGreaterThanOrEqualTo(32);
      assertThat(site.path("nbd").isArray()).isTrue();
      String url = site.path("iscsi").get(0).asText();
      assertThat(url)
          .matches("iscsi://127\\.0\\.0\\.1:39\\d\\d/iqn\\.2026-11\\.io\\.duet:site-a/0");
      JsonNode siteB = ready.path("sites").get(1);
      assertThat(siteB.path("name").asText()).isEqualTo("site-b");
      assertThat(siteB.path("iscsi").get(0).asText())
          .matches("iscsi://127\\.0\\.0\\.1:39\\d\\d/iqn\\.2026-11\\.io\\.duet:site-b/0")
          .isNotEqualTo(url);
      assertThat(siteB.path("nbd").get(0).asText()).matches("nbd://127\\.0\\.0\\.1:\\d+/demo");
      childPid = siteB.path("pid").asLong();
      mediatorPid = ready.path("mediator").path("pid").asLong();
      assertThat(ready.path("mediator").path("api").asText()).startsWith("https://127.0.0.1:");
      assertThat(ProcessHandle.of(childPid)).as("site B runs as a child process").isPresent();
      CliRun cg =
          CliRun.run(
              Map.of(
                  "DUET_API",
                  siteB.path("api").asText(),
                  "DUET_TOKEN",
                  siteB.path("token").asText()),
              "cg",
              "show",
              "demo");
      assertThat(cg.exit()).as(cg.err()).isZero();
      assertThat(cg.out()).contains("IN_SYNC", "FOLLOWER", "site-a");

      CliRun r =
          CliRun.run(
              Map.of(
                  "DUET_API", site.path("api").asText(), "DUET_TOKEN", site.path("token").asText()),
              "volume",
              "create",
              "second",
              "--size",
              "1MiB");
      assertThat(r.exit()).as(r.err()).isZero();
      // Replication events of site A may come first; the volume's event must follow.
      JsonNode event = null;
      long eventDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (event == null && System.nanoTime() < eventDeadline) {
        String next = lines.poll(200, TimeUnit.MILLISECONDS);
        JsonNode e = next == null ? null : JSON.readTree(next);
        if (e != null && e.path("event").asText().equals("volume.created")) {
          event = e;
        }
      }
      assertThat(event).as("a volume.created event").isNotNull();
      assertThat(event.path("subject").asText()).isEqualTo("second");
    } finally {
      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    long pid = childPid;
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        .as("site B stopped with the demo")
        .isFalse();
    long mpid = mediatorPid;
    assertThat(ProcessHandle.of(mpid).map(ProcessHandle::isAlive).orElse(false))
        .as("the mediator stopped with the demo")
        .isFalse();
    // Every stdout line was one JSON object; a user-given data directory is kept.
    for (String l : List.copyOf(lines)) {
      assertThat(JSON.readTree(l).isObject()).isTrue();
    }
    assertThat(Files.exists(data.resolve("site-a").resolve("api-token"))).isTrue();
  }

  @Test
  void aSiteRunWithStopOnStdinEofStopsWhenItsParentGoes(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("site.yaml");
    Files.writeString(
        config, "name: site-x\ndataDir: data\napi: 127.0.0.1:0\nportals: [\"127.0.0.1:0\"]\n");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "io.duet.cli.DuetCli",
                "site",
                "run",
                "--config",
                config.toString(),
                "--stop-on-stdin-eof")
            .redirectError(dir.resolve("demo.log").toFile())
            .start();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      assertThat(r.readLine()).as("ready line; log: %s", log(dir)).contains("\"ready\"");
      // What a parent's death does to the pipe: its end closes.
      p.getOutputStream().close();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the site stops").isTrue();
      assertThat(p.exitValue()).isZero();
    } finally {
      p.destroyForcibly();
    }
  }

  private static String log(Path dir) {
    try {
      return Files.readString(dir.resolve("demo.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }
}
