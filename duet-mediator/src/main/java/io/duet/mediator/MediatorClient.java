package io.duet.mediator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.mediator.MediatorException.Kind;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What a site uses to talk to the mediator: HTTPS trusting only the mediator's CA certificate,
 * authenticated by user/password or a client certificate, every call bounded by a timeout. Each
 * site-facing call answers a {@link Decision} (granted or refused, with the recorded state);
 * anything else is a {@link MediatorException} whose kind says what went wrong ({@link
 * Kind#UNREACHABLE} for a mediator that did not answer in time). Thread-safe.
 */
public final class MediatorClient implements AutoCloseable {
  /** Default bound on one call: well inside a 5 s lease. */
  public static final Duration TIMEOUT_DEFAULT = Duration.ofSeconds(2);

  private static final char[] STORE_PASSWORD = "duet".toCharArray();

  private final URI base;
  private final HttpClient http;
  private final String authorization;
  private final Duration timeout;
  private final ObjectMapper json = new ObjectMapper();

  private MediatorClient(URI base, SSLContext tls, String authorization, Duration timeout) {
    this.base = URI.create(Objects.requireNonNull(base, "base").toString().replaceAll("/+$", ""));
    this.authorization = authorization;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.http =
        HttpClient.newBuilder()
            .sslContext(tls)
            .connectTimeout(timeout)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  /**
   * A client authenticating with a user and password.
   *
   * @param base the mediator's URL, e.g. {@code https://mediator.example.com:7090}
   * @param caCertificate the mediator's {@code ca.crt}
   * @param timeout bound on connecting and on each call
   */
  public static MediatorClient withPassword(
      URI base, Path caCertificate, String user, String password, Duration timeout)
      throws IOException {
    String token =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    return new MediatorClient(base, tls(caCertificate, null), "Basic " + token, timeout);
  }

  /**
   * A client authenticating with a client certificate chain (signed by a CA the mediator allows).
   */
  public static MediatorClient withCertificate(
      URI base, Path caCertificate, PrivateKey key, List<X509Certificate> chain, Duration timeout)
      throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("client", key, STORE_PASSWORD, chain.toArray(X509Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(ks, STORE_PASSWORD);
      return new MediatorClient(base, tls(caCertificate, kmf.getKeyManagers()), null, timeout);
    } catch (GeneralSecurityException e) {
      throw new IOException("unusable client certificate: " + e.getMessage(), e);
    }
  }

  static SSLContext tls(Path caCertificate, KeyManager[] keys) throws IOException {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      List<X509Certificate> cas = MediatorCa.readPem(caCertificate);
      for (int i = 0; i < cas.size(); i++) {
        trust.setCertificateEntry("mediator-ca-" + i, cas.get(i));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keys, tmf.getTrustManagers(), new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot trust " + caCertificate + ": " + e.getMessage(), e);
    }
  }

  /** Registers the relationship, or confirms it (either site may call; repeats are harmless). */
  public RelationshipView register(UUID group, UUID siteA, UUID siteB, UUID leader, long epoch)
      throws MediatorException {
    ObjectNode body =
        json.createObjectNode()
            .put("siteA", siteA.toString())
            .put("siteB", siteB.toString())
            .put("leader", leader.toString())
            .put("epoch", epoch);
    return read(call("PUT", path(group), body).body(), RelationshipView.class);
  }

  /** The recorded state of a relationship. */
  public RelationshipView relationship(UUID group) throws MediatorException {
    return read(call("GET", path(group), null).body(), RelationshipView.class);
  }

  /** Every relationship this mediator records. */
  public List<RelationshipView> relationships() throws MediatorException {
    String body = call("GET", "/api/v1/relationships", null).body();
    return List.of(read(body, RelationshipView[].class));
  }

  /** Forgets a relationship (its group was deleted). */
  public void remove(UUID group) throws MediatorException {
    call("DELETE", path(group), null);
  }

  /** Reports this site alive with its view; a stale site learns the record from the answer. */
  public Decision heartbeat(UUID group, UUID site, long epoch, UUID leader, boolean inSync)
      throws MediatorException {
    ObjectNode body = siteEpoch(site, epoch).put("leader", leader.toString()).put("inSync", inSync);
    return decide(group, "heartbeat", body);
  }

  /** The leader renews its lease (it counts the lease from before this call). */
  public Decision renewLease(UUID group, UUID site, long epoch) throws MediatorException {
    return decide(group, "lease", siteEpoch(site, epoch));
  }

  /** The leader records that it goes on alone: out of sync, survivor = leader, epoch + 1. */
  public Decision outOfSync(UUID group, UUID site, long epoch) throws MediatorException {
    return decide(group, "out-of-sync", siteEpoch(site, epoch));
  }

  /** The follower asks to go on alone; refused (with the time to wait) while the lease runs. */
  public Decision requestTakeover(UUID group, UUID site, long epoch) throws MediatorException {
    return decide(group, "takeover", siteEpoch(site, epoch));
  }

  /** Records that the sites pre-elected their leader while it cannot reach the mediator. */
  public Decision preElect(UUID group, UUID site, long epoch) throws MediatorException {
    return decide(group, "pre-election", siteEpoch(site, epoch));
  }

  /** Records an operator's forced failover to {@code site}; the answer has the epoch to use. */
  public Decision forcedFailover(UUID group, UUID site, long epoch, String reason)
      throws MediatorException {
    return decide(group, "forced-failover", siteEpoch(site, epoch).put("reason", reason));
  }

  /** Whether the mediator answers its health check within the timeout. */
  public boolean healthy() {
    try {
      checkHealth();
      return true;
    } catch (MediatorException e) {
      return false;
    }
  }

  /**
   * Calls the health check (no credentials needed), so a site being configured can tell the
   * operator why the mediator cannot be used: not reachable, or its certificate not signed by the
   * given CA ({@link Kind#UNREACHABLE} with the TLS error as the cause).
   */
  public void checkHealth() throws MediatorException {
    call("GET", "/api/v1/health", null);
  }

  private ObjectNode siteEpoch(UUID site, long epoch) {
    return json.createObjectNode().put("site", site.toString()).put("epoch", epoch);
  }

  private static String path(UUID group) {
    return "/api/v1/relationships/" + group;
  }

  private Decision decide(UUID group, String verb, ObjectNode body) throws MediatorException {
    HttpResponse<String> r = call("POST", path(group) + "/" + verb, body);
    return read(r.body(), Decision.class);
  }

  /** Sends one request; a refused decision (409 with a decision body) counts as an answer. */
  private HttpResponse<String> call(String method, String path, JsonNode body)
      throws MediatorException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(timeout)
            .header("Accept", "application/json");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    }
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new MediatorException(
          Kind.UNREACHABLE, "mediator " + base + " did not answer: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MediatorException(Kind.UNREACHABLE, "interrupted while calling the mediator", e);
    } catch (IllegalArgumentException e) {
      // The JDK client refuses a URL it cannot connect to (no host it can parse) this way.
      throw new MediatorException(
          Kind.UNREACHABLE, "mediator " + base + " is not reachable: " + e, e);
    }
    int status = r.statusCode();
    if (status / 100 == 2 || (status == 409 && isDecision(r.body()))) {
      return r;
    }
    throw new MediatorException(Kind.ofStatus(status), detail(r));
  }

  private boolean isDecision(String body) {
    try {
      JsonNode n = json.readTree(body);
      return n != null && n.has("granted");
    } catch (IOException e) {
      return false;
    }
  }

  private String detail(HttpResponse<String> r) {
    try {
      JsonNode n = json.readTree(r.body());
      if (n != null && n.hasNonNull("detail")) {
        return n.get("detail").asText() + " (HTTP " + r.statusCode() + ")";
      }
    } catch (IOException e) {
      // not JSON: fall through to the raw status
    }
    return "HTTP " + r.statusCode() + " from the mediator";
  }

  private <T> T read(String body, Class<T> type) throws MediatorException {
    try {
      return json.readValue(body, type);
    } catch (IOException e) {
      throw new MediatorException(Kind.INTERNAL, "unreadable answer from the mediator: " + e, e);
    }
  }

  @Override
  public void close() {
    // Not close(): it waits for exchanges to finish, and one stuck on a dead mediator can hang.
    http.shutdownNow();
  }
}
