package io.duet.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small client for a site's REST API, as the end-to-end tests use it. */
public final class DuetApi {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A non-2xx answer. */
  public static final class ApiException extends IOException {
    private static final long serialVersionUID = 1L;

    public final int status;

    ApiException(int status, String body) {
      super("HTTP " + status + ": " + body);
      this.status = status;
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final String token;

  public DuetApi(String base, String token) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
  }

  public JsonNode get(String path) throws IOException {
    return send("GET", path, null);
  }

  public JsonNode post(String path, String json) throws IOException {
    return send("POST", path, json);
  }

  public JsonNode put(String path, String json) throws IOException {
    return send("PUT", path, json);
  }

  public JsonNode patch(String path, String json) throws IOException {
    return send("PATCH", path, json);
  }

  public JsonNode delete(String path) throws IOException {
    return send("DELETE", path, null);
  }

  /** Sends a request and returns the raw status and body without throwing on errors. */
  public HttpResponse<String> raw(String method, String path, String body, boolean withToken)
      throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (withToken) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private JsonNode send(String method, String path, String body) throws IOException {
    HttpResponse<String> r = raw(method, path, body, true);
    if (r.statusCode() / 100 != 2) {
      throw new ApiException(r.statusCode(), r.body());
    }
    return r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
  }
}
