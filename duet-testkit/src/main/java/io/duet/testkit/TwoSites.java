package io.duet.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.testkit.proxy.FaultProxy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Two Duet sites as separate JVM processes, paired through a {@link FaultProxy} on their
 * replication link, for end-to-end replication tests.
 *
 * <p>Site A binds its replication port to the wildcard address, which a site never advertises, so
 * site B knows no address for A and never dials it: the only link is A dialing B through the proxy.
 * Cutting, delaying or resetting the proxy therefore acts on the whole link. Each site is its own
 * ALUA target port group (A: group 1, relative port 1; B: group 2, relative port 17).
 */
public final class TwoSites implements AutoCloseable {
  /** The site names, as each site knows the other in {@code GET /peers}. */
  public static final String A = "site-a";

  public static final String B = "site-b";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration LINK_UP_TIMEOUT = Duration.ofSeconds(30);
  private static final long POLL_MS = 20;

  private final SiteProcess a;
  private final SiteProcess b;
  private final FaultProxy proxy;

  private TwoSites(SiteProcess a, SiteProcess b, FaultProxy proxy) {
    this.a = a;
    this.b = b;
    this.proxy = proxy;
  }

  /**
   * Starts both sites under {@code workDir/site-a} and {@code workDir/site-b}, puts a proxy in
   * front of B's replication port and pairs A with B through it; returns once the link is up.
   */
  public static TwoSites start(Path workDir) throws IOException, InterruptedException {
    int bReplication = freePort();
    SiteProcess a = null;
    SiteProcess b = null;
    FaultProxy proxy = null;
    try {
      b =
          SiteProcess.start(
              workDir.resolve(B),
              B,
              "portGroupId: 2\nrelativeTargetPortId: 17\nportalGroupTag: 2\n"
                  + "replication: 127.0.0.1:"
                  + bReplication
                  + "\n");
      a =
          SiteProcess.start(
              workDir.resolve(A),
              A,
              "portGroupId: 1\nrelativeTargetPortId: 1\nportalGroupTag: 1\n"
                  + "replication: 0.0.0.0:0\n");
      proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", bReplication));
      TwoSites sites = new TwoSites(a, b, proxy);
      sites.pair();
      return sites;
    } catch (IOException | InterruptedException | RuntimeException e) {
      closeAll(a, b, proxy);
      throw e;
    }
  }

  private void pair() throws IOException, InterruptedException {
    JsonNode invitation = b.api().post("/api/v1/peers/invitations", "{}");
    ObjectNode body =
        JSON.createObjectNode()
            .put("address", "127.0.0.1:" + proxy.port())
            .put("passphrase", invitation.path("passphrase").asText());
    a.api().post("/api/v1/peers", body.toString());
    awaitLinkUp();
  }

  /** Site A (the leader of the groups {@link #createCg} makes). */
  public SiteProcess a() {
    return a;
  }

  /** Site B. */
  public SiteProcess b() {
    return b;
  }

  /** The fault proxy every byte of the replication link goes through (A is its client). */
  public FaultProxy link() {
    return proxy;
  }

  /** The other site. */
  public SiteProcess other(SiteProcess site) {
    return site == a ? b : a;
  }

  /** The name of {@code site}: {@link #A} or {@link #B}. */
  public String name(SiteProcess site) {
    return site == a ? A : B;
  }

  /** Waits until both sites report the peer link up. */
  public void awaitLinkUp() throws IOException, InterruptedException {
    await("replication link up at both sites", LINK_UP_TIMEOUT, () -> linkUp(a, B) && linkUp(b, A));
  }

  private static boolean linkUp(SiteProcess site, String peer) throws IOException {
    for (JsonNode p : site.api().get("/api/v1/peers")) {
      if (p.path("name").asText().equals(peer)) {
        return p.path("link").asText().equalsIgnoreCase("up");
      }
    }
    return false;
  }

  /** Creates a volume at site A only (a group's twin at B is created by the group). */
  public JsonNode createVolume(String name, String size) throws IOException {
    ObjectNode body =
        JSON.createObjectNode().put("name", name).put("size", size).put("blockSize", 512);
    return a.api().post("/api/v1/volumes", body.toString());
  }

  /**
   * Creates a host at both sites; {@code site} is where it sits ({@link #A}, {@link #B}, "all").
   */
  public void createHost(String name, String site, String... iqns) throws IOException {
    ObjectNode body = JSON.createObjectNode().put("name", name).put("site", site);
    for (String iqn : iqns) {
      body.withArray("iqns").add(iqn);
    }
    a.api().post("/api/v1/hosts", body.toString());
    b.api().post("/api/v1/hosts", body.toString());
  }

  /** Maps {@code volume} to every initiator as {@code lun} of the default target at both sites. */
  public void mapEverywhere(String volume, int lun) throws IOException {
    ObjectNode body =
        JSON.createObjectNode().put("volume", volume).put("host", "*").put("lun", lun);
    a.api().post("/api/v1/mappings", body.toString());
    b.api().post("/api/v1/mappings", body.toString());
  }

  /**
   * Creates an {@code active-active} group led by A with auto resync and recovery, and waits until
   * both sites report it in sync, link up and serving.
   *
   * @param resyncRate the resync limit per second (e.g. {@code "200MiB"})
   */
  public JsonNode createCg(String cg, List<String> volumes, String resyncRate)
      throws IOException, InterruptedException {
    ObjectNode body =
        JSON.createObjectNode()
            .put("name", cg)
            .put("policy", "active-active")
            .put("peer", B)
            .put("leader", "local")
            .put("autoResync", true)
            .put("autoRecover", true)
            .put("resyncRate", resyncRate);
    volumes.forEach(body.withArray("volumes")::add);
    a.api().post("/api/v1/cgs", body.toString());
    return awaitInSync(cg, Duration.ofSeconds(60));
  }

  /** The group's view at {@code site}. */
  public JsonNode cg(SiteProcess site, String cg) throws IOException {
    return site.api().get("/api/v1/cgs/" + cg);
  }

  /** Waits until both sites report {@code cg} in sync, link up and serving; returns A's view. */
  public JsonNode awaitInSync(String cg, Duration timeout)
      throws IOException, InterruptedException {
    await(
        cg + " in sync and serving at both sites",
        timeout,
        () -> healthy(cg(a, cg)) && healthy(cg(b, cg)));
    return cg(a, cg);
  }

  /** In sync, link up, serving: what both sites report of a group once faults have healed. */
  public static boolean healthy(JsonNode view) {
    return view.path("syncState").asText().equals("IN_SYNC")
        && view.path("link").asText().equals("UP")
        && view.path("availability").asText().equals("SERVING");
  }

  /**
   * Waits like {@link #awaitInSync} while watching both sites' resync progress, and returns the
   * largest {@code resync.bytesTotal} either reported while {@code RESYNCING} (0 if no resync was
   * seen). Set a resync rate that makes the copy last a few polls when the amount matters.
   */
  public long awaitInSyncWatchingResync(String cg, Duration timeout)
      throws IOException, InterruptedException {
    long[] largest = {0};
    await(
        cg + " resynced and serving at both sites",
        timeout,
        () -> {
          boolean inSync = true;
          for (SiteProcess s : List.of(a, b)) {
            JsonNode v = cg(s, cg);
            if (v.path("syncState").asText().equals("RESYNCING")) {
              largest[0] = Math.max(largest[0], v.path("resync").path("bytesTotal").asLong());
            }
            inSync &= healthy(v);
          }
          return inSync;
        });
    return largest[0];
  }

  /** Runs {@code verify} of {@code cg} at site A, without repair; returns its report. */
  public JsonNode verify(String cg) throws IOException {
    return a.api().post("/api/v1/cgs/" + cg + "/verify", "{\"repair\":false}");
  }

  /** Waits until {@code cg}'s view at {@code site} satisfies {@code condition}; returns it. */
  public JsonNode awaitCg(
      SiteProcess site, String cg, String what, Duration timeout, Predicate<JsonNode> condition)
      throws IOException, InterruptedException {
    JsonNode[] last = new JsonNode[1];
    try {
      await(
          what + " at " + name(site),
          timeout,
          () -> {
            last[0] = cg(site, cg);
            return condition.test(last[0]);
          });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; last view: " + last[0], e);
    }
    return last[0];
  }

  /** The first iSCSI portal of {@code site}. */
  public InetSocketAddress portal(SiteProcess site) throws IOException {
    return site.portal();
  }

  /** The iSCSI name of {@code site}'s default target. */
  public String target(SiteProcess site) throws IOException {
    JsonNode targets = site.api().get("/api/v1/targets");
    JsonNode list = targets.isArray() ? targets : targets.get("targets");
    return list.get(0).get("name").asText();
  }

  /** {@code iscsi://host:port/target/lun} of {@code site}. */
  public String iscsiUrl(SiteProcess site, int lun) throws IOException {
    InetSocketAddress p = portal(site);
    return "iscsi://" + p.getHostString() + ":" + p.getPort() + "/" + target(site) + "/" + lun;
  }

  /** SIGKILL of one site; the other and the proxy stay up. */
  public void kill9(SiteProcess site) throws InterruptedException {
    site.kill9();
  }

  /** SIGKILL of both sites at once (both signals sent before either is waited for). */
  public void kill9Both() throws InterruptedException {
    a.sendKill9();
    b.sendKill9();
    a.kill9();
    b.kill9();
  }

  /** Starts a killed site again with its config and data; the link comes back by itself. */
  public void restart(SiteProcess site) throws IOException, InterruptedException {
    site.launch();
  }

  /** Stops both sites (SIGTERM) and the proxy. */
  @Override
  public void close() {
    closeAll(a, b, proxy);
  }

  private static void closeAll(SiteProcess a, SiteProcess b, FaultProxy proxy) {
    try {
      if (a != null) {
        a.close();
      }
    } finally {
      try {
        if (b != null) {
          b.close();
        }
      } finally {
        if (proxy != null) {
          proxy.close();
        }
      }
    }
  }

  /** A condition that may call a site. */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws IOException;
  }

  /**
   * Polls {@code condition} until it holds or {@code timeout} passes; an API error while polling
   * counts as "not yet" (a site may be restarting), and the last one is in the failure message.
   */
  public static void await(String what, Duration timeout, Condition condition)
      throws InterruptedException {
    Objects.requireNonNull(condition, "condition");
    long deadline = System.nanoTime() + timeout.toNanos();
    IOException last = null;
    while (true) {
      try {
        if (condition.holds()) {
          return;
        }
      } catch (IOException e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after "
                + timeout
                + " waiting for "
                + what
                + (last == null ? "" : "; last error: " + last.getMessage()));
      }
      TimeUnit.MILLISECONDS.sleep(POLL_MS);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }
}
