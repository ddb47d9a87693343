package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerApiTest {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  record Reply(int status, JsonNode body) {}

  static SiteConfig config(Path dir, String name, boolean replication) {
    return SiteConfig.defaults(name, dir.resolve(name))
        .withPortals(List.of(new HostPort("127.0.0.1", 0)))
        .withApi(new HostPort("127.0.0.1", 0))
        .withReplication(
            replication ? Optional.of(new HostPort("127.0.0.1", 0)) : Optional.empty());
  }

  static Reply call(Node node, String method, String path, String body) throws IOException {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create(node.apiUrl() + path))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + node.token())
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    try {
      HttpResponse<String> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
      return new Reply(
          resp.statusCode(),
          resp.body().isBlank() ? TestSite.JSON.nullNode() : TestSite.JSON.readTree(resp.body()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  static void await(String what, BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  static String linkState(Node node, String peer) {
    try {
      return call(node, "GET", "/api/v1/peers/" + peer, null).body().path("link").asText();
    } catch (IOException e) {
      return "error";
    }
  }

  @Test
  void inviteCreateListStatusAndDelete() throws Exception {
    try (Node a = Node.start(config(dir, "site-a", true));
        Node b = Node.start(config(dir, "site-b", true))) {
      List<NodeEvent> eventsA = new CopyOnWriteArrayList<>();
      a.addEventListener(eventsA::add);
      assertThat(a.replicationAddress()).startsWith("127.0.0.1:");

      Reply wrong =
          call(
              a,
              "POST",
              "/api/v1/peers",
              "{\"address\":\"" + b.replicationAddress() + "\",\"passphrase\":\"x\"}");
      assertThat(wrong.status()).isEqualTo(409);
      assertThat(wrong.body().path("detail").asText()).contains("no open invitation");

      Reply inv = call(b, "POST", "/api/v1/peers/invitations", null);
      assertThat(inv.status()).isEqualTo(201);
      String pass = inv.body().path("passphrase").asText();
      assertThat(inv.body().path("address").asText()).isEqualTo(b.replicationAddress());

      Reply bad =
          call(
              a,
              "POST",
              "/api/v1/peers",
              "{\"address\":\"" + b.replicationAddress() + "\",\"passphrase\":\"00000-00000\"}");
      assertThat(bad.status()).isEqualTo(409);
      assertThat(bad.body().path("detail").asText()).contains("wrong passphrase");

      Reply created =
          call(
              a,
              "POST",
              "/api/v1/peers",
              "{\"address\":\"" + b.replicationAddress() + "\",\"passphrase\":\"" + pass + "\"}");
      assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
      assertThat(created.body().path("name").asText()).isEqualTo("site-b");
      assertThat(created.body().path("uuid").asText()).isEqualTo(b.uuid());
      assertThat(created.body().path("fingerprint").asText()).hasSize(64);

      JsonNode atB = call(b, "GET", "/api/v1/peers", null).body();
      assertThat(atB).hasSize(1);
      assertThat(atB.get(0).path("name").asText()).isEqualTo("site-a");
      assertThat(atB.get(0).path("address").asText()).isEqualTo(a.replicationAddress());

      await(
          "link up at both",
          () -> linkState(a, "site-b").equals("up") && linkState(b, "site-a").equals("up"));
      JsonNode status = call(a, "GET", "/api/v1/status", null).body();
      assertThat(status.path("replication").asText()).isEqualTo(a.replicationAddress());
      assertThat(status.path("peers").get(0).path("link").asText()).isEqualTo("up");
      await("events", () -> eventsA.stream().anyMatch(e -> e.type().equals("peer.link.up")));
      assertThat(eventsA)
          .extracting(NodeEvent::type)
          .contains("peer.paired", "peer.pairing.failed");

      assertThat(call(b, "DELETE", "/api/v1/peers/nobody", null).status()).isEqualTo(404);
      assertThat(call(a, "DELETE", "/api/v1/peers/site-b", null).status()).isEqualTo(204);
      assertThat(call(a, "GET", "/api/v1/peers", null).body()).isEmpty();
      await("b sees the link down", () -> linkState(b, "site-a").equals("down"));
    }
  }

  @Test
  void peersSurviveARestart() throws Exception {
    String pass;
    try (Node a = Node.start(config(dir, "site-a", true));
        Node b = Node.start(config(dir, "site-b", true))) {
      pass = call(b, "POST", "/api/v1/peers/invitations", null).body().path("passphrase").asText();
      assertThat(
              call(
                      a,
                      "POST",
                      "/api/v1/peers",
                      "{\"address\":\""
                          + b.replicationAddress()
                          + "\",\"passphrase\":\""
                          + pass
                          + "\"}")
                  .status())
          .isEqualTo(201);
      await("up", () -> linkState(a, "site-b").equals("up"));
    }
    // The ports were free ones and change on restart, so check the durable record, not the link.
    try (Node a = Node.start(config(dir, "site-a", true))) {
      JsonNode peers = call(a, "GET", "/api/v1/peers", null).body();
      assertThat(peers).hasSize(1);
      assertThat(peers.get(0).path("name").asText()).isEqualTo("site-b");
    }
  }

  @Test
  void withoutAReplicationAddressPeeringIsRefusedClearly() throws Exception {
    try (Node a = Node.start(config(dir, "site-a", false))) {
      Reply r = call(a, "POST", "/api/v1/peers/invitations", null);
      assertThat(r.status()).isEqualTo(409);
      assertThat(r.body().path("detail").asText()).contains("replication: HOST:PORT");
      r = call(a, "POST", "/api/v1/peers", "{\"address\":\"127.0.0.1:1\",\"passphrase\":\"p\"}");
      assertThat(r.status()).isEqualTo(409);
      assertThat(call(a, "GET", "/api/v1/peers", null).body()).isEmpty();
      assertThat(call(a, "GET", "/api/v1/status", null).body().path("replication").asText())
          .isEmpty();
      assertThat(call(a, "POST", "/api/v1/peers", "{\"address\":\"1\"}").status()).isEqualTo(400);
    }
  }

  @Test
  void badPeerRequestsAreRefusedWithoutServerErrors() throws Exception {
    try (Node a = Node.start(config(dir, "site-a", true))) {
      String[] bodies = {
        "{}",
        "{\"address\":\"nohostport\",\"passphrase\":\"p\"}",
        "{\"address\":\"127.0.0.1:0\",\"passphrase\":\"p\"}",
        "{\"address\":\"127.0.0.1:1\",\"passphrase\":\"p\",\"x\":1}",
        "[1,2]",
        "not json"
      };
      for (String body : bodies) {
        Reply r = call(a, "POST", "/api/v1/peers", body);
        assertThat(r.status()).as(body).isBetween(400, 499);
        assertThat(r.body().path("detail").asText()).isNotBlank();
      }
      int port;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Reply r =
          call(
              a,
              "POST",
              "/api/v1/peers",
              "{\"address\":\"127.0.0.1:" + port + "\",\"passphrase\":\"p\"}");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body().path("detail").asText()).contains("cannot reach");
    }
  }
}
