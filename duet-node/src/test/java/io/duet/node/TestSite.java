package io.duet.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/** A node on ephemeral loopback ports in a temp directory, with a small HTTP client for its API. */
final class TestSite implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** An answer: status and parsed body (null node for empty bodies). */
  record Reply(int status, JsonNode body) {}

  final Path dataDir;
  Node node;

  TestSite(Path dir) throws IOException {
    this.dataDir = dir.resolve("site-a");
    this.node = Node.start(config());
  }

  SiteConfig config() {
    return SiteConfig.defaults("site-a", dataDir)
        .withPortals(List.of(new HostPort("127.0.0.1", 0)))
        .withApi(new HostPort("127.0.0.1", 0));
  }

  /** Closes the node and starts a new one on the same data directory. */
  void restart() throws IOException {
    node.close();
    node = Node.start(config());
  }

  Reply call(String method, String path, String body) throws IOException {
    return call(method, path, body, "Bearer " + node.token());
  }

  Reply call(String method, String path, String body, String authorization) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(node.apiUrl() + path))
            .timeout(Duration.ofSeconds(20))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode parsed = r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
      return new Reply(r.statusCode(), parsed);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  JsonNode ok(String method, String path, String body) throws IOException {
    Reply r = call(method, path, body);
    if (r.status() / 100 != 2) {
      throw new AssertionError(method + " " + path + " -> " + r.status() + " " + r.body());
    }
    return r.body();
  }

  @Override
  public void close() {
    node.close();
  }
}
