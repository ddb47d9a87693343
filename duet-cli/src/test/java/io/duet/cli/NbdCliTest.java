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

/** {@code duet nbd export|list|unexport} against a real site with an NBD listener. */
class NbdCliTest {
  @TempDir Path dir;
  Node node;
  Map<String, String> env;

  @BeforeEach
  void start() throws Exception {
    node =
        Node.start(
            SiteConfig.defaults("site-a", dir.resolve("a"))
                .withPortals(List.of(new HostPort("127.0.0.1", 0)))
                .withApi(new HostPort("127.0.0.1", 0))
                .withNbd(List.of(new HostPort("127.0.0.1", 0))));
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
  void exportListUnexport() {
    ok("volume", "create", "db", "--size", "16MiB");
    int port = node.nbdListeners().get(0).port();
    assertThat(ok("nbd", "export", "db").out())
        .contains("volume db exported as db")
        .contains("nbd://127.0.0.1:" + port + "/db");
    assertThat(
            ok("nbd", "export", "db", "--name", "db-ro", "--read-only", "--allow", "10.0.0.0/8")
                .out())
        .contains("exported as db-ro (read-only)");
    assertThat(ok("nbd", "list").out())
        .contains("db-ro", "ro", "10.0.0.0/8")
        .contains("127.0.0.0/8,::1/128");
    assertThat(ok("status").out()).contains("nbd://127.0.0.1:" + port + "/db");
    CliRun refused = CliRun.run(env, "volume", "delete", "db");
    assertThat(refused.exit()).isNotZero();
    assertThat(refused.err()).contains("NBD");
    assertThat(ok("nbd", "unexport", "db-ro").out()).contains("NBD export db-ro removed");
    assertThat(ok("nbd", "list").out()).doesNotContain("db-ro");
    assertThat(CliRun.run(env, "nbd", "unexport", "nope").exit()).isNotZero();
  }
}
