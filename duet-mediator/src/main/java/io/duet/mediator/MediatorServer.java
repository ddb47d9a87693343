package io.duet.mediator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.json.JavalinJackson;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.LoggerFactory;

/**
 * A running mediator: loads (or creates) its CA, users, site bindings and relationships from the
 * data directory, then serves the REST API over HTTPS only. At first start it creates the user
 * {@value #INITIAL_USER} with a random password in {@code secrets/initial-password}.
 */
public final class MediatorServer implements AutoCloseable {
  /** The user created at first start. */
  public static final String INITIAL_USER = "duet";

  static final String INITIAL_PASSWORD_FILE = "initial-password";
  static final long MAX_REQUEST_BYTES = 64 << 10;
  private static final char[] STORE_PASSWORD = "duet".toCharArray();

  private final MediatorConfig config;
  private final Javalin app;
  private final SiteBindings bindings;
  private final String url;

  private MediatorServer(MediatorConfig config, Javalin app, SiteBindings bindings, String url) {
    this.config = config;
    this.app = app;
    this.bindings = bindings;
    this.url = url;
  }

  /** Starts a mediator on the system clock. */
  public static MediatorServer start(MediatorConfig config) throws IOException {
    return start(config, MediatorClock.SYSTEM, new SecureRandom(), Credentials.ITERATIONS_DEFAULT);
  }

  static MediatorServer start(
      MediatorConfig config, MediatorClock clock, SecureRandom random, int pbkdf2Iterations)
      throws IOException {
    Path dataDir = config.dataDir();
    Files.createDirectories(dataDir);
    MediatorCa ca = MediatorCa.loadOrCreate(dataDir, random, clock.now());
    Credentials credentials =
        Credentials.open(
            dataDir, random, clock, config.maxFailedLogins(), config.lockoutMs(), pbkdf2Iterations);
    if (credentials.isEmpty()) {
      createInitialUser(dataDir, credentials, random);
    }
    FailoverRules rules = new FailoverRules(config.leaseMs(), config.graceMs());
    MediatorState state = MediatorState.open(dataDir, rules, clock);
    SiteBindings bindings = SiteBindings.open(dataDir);
    try {
      return serve(config, clock, random, ca, credentials, state, bindings);
    } catch (IOException | RuntimeException e) {
      bindings.close();
      throw e;
    }
  }

  private static MediatorServer serve(
      MediatorConfig config,
      MediatorClock clock,
      SecureRandom random,
      MediatorCa ca,
      Credentials credentials,
      MediatorState state,
      SiteBindings bindings)
      throws IOException {
    List<X509Certificate> clientCas = new ArrayList<>();
    for (Path p : config.clientCas()) {
      clientCas.addAll(MediatorCa.readPem(p));
    }
    MediatorCa.Issued server = ca.issueServer(names(config), random, clock.now());
    SSLContext tls = tlsContext(server, clientCas, random);
    ObjectMapper json = new ObjectMapper();
    StatusPage page = new StatusPage(clock, config.leaseMs(), config.graceMs());
    MediatorApi api = new MediatorApi(state, credentials, bindings, json, page);
    Javalin app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.http.maxRequestSize = MAX_REQUEST_BYTES;
              cfg.concurrency.useVirtualThreads = true;
              cfg.jsonMapper(new JavalinJackson(json, false));
              cfg.jetty.addConnector(
                  (jetty, http) -> {
                    // Sites reach the mediator by IP as often as by name: no SNI host check.
                    http.addCustomizer(new SecureRequestCustomizer(false, false, -1, false));
                    SslContextFactory.Server ssl = new SslContextFactory.Server();
                    ssl.setSslContext(tls);
                    ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
                    ssl.setWantClientAuth(!clientCas.isEmpty());
                    ServerConnector c =
                        new ServerConnector(
                            jetty,
                            new SslConnectionFactory(ssl, "http/1.1"),
                            new HttpConnectionFactory(http));
                    c.setHost(config.host());
                    c.setPort(config.port());
                    return c;
                  });
              api.routes(cfg);
            });
    try {
      app.start();
    } catch (RuntimeException e) {
      throw new IOException(
          "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
    }
    String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    String url = "https://" + host + ":" + app.port();
    page.url(url);
    return new MediatorServer(config, app, bindings, url);
  }

  private static void createInitialUser(Path dataDir, Credentials credentials, SecureRandom random)
      throws IOException {
    byte[] secret = new byte[18];
    random.nextBytes(secret);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    // The password file first: a crash before the users file just repeats this at next start.
    Path file = MediatorCa.secretsDir(dataDir).resolve(INITIAL_PASSWORD_FILE);
    Files.writeString(file, password + "\n", StandardCharsets.US_ASCII);
    credentials.setPassword(INITIAL_USER, password.toCharArray());
  }

  private static Set<String> names(MediatorConfig config) throws IOException {
    Set<String> names = new LinkedHashSet<>(config.tlsNames());
    String host = config.host();
    if (!host.equals("0.0.0.0") && !host.equals("::") && !host.isEmpty()) {
      names.add(host);
    } else {
      names.add(InetAddress.getLocalHost().getHostName());
    }
    names.add("localhost");
    names.add("127.0.0.1");
    names.add("::1");
    return names;
  }

  private static SSLContext tlsContext(
      MediatorCa.Issued server, List<X509Certificate> clientCas, SecureRandom random) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry(
          "server", server.key(), STORE_PASSWORD, new X509Certificate[] {server.certificate()});
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(ks, STORE_PASSWORD);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      for (int i = 0; i < clientCas.size(); i++) {
        trust.setCertificateEntry("client-ca-" + i, clientCas.get(i));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      TrustManager[] tms = clientCas.isEmpty() ? null : tmf.getTrustManagers();
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), tms, random);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the TLS context: " + e.getMessage(), e);
    }
  }

  /** The HTTPS base URL, e.g. {@code https://127.0.0.1:7090}. */
  public String url() {
    return url;
  }

  /** The CA certificate sites install to trust this mediator. */
  public Path caCertificateFile() {
    return config.dataDir().resolve(MediatorCa.CA_CERT_FILE);
  }

  /** Where the first start left the password of {@link #INITIAL_USER}. */
  public Path initialPasswordFile() {
    return config.dataDir().resolve(MediatorCa.SECRETS_DIR).resolve(INITIAL_PASSWORD_FILE);
  }

  /**
   * Creates or changes a user in the data directory of a mediator (for {@code duet mediator user});
   * durable on return. A running mediator reads users at start, so restart it after.
   */
  public static void setPassword(Path dataDir, String user, char[] password) throws IOException {
    Credentials.open(
            dataDir, new SecureRandom(), MediatorClock.SYSTEM, 1, 0, Credentials.ITERATIONS_DEFAULT)
        .setPassword(user, password);
  }

  /**
   * Binds a user (or, with {@code certificate}, a client certificate's subject) to a site in the
   * data directory of a stopped mediator, before its first request (for {@code duet mediator user
   * NAME --site UUID}); durable on return.
   *
   * @throws MediatorException {@link MediatorException.Kind#CONFLICT} while the mediator runs, or
   *     when the principal or the site is bound elsewhere
   */
  public static void bind(Path dataDir, String name, boolean certificate, UUID site)
      throws IOException {
    try (SiteBindings b = SiteBindings.open(dataDir)) {
      b.bind(new Principal(certificate, name), site);
    }
  }

  /**
   * Tells the data directory of a stopped mediator that it was restored from a backup (for {@code
   * duet mediator restored}): its records may lag what the sites did since the backup, and the only
   * witness of a newer epoch may be a site that is down, so every record decides nothing (no
   * takeover, survivor or lease beyond what heartbeats carry) until both of its sites have reported
   * their epochs again; then it settles on the highest. Durable on return.
   *
   * @return how many records
   * @throws MediatorException {@link MediatorException.Kind#CONFLICT} while the mediator runs
   */
  public static int restoredFromBackup(Path dataDir) throws IOException {
    // The bindings' lock is the running mediator's: holding it proves the mediator is stopped.
    SiteBindings lock = SiteBindings.open(dataDir);
    try {
      MediatorState state =
          MediatorState.open(dataDir, new FailoverRules(1, 0), MediatorClock.SYSTEM);
      return state.distrustAll();
    } finally {
      lock.close();
    }
  }

  /**
   * Frees a user (or a client certificate's subject) from the site it acts for, in the data
   * directory of a stopped mediator (for {@code duet mediator user NAME --unbind}); its next
   * request binds it again. Durable on return.
   *
   * @return the site it was bound to, if any
   * @throws MediatorException {@link MediatorException.Kind#CONFLICT} while the mediator runs
   */
  public static Optional<UUID> unbind(Path dataDir, String name, boolean certificate)
      throws IOException {
    try (SiteBindings b = SiteBindings.open(dataDir)) {
      return b.unbind(new Principal(certificate, name));
    }
  }

  @Override
  public void close() {
    try {
      app.stop();
    } finally {
      try {
        bindings.close();
      } catch (IOException e) {
        // Only the lock is released here (the bindings are durable): the process exit frees it.
        LoggerFactory.getLogger(MediatorServer.class).warn("cannot release the bindings lock", e);
      }
    }
  }
}
