package io.duet.node;

import static io.duet.node.PeerApiTest.await;
import static io.duet.node.PeerApiTest.call;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.node.PeerApiTest.Reply;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import io.duet.scsi.AluaState;
import io.duet.scsi.UnitAlua;
import io.duet.store.Volume;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sites in one JVM, paired over loopback through a relay the test can cut: a consistency group
 * created at A copies A's data to B's twin, writes at A are read at B, a cut link makes the
 * follower unavailable and a healed one resyncs it.
 */
class ConsistencyGroupTest {
  static final long VOLUME_BYTES = 8L << 20;

  @TempDir Path dir;

  /**
   * Site A binds its replication port on the wildcard address, so it advertises none and B never
   * dials it: the only connection is A's, through the relay.
   */
  static SiteConfig config(Path dir, String name, boolean wildcard, int group) {
    return SiteConfig.defaults(name, dir.resolve(name))
        .withPortals(List.of(new HostPort("127.0.0.1", 0)))
        .withApi(new HostPort("127.0.0.1", 0))
        .withReplication(Optional.of(new HostPort(wildcard ? "0.0.0.0" : "127.0.0.1", 0)))
        .withPortGroup(group, group);
  }

  static JsonNode ok(Node n, String method, String path, String body) throws IOException {
    Reply r = call(n, method, path, body);
    assertThat(r.status()).as(method + " " + path + " -> " + r.body()).isBetween(200, 299);
    return r.body();
  }

  static JsonNode cg(Node n) throws IOException {
    return ok(n, "GET", "/api/v1/cgs/cg1", null);
  }

  static boolean state(Node n, String field, String value) {
    try {
      return cg(n).path(field).asText().equals(value);
    } catch (IOException e) {
      return false;
    }
  }

  static boolean role(Node n, String group, String role) {
    try {
      return ok(n, "GET", "/api/v1/cgs/" + group, null).path("role").asText().equals(role);
    } catch (IOException e) {
      return false;
    }
  }

  static byte[] pattern(int seed, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed * 31 + i * 7);
    }
    return b;
  }

  static void write(Node n, long offset, byte[] data) throws IOException {
    Volume v = n.served("vol1").orElseThrow();
    v.write(offset, ByteBuffer.wrap(data), false);
  }

  static byte[] read(Node n, long offset, int length) throws IOException {
    Volume v = n.served("vol1").orElseThrow();
    ByteBuffer b = ByteBuffer.allocate(length);
    v.read(offset, b);
    return b.array();
  }

  @Test
  void createReplicateCutHealAndDelete() throws Exception {
    try (Restartable b = new Restartable(config(dir, "site-b", false, 2));
        TcpRelay relay = new TcpRelay(replicationAddress(b.node));
        Node a = Node.start(config(dir, "site-a", true, 1))) {
      List<NodeEvent> eventsB = new CopyOnWriteArrayList<>();
      b.node.addEventListener(eventsB::add);
      pair(a, b.node, relay);

      ok(a, "POST", "/api/v1/volumes", "{\"name\":\"vol1\",\"size\":" + VOLUME_BYTES + "}");
      byte[] before = pattern(1, 64 * 1024);
      write(a, 1 << 20, before); // data before the group: the initial sync must copy it

      badRequests(a);

      JsonNode created =
          ok(
              a,
              "POST",
              "/api/v1/cgs",
              "{\"name\":\"cg1\",\"policy\":\"active-active\",\"peer\":\"site-b\","
                  + "\"volumes\":[\"vol1\"],\"resyncRate\":\"100MiB\"}");
      assertThat(created.path("role").asText()).isEqualTo("LEADER");
      assertThat(created.path("resyncRate").asLong()).isEqualTo(100L << 20);
      JsonNode volA = ok(a, "GET", "/api/v1/volumes/vol1", null);
      JsonNode volB = ok(b.node, "GET", "/api/v1/volumes/vol1", null);
      assertThat(volB.path("naa").asText()).isEqualTo(volA.path("naa").asText());
      assertThat(volB.path("serial").asText()).isEqualTo(volA.path("serial").asText());
      Reply again =
          call(
              a,
              "POST",
              "/api/v1/cgs",
              "{\"name\":\"cg1\",\"policy\":\"active-active\",\"peer\":\"site-b\","
                  + "\"volumes\":[\"vol1\"]}");
      assertThat(again.status()).isEqualTo(409);
      Reply unpair = call(a, "DELETE", "/api/v1/peers/site-b", null);
      assertThat(unpair.status()).isEqualTo(409);
      assertThat(unpair.body().path("detail").asText()).contains("cg1");

      await("B serving", () -> state(b.node, "availability", "SERVING"));
      await("A in sync", () -> state(a, "syncState", "IN_SYNC"));
      assertThat(cg(b.node).path("role").asText()).isEqualTo("FOLLOWER");
      assertThat(read(b.node, 1 << 20, before.length)).isEqualTo(before);

      byte[] data = pattern(2, 8192);
      write(a, 4096, data);
      assertThat(read(b.node, 4096, data.length)).isEqualTo(data);
      byte[] fromB = pattern(3, 4096);
      write(b.node, 2 << 20, fromB);
      assertThat(read(a, 2 << 20, fromB.length)).isEqualTo(fromB);
      ok(a, "POST", "/api/v1/mappings", "{\"volume\":\"vol1\",\"host\":\"*\"}");
      assertThat(a.catalog().discover("iqn.2026-01.test:host1"))
          .extracting(io.duet.iscsi.TargetCatalog.DiscoveredTarget::name)
          .containsExactly(a.defaultTarget(), b.node.defaultTarget());
      JsonNode status = ok(a, "GET", "/api/v1/status", null);
      assertThat(status.path("cgs").get(0).path("name").asText()).isEqualTo("cg1");
      UnitAlua viewB = b.node.unit("vol1").orElseThrow().alua();
      assertThat(viewB.groups()).extracting(UnitAlua.PortGroup::id).containsExactly(1, 2);
      assertThat(viewB.baseState(2)).isEqualTo(UnitAlua.BaseState.ACTIVE);
      assertThat(viewB.baseState(1)).isEqualTo(UnitAlua.BaseState.ACTIVE);
      proximity(a);

      relay.cut();
      await("B unavailable", () -> state(b.node, "availability", "UNAVAILABLE"));
      assertThat(b.node.unit("vol1").orElseThrow().alua().baseState(2))
          .isEqualTo(UnitAlua.BaseState.UNAVAILABLE);
      byte[] during = pattern(4, 4096);
      write(a, 3 << 20, during); // A leads and goes on alone once B's lease has run out
      assertThat(cg(a).path("syncState").asText()).isNotEqualTo("IN_SYNC");

      relay.heal();
      await("B serving again", () -> state(b.node, "availability", "SERVING"));
      assertThat(read(b.node, 3 << 20, during.length)).isEqualTo(during);
      assertThat(eventsB.stream().map(NodeEvent::type))
          .contains("cg.created", "cg.state", "cg.link.down", "cg.link.up");

      dayTwo(a, b, relay);

      Reply del = call(a, "DELETE", "/api/v1/cgs/cg1", null);
      assertThat(del.status()).as(del.body().toString()).isEqualTo(204);
      assertThat(ok(a, "GET", "/api/v1/cgs", null)).isEmpty();
      assertThat(ok(b.node, "GET", "/api/v1/cgs", null)).isEmpty();
      // Volumes stay, served locally again.
      write(b.node, 0, pattern(5, 512));
      assertThat(ok(b.node, "GET", "/api/v1/volumes/vol1", null).path("name").asText())
          .isEqualTo("vol1");

      // The twin exists now with the same identity: accepted; the peer leads once in sync.
      ok(
          a,
          "POST",
          "/api/v1/cgs",
          "{\"name\":\"cg2\",\"policy\":\"active-active\",\"peer\":\"site-b\","
              + "\"volumes\":[\"vol1\"],\"leader\":\"peer\"}");
      await("B leads cg2", () -> role(b.node, "cg2", "LEADER") && role(a, "cg2", "FOLLOWER"));
      assertThat(read(b.node, 4096, data.length)).isEqualTo(data);
    }
  }

  /**
   * Creates group cg1 of vol1 at {@code a} with its peer site-b and waits until {@code b} serves
   * and {@code a} is in sync.
   */
  static void createCg1(Node a, Node b) throws Exception {
    ok(
        a,
        "POST",
        "/api/v1/cgs",
        "{\"name\":\"cg1\",\"policy\":\"active-active\",\"peer\":\"site-b\","
            + "\"volumes\":[\"vol1\"]}");
    await("B serving", () -> state(b, "availability", "SERVING"));
    await("A in sync", () -> state(a, "syncState", "IN_SYNC"));
  }

  /** A site the test can restart on the same data directory (its replication port changes). */
  static final class Restartable implements AutoCloseable {
    final SiteConfig config;
    Node node;

    Restartable(SiteConfig config) throws IOException {
      this.config = config;
      this.node = Node.start(config);
    }

    void restart() throws IOException {
      node.close();
      node = Node.start(config);
    }

    @Override
    public void close() {
      node.close();
    }
  }

  /**
   * Adding volumes (refused on an identity clash at the peer), verify, settings, a guarded volume
   * delete, switchover and a restart of the (then) leader.
   */
  private static void dayTwo(Node a, Restartable b, TcpRelay relay) throws Exception {
    ok(a, "POST", "/api/v1/volumes", "{\"name\":\"vol2\",\"size\":" + VOLUME_BYTES + "}");
    ok(b.node, "POST", "/api/v1/volumes", "{\"name\":\"vol2\",\"size\":" + VOLUME_BYTES + "}");
    Reply clash = call(a, "POST", "/api/v1/cgs/cg1/volumes", "{\"volume\":\"vol2\"}");
    assertThat(clash.status()).isEqualTo(409);
    assertThat(clash.body().path("detail").asText()).contains("vol2").contains("another identity");
    ok(b.node, "DELETE", "/api/v1/volumes/vol2", null);
    Volume vol2 = a.served("vol2").orElseThrow();
    byte[] data2 = pattern(6, 4096);
    vol2.write(5 << 20, ByteBuffer.wrap(data2), true);
    JsonNode added = ok(a, "POST", "/api/v1/cgs/cg1/volumes", "{\"volume\":\"vol2\"}");
    assertThat(added.path("volumes")).hasSize(2);
    await("B serving both", () -> state(b.node, "availability", "SERVING"));
    ByteBuffer got = ByteBuffer.allocate(4096);
    b.node.served("vol2").orElseThrow().read(5 << 20, got);
    assertThat(got.array()).isEqualTo(data2);

    JsonNode verify = ok(a, "POST", "/api/v1/cgs/cg1/verify", "{}");
    assertThat(verify.path("regionsCompared").asLong()).isPositive();
    assertThat(verify.path("differingRegions")).isEmpty();
    JsonNode patched = ok(a, "PATCH", "/api/v1/cgs/cg1", "{\"resyncRate\":\"50MiB\"}");
    assertThat(patched.path("resyncRate").asLong()).isEqualTo(50L << 20);
    // A settings change keeps the session: the follower keeps serving.
    assertThat(cg(b.node).path("availability").asText()).isEqualTo("SERVING");
    assertThat(call(a, "PATCH", "/api/v1/cgs/cg1", "{\"resyncRate\":0}").status()).isEqualTo(400);
    assertThat(call(a, "DELETE", "/api/v1/volumes/vol1", null).status()).isEqualTo(409);

    await("in sync after the settings change", () -> state(a, "syncState", "IN_SYNC"));
    assertThat(call(b.node, "POST", "/api/v1/cgs/cg1/switchover", null).status()).isEqualTo(409);
    JsonNode switched = ok(a, "POST", "/api/v1/cgs/cg1/switchover", null);
    assertThat(switched.path("role").asText()).isEqualTo("FOLLOWER");
    await("B leads", () -> state(b.node, "role", "LEADER"));

    b.restart();
    relay.retarget(replicationAddress(b.node));
    await("B leads and serves after its restart", () -> state(b.node, "availability", "SERVING"));
    await("A serves again", () -> state(a, "availability", "SERVING"));
    assertThat(cg(b.node).path("role").asText()).isEqualTo("LEADER");
    int newPort = b.node.portals().get(0).port();
    await(
        "A's discovery lists B's new portal",
        () ->
            a.catalog().discover("iqn.2026-01.test:host1").stream()
                .anyMatch(
                    t ->
                        t.name().equals(b.node.defaultTarget())
                            && t.portals().stream().anyMatch(p -> p.port() == newPort)));
    write(b.node, 6 << 20, data2);
    assertThat(read(a, 6 << 20, data2.length)).isEqualTo(data2);
  }

  static InetSocketAddress replicationAddress(Node n) {
    HostPort hp = HostPort.parse(n.replicationAddress());
    return new InetSocketAddress(hp.host(), hp.port());
  }

  /** Pairs A with B through the relay and waits for the link. */
  static void pair(Node a, Node b, TcpRelay relay) throws Exception {
    String pass = ok(b, "POST", "/api/v1/peers/invitations", null).path("passphrase").asText();
    ok(
        a,
        "POST",
        "/api/v1/peers",
        "{\"address\":\"" + relay.address() + "\",\"passphrase\":\"" + pass + "\"}");
    await("link up", () -> PeerApiTest.linkState(a, "site-b").equals("up"));
  }

  /**
   * The follower of a cut link is promoted by force: it leads and serves, the event warns, and when
   * the link heals the old leader is fenced and resynced from it.
   */
  @Test
  void forcedFailoverFencesTheOldLeader() throws Exception {
    try (Node b = Node.start(config(dir, "site-b", false, 2));
        TcpRelay relay = new TcpRelay(replicationAddress(b));
        Node a = Node.start(config(dir, "site-a", true, 1))) {
      List<NodeEvent> eventsB = new CopyOnWriteArrayList<>();
      b.addEventListener(eventsB::add);
      pair(a, b, relay);
      ok(a, "POST", "/api/v1/volumes", "{\"name\":\"vol1\",\"size\":" + VOLUME_BYTES + "}");
      relay.cut();
      await("link down", () -> PeerApiTest.linkState(a, "site-b").equals("down"));
      Reply unreachable =
          call(
              a,
              "POST",
              "/api/v1/cgs",
              "{\"name\":\"cg1\",\"policy\":\"active-active\",\"peer\":\"site-b\","
                  + "\"volumes\":[\"vol1\"]}");
      assertThat(unreachable.status()).isEqualTo(503);
      assertThat(ok(a, "GET", "/api/v1/cgs", null)).isEmpty();
      assertThat(ok(b, "GET", "/api/v1/cgs", null)).isEmpty();
      relay.heal();
      await("link up again", () -> PeerApiTest.linkState(a, "site-b").equals("up"));
      ok(
          a,
          "POST",
          "/api/v1/cgs",
          "{\"name\":\"cg1\",\"policy\":\"active-active\",\"peer\":\"site-b\","
              + "\"volumes\":[\"vol1\"]}");
      await("B serving", () -> state(b, "availability", "SERVING"));

      relay.cut();
      await("B unavailable", () -> state(b, "availability", "UNAVAILABLE"));
      Reply unforced = call(b, "POST", "/api/v1/cgs/cg1/failover", "{\"reason\":\"drill\"}");
      assertThat(unforced.status()).isEqualTo(400);
      assertThat(unforced.body().path("detail").asText()).contains("LOST");
      JsonNode promoted =
          ok(b, "POST", "/api/v1/cgs/cg1/failover", "{\"force\":true,\"reason\":\"site-a lost\"}");
      assertThat(promoted.path("role").asText()).isEqualTo("LEADER");
      await("B serves alone", () -> state(b, "availability", "SERVING"));
      assertThat(eventsB)
          .anyMatch(
              e -> e.type().equals("cg.forced-failover") && e.level().equals(NodeEvent.WARNING));
      byte[] data = pattern(9, 4096);
      write(b, 0, data);

      relay.heal();
      await("A follows", () -> state(a, "role", "FOLLOWER"));
      await("A serves again", () -> state(a, "availability", "SERVING"));
      assertThat(read(a, 0, data.length)).isEqualTo(data);
    }
  }

  /** A host's site makes that site's group active/optimized for it, the other non-optimized. */
  private static void proximity(Node a) throws IOException {
    String iqn = "iqn.2026-01.test:h1";
    JsonNode h =
        ok(
            a,
            "POST",
            "/api/v1/hosts",
            "{\"name\":\"h1\",\"iqns\":[\"" + iqn + "\"],\"site\":\"site-a\"}");
    assertThat(h.path("site").asText()).isEqualTo("site-a");
    UnitAlua view = a.unit("vol1").orElseThrow().alua();
    assertThat(view.state(iqn, 1)).isEqualTo(AluaState.ACTIVE_OPTIMIZED);
    assertThat(view.state(iqn, 2)).isEqualTo(AluaState.ACTIVE_NON_OPTIMIZED);
    ok(a, "PATCH", "/api/v1/hosts/h1", "{\"site\":\"all\"}");
    assertThat(view.state(iqn, 2)).isEqualTo(AluaState.ACTIVE_OPTIMIZED);
    Reply bad = call(a, "PATCH", "/api/v1/hosts/h1", "{\"site\":\"no where\"}");
    assertThat(bad.status()).isEqualTo(400);
    ok(a, "DELETE", "/api/v1/hosts/h1", null);
  }

  /** Refusals with a clear message; the node keeps running. */
  private static void badRequests(Node a) throws IOException {
    Reply r =
        call(
            a,
            "POST",
            "/api/v1/cgs",
            "{\"name\":\"x\",\"policy\":\"async\",\"peer\":\"site-b\",\"volumes\":[\"vol1\"]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body().path("detail").asText()).contains("active-active");
    r =
        call(
            a,
            "POST",
            "/api/v1/cgs",
            "{\"name\":\"x\",\"policy\":\"active-active\",\"peer\":\"nobody\",\"volumes\":[\"vol1\"]}");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body().path("detail").asText()).contains("nobody");
    r =
        call(
            a,
            "POST",
            "/api/v1/cgs",
            "{\"name\":\"x\",\"policy\":\"active-active\",\"peer\":\"site-b\",\"volumes\":[\"nope\"]}");
    assertThat(r.status()).isEqualTo(404);
    r = call(a, "POST", "/api/v1/cgs", "{\"name\":");
    assertThat(r.status()).isEqualTo(400);
    r =
        call(
            a,
            "POST",
            "/api/v1/cgs",
            "{\"name\":\"x\",\"policy\":\"active-active\",\"peer\":\"site-b\",\"volumes\":[\"vol1\"],\"leader\":\"both\"}");
    assertThat(r.status()).isEqualTo(400);
    r = call(a, "POST", "/api/v1/cgs", "{\"name\":\"x\",\"bogus\":1}");
    assertThat(r.status()).isEqualTo(400);
    r = call(a, "GET", "/api/v1/cgs/none", null);
    assertThat(r.status()).isEqualTo(404);
    r = call(a, "POST", "/api/v1/cgs/none/failover", "{}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(call(a, "GET", "/api/v1/status", null).status()).isEqualTo(200);
  }
}
