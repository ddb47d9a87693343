package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Calls a site's REST API; any non-2xx answer becomes an {@link ApiError} with the server's detail.
 */
final class ApiClient {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient http;
  private final String base;
  private final String token;
  private final ObjectMapper json;

  ApiClient(String base, String token, ObjectMapper json) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
    this.json = json;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  JsonNode get(String path) throws IOException {
    return send("GET", path, null);
  }

  JsonNode post(String path, Object body) throws IOException {
    return send("POST", path, body);
  }

  JsonNode patch(String path, Object body) throws IOException {
    return send("PATCH", path, body);
  }

  JsonNode put(String path, Object body) throws IOException {
    return send("PUT", path, body);
  }

  JsonNode delete(String path) throws IOException {
    return send("DELETE", path, null);
  }

  /** Escapes one path segment (volume names, portal addresses with brackets). */
  static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private JsonNode send(String method, String path, Object body) throws IOException {
    URI uri;
    try {
      uri = URI.create(base + "/api/v1" + path);
    } catch (IllegalArgumentException e) {
      throw new UsageError("bad API URL '" + base + "': " + e.getMessage());
    }
    if (uri.getScheme() == null
        || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
      throw new UsageError("bad API URL '" + base + "': expected http://host:port");
    }
    HttpRequest.Builder req =
        HttpRequest.newBuilder(uri)
            .timeout(TIMEOUT)
            .header("Authorization", "Bearer " + token)
            .header("Accept", "application/json");
    if (body == null) {
      req.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      req.header("Content-Type", "application/json")
          .method(
              method,
              HttpRequest.BodyPublishers.ofByteArray(
                  json.writer()
                      .without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                      .writeValueAsBytes(body)));
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new ApiError(
          0,
          "cannot reach the Duet API at " + base + " (is the site running? set --api or DUET_API)");
    } catch (HttpTimeoutException e) {
      throw new ApiError(
          0, "the Duet API at " + base + " did not answer within " + TIMEOUT.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    String text = resp.body() == null ? "" : resp.body();
    if (resp.statusCode() / 100 != 2) {
      throw ApiError.from(resp.statusCode(), text, json);
    }
    if (text.isBlank()) {
      return json.nullNode();
    }
    try {
      return json.readTree(text);
    } catch (IOException e) {
      throw new ApiError(
          resp.statusCode(), "the API answered with something that is not JSON: " + e.getMessage());
    }
  }

  /** An error the API returned (or a failure to reach it): exit code 1. */
  static final class ApiError extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    ApiError(int status, String message) {
      super(message);
      this.status = status;
    }

    static ApiError from(int status, String body, ObjectMapper json) {
      String detail = body.strip();
      try {
        JsonNode n = json.readTree(body);
        if (n != null && !n.has("detail") && n.has("error")) {
          // The replication endpoints answer {"error": "..."} with the whole explanation there.
          detail = n.path("error").asText();
        } else if (n != null && n.has("detail")) {
          detail = n.path("detail").asText();
          String error = n.path("error").asText("");
          if (!error.isEmpty() && detail.isEmpty()) {
            detail = error;
          }
        }
      } catch (IOException e) {
        // not JSON: show the raw text
      }
      if (detail.length() > 500) {
        detail = detail.substring(0, 500) + "...";
      }
      return new ApiError(status, detail + " (HTTP " + status + ")");
    }

    int status() {
      return status;
    }
  }
}
