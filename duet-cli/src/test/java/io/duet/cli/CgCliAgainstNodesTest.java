package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.node.Node;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code duet cg ...} and {@code duet host ... --site} against two real sites in this JVM. */
class CgCliAgainstNodesTest {
  @TempDir Path dir;

  static CliRun ok(Map<String, String> env, String... args) {
    CliRun r = CliRun.run(env, args);
    assertThat(r.exit()).as(String.join(" ", args) + ": " + r.err()).isZero();
    return r;
  }

  @Test
  void groupLifecycleThroughTheCli() throws Exception {
    try (Node a = PeerCliTest.site(dir, "site-a", true, 1);
        Node b = PeerCliTest.site(dir, "site-b", true, 2)) {
      Map<String, String> atA = PeerCliTest.env(a);
      Map<String, String> atB = PeerCliTest.env(b);
      Matcher m = Pattern.compile("passphrase: (\\S+)").matcher(ok(atB, "peer", "invite").out());
      assertThat(m.find()).isTrue();
      ok(atA, "peer", "create", "--address", b.replicationAddress(), "--passphrase", m.group(1));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!ok(atA, "peer", "list").out().contains(" up ")) {
        assertThat(System.nanoTime()).as("link up").isLessThan(deadline);
        Thread.sleep(20);
      }
      ok(atA, "volume", "create", "vol1", "--size", "8MiB");

      CliRun created =
          ok(
              atA,
              "cg create cg1 --policy active-active --peer site-b --volumes vol1 --resync-rate 100MiB"
                  .split(" "));
      assertThat(created.out()).contains("consistency group cg1 created with site-b");
      CliRun watched = ok(atB, "cg", "show", "cg1", "--watch", "--interval-ms", "20");
      assertThat(watched.out().lines().toList().getLast())
          .contains("IN_SYNC", "link UP", "SERVING");
      assertThat(ok(atA, "cg", "list").out())
          .contains("cg1", "LEADER", "site-a", "IN_SYNC", "vol1");
      assertThat(ok(atB, "cg", "show", "cg1").out())
          .contains("FOLLOWER", "site-a (epoch", "100 MiB/s", "vol1");
      assertThat(ok(atB, "volume", "list").out()).as("the twin at B").contains("vol1");
      assertThat(ok(atA, "status").out()).contains("cg1 (LEADER, IN_SYNC, link UP, SERVING)");

      assertThat(ok(atA, "cg", "verify", "cg1").out()).contains("regions compared, 0 differ");
      CliRun switched = ok(atA, "cg", "switchover", "cg1");
      assertThat(switched.out()).contains("site-b now leads cg1");
      assertThat(ok(atB, "cg", "show", "cg1").out()).contains("LEADER");

      CliRun set = ok(atA, "cg", "set", "cg1", "--auto-resync", "off", "--resync-rate", "50MiB");
      assertThat(set.out()).contains("cg1 updated");
      assertThat(ok(atA, "--json", "cg", "show", "cg1").out())
          .contains("\"autoResync\" : false", "\"resyncRate\" : 52428800");
      CliRun refused = CliRun.run(atA, "cg", "failover", "cg1");
      assertThat(refused.exit()).isEqualTo(2);

      ok(atA, "host", "create", "h1", "--iqn", "iqn.2026-11.io.duet.test:h1", "--site", "site-a");
      assertThat(ok(atA, "host", "list").out()).contains("h1", "site-a");
      assertThat(ok(atA, "host", "update", "h1", "--site", "all").out()).contains("all");

      CliRun missing = CliRun.run(atA, "cg", "show", "nope");
      assertThat(missing.exit()).isEqualTo(1);
      assertThat(missing.err()).contains("HTTP 404");
      assertThat(ok(atA, "cg", "delete", "cg1").out()).contains("cg1 deleted");
      assertThat(ok(atA, "cg", "list").out().lines()).hasSize(1);
    }
  }
}
