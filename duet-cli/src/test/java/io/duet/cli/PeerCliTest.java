package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.node.Node;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code duet peer ...} between two sites in this JVM. */
class PeerCliTest {
  @TempDir Path dir;

  static Node site(Path dir, String name, boolean replication) throws Exception {
    return site(dir, name, replication, SiteConfig.PORT_GROUP_ID_DEFAULT);
  }

  /** A site on free loopback ports; {@code portGroup} is also its relative target port id. */
  static Node site(Path dir, String name, boolean replication, int portGroup) throws Exception {
    return Node.start(
        SiteConfig.defaults(name, dir.resolve(name))
            .withPortals(List.of(new HostPort("127.0.0.1", 0)))
            .withApi(new HostPort("127.0.0.1", 0))
            .withReplication(
                replication ? Optional.of(new HostPort("127.0.0.1", 0)) : Optional.empty())
            .withPortGroup(portGroup, portGroup));
  }

  static Map<String, String> env(Node n) {
    return Map.of("DUET_API", n.apiUrl(), "DUET_TOKEN", n.token());
  }

  @Test
  void inviteCreateListDelete() throws Exception {
    try (Node a = site(dir, "site-a", true);
        Node b = site(dir, "site-b", true)) {
      CliRun invite = CliRun.run(env(b), "peer", "invite");
      assertThat(invite.exit()).as(invite.err()).isZero();
      Matcher m = Pattern.compile("passphrase: (\\S+)").matcher(invite.out());
      assertThat(m.find()).as(invite.out()).isTrue();
      String pass = m.group(1);
      assertThat(invite.out())
          .contains(
              "duet peer create --address " + b.replicationAddress() + " --passphrase " + pass);

      CliRun wrong =
          CliRun.run(
              env(a),
              "peer",
              "create",
              "--address",
              b.replicationAddress(),
              "--passphrase",
              "nope");
      assertThat(wrong.exit()).isEqualTo(1);
      assertThat(wrong.err()).contains("wrong passphrase", "HTTP 409");

      CliRun created =
          CliRun.run(
              env(a), "peer", "create", "--address", b.replicationAddress(), "--passphrase", pass);
      assertThat(created.exit()).as(created.err()).isZero();
      assertThat(created.out()).contains("paired with site site-b", b.uuid());

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      String list;
      do {
        list = CliRun.run(env(a), "peer", "list").out();
        if (System.nanoTime() > deadline) {
          throw new AssertionError("link never came up: " + list);
        }
        Thread.sleep(20);
      } while (!list.contains(" up "));
      assertThat(list).startsWith("NAME").contains("site-b", b.uuid(), b.replicationAddress());
      assertThat(CliRun.run(env(b), "peer", "list").out())
          .contains("site-a", a.replicationAddress());
      assertThat(CliRun.run(env(a), "status").out())
          .contains("site-b (link up)", a.replicationAddress());
      assertThat(CliRun.run(env(a), "--json", "peer", "list").out()).contains("\"fingerprint\"");

      CliRun deleted = CliRun.run(env(a), "peer", "delete", "site-b");
      assertThat(deleted.exit()).as(deleted.err()).isZero();
      assertThat(deleted.out()).contains("peer site-b deleted");
      CliRun again = CliRun.run(env(a), "peer", "delete", "site-b");
      assertThat(again.exit()).isEqualTo(1);
      assertThat(again.err()).contains("no peer named site-b");
    }
  }

  @Test
  void withoutReplicationTheErrorSaysWhatToConfigure() throws Exception {
    try (Node a = site(dir, "site-a", false)) {
      CliRun r = CliRun.run(env(a), "peer", "invite");
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).contains("replication: HOST:PORT");
      CliRun usage = CliRun.run(env(a), "peer", "create", "--address", "x:1");
      assertThat(usage.exit()).isNotZero();
      assertThat(usage.err()).contains("--passphrase");
    }
  }
}
