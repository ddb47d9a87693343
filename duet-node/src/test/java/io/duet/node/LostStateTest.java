package io.duet.node;

import static io.duet.node.ConsistencyGroupTest.config;
import static io.duet.node.ConsistencyGroupTest.ok;
import static io.duet.node.ConsistencyGroupTest.pair;
import static io.duet.node.ConsistencyGroupTest.pattern;
import static io.duet.node.ConsistencyGroupTest.read;
import static io.duet.node.ConsistencyGroupTest.state;
import static io.duet.node.ConsistencyGroupTest.write;
import static io.duet.node.PeerApiTest.await;
import static io.duet.node.PeerApiTest.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.node.ConsistencyGroupTest.Restartable;
import io.duet.node.PeerApiTest.Reply;
import io.duet.node.config.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A group whose replication state is gone at a site (a replaced or damaged data directory) does not
 * start there afresh: it stays unavailable and says why, and {@code resync --full} rebuilds it from
 * the site that leads, byte for byte.
 */
class LostStateTest {
  private static final long VOLUME_BYTES = ConsistencyGroupTest.VOLUME_BYTES;

  @TempDir Path dir;

  @Test
  void aLostDirtyMapOrEpochKeepsTheGroupDownUntilAFullResyncRebuildsIt() throws Exception {
    try (Restartable b = new Restartable(config(dir, "site-b", false, 2));
        TcpRelay relay = new TcpRelay(address(b.node));
        Restartable a = new Restartable(config(dir, "site-a", true, 1))) {
      pair(a.node, b.node, relay);
      ok(a.node, "POST", "/api/v1/volumes", "{\"name\":\"vol1\",\"size\":" + VOLUME_BYTES + "}");
      write(a.node, 0, pattern(1, 64 * 1024));
      ConsistencyGroupTest.createCg1(a.node, b.node);

      // The follower loses its dirty map while it is down, and A writes meanwhile.
      b.node.close();
      write(a.node, 1 << 20, pattern(2, 8192));
      delete(dir.resolve("site-b"), ".dmap");
      List<String> eventsB = restartWatching(b);
      relay.retarget(address(b.node));
      JsonNode down = ok(b.node, "GET", "/api/v1/cgs/cg1", null);
      assertThat(down.path("availability").asText()).isEqualTo("UNAVAILABLE");
      assertThat(down.path("problem").asText())
          .contains("lost its replication state")
          .contains("dirty map")
          .contains("duet cg resync cg1 --full");
      assertThat(eventsB).contains("cg.state.missing");
      assertThatThrownBy(() -> read(b.node, 0, 512)).isInstanceOf(IOException.class);
      Reply plain = call(b.node, "POST", "/api/v1/cgs/cg1/resync", null);
      assertThat(plain.status()).isEqualTo(503);
      assertThat(plain.body().path("detail").asText()).contains("--full");

      ok(b.node, "POST", "/api/v1/cgs/cg1/resync", "{\"full\":true}");
      await("B serving after the full resync", () -> state(b.node, "availability", "SERVING"));
      assertIdentical(a.node, b.node);

      // The leader loses its epoch: rebuilt from the follower's view, A is stale, hands the
      // leadership to B and is resynced from it.
      a.node.close();
      delete(dir.resolve("site-a"), "sync-epoch");
      a.restart();
      assertThat(ok(a.node, "GET", "/api/v1/cgs/cg1", null).path("problem").asText())
          .contains("its epoch");
      await("A's peer link up", () -> PeerApiTest.linkState(a.node, "site-b").equals("up"));
      ok(a.node, "POST", "/api/v1/cgs/cg1/resync", "{\"full\":true}");
      await(
          "B leads and A serves again",
          () ->
              state(b.node, "role", "LEADER")
                  && state(a.node, "availability", "SERVING")
                  && state(a.node, "syncState", "IN_SYNC"));
      assertIdentical(a.node, b.node);
      JsonNode verify = ok(b.node, "POST", "/api/v1/cgs/cg1/verify", "{}");
      assertThat(verify.path("differingRegions")).isEmpty();
    }
  }

  /** Restarts the site; returns the types of the events it logged since. */
  private static List<String> restartWatching(Restartable site) throws IOException {
    site.node = Node.start(site.config);
    List<String> types = new ArrayList<>();
    for (JsonNode e : ok(site.node, "GET", "/api/v1/events", null)) {
      types.add(e.path("type").asText());
    }
    return types;
  }

  private static void assertIdentical(Node a, Node b) throws IOException {
    for (long offset = 0; offset < VOLUME_BYTES; offset += 1 << 20) {
      assertThat(read(b, offset, 1 << 20))
          .as("MiB at " + offset)
          .isEqualTo(read(a, offset, 1 << 20));
    }
  }

  private static void delete(Path dataDir, String suffix) throws IOException {
    try (Stream<Path> files = Files.walk(dataDir)) {
      List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
      assertThat(found).as(suffix + " files under " + dataDir).isNotEmpty();
      for (Path p : found) {
        Files.delete(p);
      }
    }
  }

  private static InetSocketAddress address(Node n) {
    HostPort hp = HostPort.parse(n.replicationAddress());
    return new InetSocketAddress(hp.host(), hp.port());
  }
}
