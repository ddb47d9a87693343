package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code duet demo --json}: the first line is the ready event with working iSCSI URLs; SIGTERM
 * stops it and removes its temporary data directory.
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
            .redirectError(ProcessBuilder.Redirect.appendTo(Path.of("target", "demo-it.log").toFile()))
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

      Process inq = new ProcessBuilder("iscsi-readcapacity16", url).redirectErrorStream(true).start();
      String capacity = new String(inq.getInputStream().readAllBytes());
      assertThat(inq.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(inq.exitValue()).as(capacity).isZero();
      assertThat(capacity).contains("LOGICAL BLOCK LENGTH IN BYTES:512");

      demo.destroy(); // SIGTERM
      assertThat(demo.waitFor(30, TimeUnit.SECONDS)).as("demo exits on SIGTERM").isTrue();
      assertThat(dataDir).as("temporary data directory removed").doesNotExist();
      assertThat(Files.exists(dataDir.getParent())).as("temporary parent removed").isFalse();
    } finally {
      demo.destroyForcibly();
    }
  }
}
