package io.duet.node.mediator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.mediator.MediatorClient;
import io.duet.mediator.MediatorException;
import io.duet.node.AdminException;
import io.duet.node.config.HostPort;
import io.duet.sync.Mediator;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This site's mediator: the settings an operator gave (checked against the running mediator before
 * they are saved), one HTTPS client shared by every consistency group, a {@link Mediator} per group
 * over it, and whether the mediator answers (every group call counts; when none was made for a
 * while, a light authenticated probe). Changing or removing the mediator tells the listeners (the
 * groups switch at once) and then closes the old client. Thread-safe.
 */
public final class SiteMediator implements AutoCloseable {
  /** How often an idle site checks that the mediator answers. */
  static final long PROBE_INTERVAL_MS = 5_000;

  /**
   * Bound on each call of the check before settings are saved: an operator waits for it, and a
   * first TLS handshake with a password check on a loaded machine can take seconds.
   */
  static final Duration CHECK_TIMEOUT = Duration.ofSeconds(10);

  /** A contact older than this no longer counts as connected. */
  static final long CONTACT_FRESH_MS = 3 * PROBE_INTERVAL_MS;

  /** Records a site event (type, subject, message). */
  @FunctionalInterface
  public interface Events {
    void record(String type, String subject, String message);
  }

  private static final Logger log = LoggerFactory.getLogger(SiteMediator.class);

  /** The mediator in use: its settings and its client. */
  private record Active(
      MediatorFiles.Saved saved, HostPort address, X509Certificate ca, MediatorClient client) {}

  private final MediatorFiles files;
  private final UUID siteId;
  private final Clock clock;
  private final Events events;
  private final Duration timeout;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService prober;
  private volatile Active active;

  // The last answer and the last failure, in clock millis (0: never).
  private volatile long lastOkMs;
  private volatile long lastFailMs;
  private volatile String lastError = "";

  private SiteMediator(
      MediatorFiles files, UUID siteId, Clock clock, Events events, Duration timeout) {
    this.files = files;
    this.siteId = siteId;
    this.clock = clock;
    this.events = events;
    this.timeout = timeout;
    this.prober =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("mediator-probe").factory());
  }

  /**
   * Loads the saved settings (if any) and starts using them; the mediator need not be up.
   *
   * @throws IOException when the saved settings are damaged (the message names the file)
   */
  public static SiteMediator open(
      Path dataDir, UUID siteId, ObjectMapper json, Clock clock, Events events) throws IOException {
    return open(dataDir, siteId, json, clock, events, MediatorClient.TIMEOUT_DEFAULT);
  }

  static SiteMediator open(
      Path dataDir, UUID siteId, ObjectMapper json, Clock clock, Events events, Duration timeout)
      throws IOException {
    MediatorFiles files = new MediatorFiles(dataDir, json);
    SiteMediator m = new SiteMediator(files, siteId, clock, events, timeout);
    Optional<MediatorFiles.Loaded> loaded = files.load();
    if (loaded.isPresent()) {
      MediatorFiles.Saved s = loaded.get().saved();
      MediatorRequest.Checked c;
      try {
        c = new MediatorRequest(s.address(), s.caCert(), s.user(), loaded.get().password()).check();
      } catch (AdminException e) {
        throw new IOException(
            dataDir.resolve(MediatorFiles.DIR) + ": saved mediator settings: " + e.getMessage(), e);
      }
      m.active = new Active(s, c.address(), c.ca().get(0), client(c, files.caCertFile(), timeout));
    }
    m.prober.scheduleWithFixedDelay(
        m::probe, PROBE_INTERVAL_MS, PROBE_INTERVAL_MS, TimeUnit.MILLISECONDS);
    return m;
  }

  /** Called (on the caller's thread) after the mediator was configured, changed or removed. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** The mediator's address, when one is configured. */
  public Optional<String> address() {
    Active a = active;
    return a == null ? Optional.empty() : Optional.of(a.address().toString());
  }

  public MediatorView view() {
    Active a = active;
    if (a == null) {
      return MediatorView.NONE;
    }
    long ok = lastOkMs;
    long fail = lastFailMs;
    boolean connected = ok > 0 && ok >= fail && clock.millis() - ok <= CONTACT_FRESH_MS;
    return new MediatorView(
        true,
        a.address().toString(),
        url(a.address()).toString(),
        a.saved().user(),
        a.ca().getSubjectX500Principal().getName(),
        sha256(a.ca()),
        connected,
        ok == 0 ? "" : Instant.ofEpochMilli(ok).toString(),
        fail > ok ? lastError : "");
  }

  /**
   * Checks the request, then that the mediator answers (its health check, then an authenticated
   * call), then saves the settings and switches every group to them.
   *
   * @throws AdminException INVALID for bad input, a CA that did not sign the mediator's certificate
   *     or refused credentials; UNAVAILABLE when the mediator does not answer
   */
  public MediatorView configure(MediatorRequest request) throws IOException {
    MediatorRequest.Checked c = request.check();
    lock.lock();
    try {
      Files.createDirectories(files.caCertFile().getParent());
      // The client reads its CA from a file: a scratch copy until the settings are saved.
      Path scratch = files.caCertFile().resolveSibling("ca-check.crt");
      Files.writeString(scratch, c.caPem(), StandardCharsets.US_ASCII);
      try (MediatorClient probe = client(c, scratch, CHECK_TIMEOUT)) {
        check(probe, c);
      } finally {
        Files.deleteIfExists(scratch);
      }
      MediatorFiles.Saved saved =
          new MediatorFiles.Saved(c.address().toString(), c.user(), c.caPem());
      files.save(saved, c.password());
      MediatorClient client = client(c, files.caCertFile(), timeout);
      Active old = active;
      active = new Active(saved, c.address(), c.ca().get(0), client);
      lastFailMs = 0;
      lastError = "";
      reached();
      changed(old);
      events.record(
          "mediator.configured",
          c.address().toString(),
          "mediator " + url(c.address()) + " configured (user " + c.user() + ")");
      return view();
    } finally {
      lock.unlock();
    }
  }

  /** Forgets the mediator: groups go on without automatic failover. */
  public void remove() throws IOException {
    lock.lock();
    try {
      Active old = active;
      if (old == null) {
        throw AdminException.notFound("no mediator is configured at this site");
      }
      files.delete();
      active = null;
      changed(old);
      events.record(
          "mediator.removed",
          old.address().toString(),
          "mediator "
              + url(old.address())
              + " removed: automatic failover is off (a lost leader needs a forced failover)");
    } finally {
      lock.unlock();
    }
  }

  private void changed(Active old) {
    for (Runnable l : listeners) {
      l.run();
    }
    // After the groups switched: a call still in flight on the old client fails, as it should.
    if (old != null) {
      old.client().close();
    }
  }

  /** The group's connection to the mediator, or {@link Mediator#NONE} when none is configured. */
  public Mediator forGroup(UUID group, UUID peer, UUID leaderHint) {
    Active a = active;
    if (a == null) {
      return Mediator.NONE;
    }
    return new GroupMediator(
        a.client(),
        group,
        siteId,
        peer,
        leaderHint,
        new GroupMediator.Contact() {
          @Override
          public void reached() {
            SiteMediator.this.reached();
          }

          @Override
          public void failed(String message) {
            SiteMediator.this.failed(message);
          }
        });
  }

  /** A group was deleted: the mediator forgets it too, in the background (best effort). */
  public void forget(UUID group, String name) {
    Active a = active;
    if (a == null) {
      return;
    }
    Thread.ofVirtual()
        .name("mediator-forget-" + group)
        .start(
            () -> {
              try {
                a.client().remove(group);
                log.info("mediator {} forgot group {} ({})", a.address(), name, group);
              } catch (MediatorException e) {
                events.record(
                    "cg.warning",
                    name,
                    "the mediator did not forget deleted group "
                        + name
                        + " ("
                        + group
                        + "): "
                        + e.getMessage());
              }
            });
  }

  private void probe() {
    Active a = active;
    if (a == null || clock.millis() - Math.max(lastOkMs, lastFailMs) < PROBE_INTERVAL_MS) {
      return;
    }
    try {
      a.client().relationships();
      if (a == active) {
        reached();
      }
    } catch (MediatorException | RuntimeException e) {
      if (a == active) {
        failed(e.getMessage());
      }
    }
  }

  private void reached() {
    lastOkMs = clock.millis();
  }

  private void failed(String message) {
    lastError = message == null ? "unknown error" : message;
    lastFailMs = clock.millis();
  }

  private static MediatorClient client(MediatorRequest.Checked c, Path caFile, Duration timeout)
      throws IOException {
    return MediatorClient.withPassword(url(c.address()), caFile, c.user(), c.password(), timeout);
  }

  /** Health first (reachable, trusted), then an authenticated call (credentials). */
  private static void check(MediatorClient client, MediatorRequest.Checked c) {
    URI url = url(c.address());
    try {
      client.checkHealth();
    } catch (MediatorException e) {
      if (causedBy(e, SSLException.class)) {
        throw AdminException.invalid(
            "the mediator at "
                + url
                + " does not present a certificate signed by the given CA certificate (give its"
                + " ca.crt): "
                + rootMessage(e));
      }
      throw AdminException.unavailable(
          "the mediator at "
              + url
              + " does not answer ("
              + rootMessage(e)
              + "); check the address, that it runs ('duet mediator run') and the firewall");
    }
    try {
      client.relationships();
    } catch (MediatorException e) {
      throw switch (e.kind()) {
        case UNAUTHORIZED ->
            AdminException.invalid(
                "the mediator at " + url + " refused user '" + c.user() + "': " + e.getMessage());
        case LOCKED_OUT ->
            AdminException.unavailable(
                "the mediator at "
                    + url
                    + " locked user '"
                    + c.user()
                    + "' out after failed logins; retry later: "
                    + e.getMessage());
        default ->
            AdminException.unavailable(
                "the mediator at "
                    + url
                    + " did not answer an authenticated call: "
                    + e.getMessage());
      };
    }
  }

  static URI url(HostPort address) {
    return URI.create("https://" + address.urlHost() + ":" + address.port());
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  private static String sha256(X509Certificate cert) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      return "";
    }
  }

  @Override
  public void close() {
    prober.shutdownNow();
    Active a = active;
    if (a != null) {
      a.client().close();
    }
  }
}
