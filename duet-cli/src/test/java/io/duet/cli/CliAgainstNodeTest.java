package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.node.Node;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin verbs against a real site in this JVM. */
class CliAgainstNodeTest {
  @TempDir Path dir;
  Node node;
  Map<String, String> env;

  @BeforeEach
  void start() throws Exception {
    node =
        Node.start(
            SiteConfig.defaults("site-a", dir.resolve("a"))
                .withPortals(List.of(new HostPort("127.0.0.1", 0)))
                .withApi(new HostPort("127.0.0.1", 0)));
    env = Map.of("DUET_API", node.apiUrl(), "DUET_TOKEN", node.token());
  }

  @AfterEach
  void stop() {
    node.close();
  }

  private CliRun ok(String... args) {
    CliRun r = CliRun.run(env, args);
    assertThat(r.exit()).as(String.join(" ", args) + ": " + r.err()).isZero();
    return r;
  }

  @Test
  void adminVerbs() {
    assertThat(ok("volume", "create", "db", "--size", "16MiB", "--block-size", "4096").out())
        .contains("volume db created: 16 MiB, 4096-byte blocks");
    assertThat(ok("volume", "resize", "db", "--size", "32MiB").out()).contains("32 MiB");
    assertThat(ok("volume", "show", "db").out()).contains("blockCount", "8192");
    assertThat(
            ok(
                    "host",
                    "create",
                    "web1",
                    "--iqn",
                    "iqn.1994-05.com.redhat:web1",
                    "--chap-user",
                    "web1",
                    "--chap-secret",
                    "0123456789abcd")
                .out())
        .contains("host web1 created (CHAP)");
    assertThat(ok("host", "list").out())
        .contains("web1", "iqn.1994-05.com.redhat:web1")
        .doesNotContain("0123456789abcd");
    assertThat(ok("map", "db", "--host", "web1", "--lun", "3", "--read-only").out())
        .contains("LUN 3", "read-only");
    assertThat(ok("mapping", "list").out().lines().toList())
        .hasSize(2)
        .last()
        .asString()
        .contains("db", "web1", "3", "ro");
    CliRun busy = CliRun.run(env, "volume", "delete", "db");
    assertThat(busy.exit()).isEqualTo(1);
    assertThat(busy.err()).contains("is mapped", "HTTP 409");
    assertThat(ok("unmap", "db", "--host", "web1").out()).contains("removed");
    assertThat(ok("target", "create", "extra").out()).contains("iqn.2026-11.io.duet:site-a.extra");
    assertThat(ok("target", "list").out()).contains("extra");
    assertThat(ok("target", "delete", "extra").out()).contains("deleted");
    assertThat(ok("portal", "list").out()).contains("config");
    String added = ok("--json", "portal", "add", "127.0.0.1:0").out();
    assertThat(added).contains("\"source\" : \"api\"");
    assertThat(ok("alua", "set", "standby").out()).contains("STANDBY");
    assertThat(ok("session", "list").out()).startsWith("INITIATOR");
    assertThat(ok("status").out()).contains("site-a", "STANDBY", "volume.created");
    assertThat(ok("events", "--since", "0").out()).contains("alua.changed");
    assertThat(ok("volume", "delete", "db").out()).contains("deleted");
    assertThat(ok("volume", "list").out().lines().toList()).hasSize(1);
  }

  @Test
  void dataDirGivesTokenAndApiUrl() {
    // The parent of the site directory works too (duet demo --data-dir DIR keeps DIR/site-a).
    for (Path d : List.of(dir.resolve("a"), dir)) {
      CliRun r = CliRun.run(Map.of(), "status", "--data-dir", d.toString());
      assertThat(r.exit()).as(r.err()).isZero();
      assertThat(r.out()).contains("site-a");
    }
  }
}
