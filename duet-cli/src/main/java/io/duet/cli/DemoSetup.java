package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.mediator.MediatorServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * What {@code duet demo} asks of its two sites through their APIs, each step skipped when a reused
 * data directory has it already: pair A with B, configure the mediator at both (again each time: it
 * listens on a new port), create the volume at A, replicate it in the group {@code demo}, and
 * export it at both sites over iSCSI (every initiator, LUN 0) and NBD.
 */
final class DemoSetup {
  /** A site's user at the demo's mediator. */
  record Login(String user, String password) {
    /**
     * Creates {@code user} in the mediator's data directory, or gives it a new password, before the
     * mediator starts (it reads its users then). Each site needs its own user: the mediator lets a
     * user act for one site only. A fresh password at every start keeps nothing secret on disk at
     * the demo's side; both sites are told the mediator again at every start anyway.
     */
    static Login create(Path mediatorDir, String user) throws IOException {
      byte[] secret = new byte[18];
      new SecureRandom().nextBytes(secret);
      String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
      MediatorServer.setPassword(mediatorDir, user, password.toCharArray());
      return new Login(user, password);
    }
  }

  /**
   * The demo's mediator as the sites are told it.
   *
   * @param address {@code host:port} of its API
   * @param caCert PEM text of its CA certificate
   * @param a site A's user
   * @param b site B's user
   */
  record Mediator(String address, String caCert, Login a, Login b) {
    /** From the ready line of {@code duet mediator run} (its URL and CA file). */
    static Mediator of(JsonNode ready, Login a, Login b) throws IOException {
      java.net.URI api = java.net.URI.create(ready.path("api").asText());
      return new Mediator(
          api.getHost() + ":" + api.getPort(),
          Files.readString(Path.of(ready.path("caCert").asText())),
          a,
          b);
    }
  }

  static final String VOLUME = "demo";
  static final String GROUP = "demo";
  static final Duration LINK_TIMEOUT = Duration.ofSeconds(30);
  static final Duration SYNC_TIMEOUT = Duration.ofSeconds(120);
  private static final long POLL_MS = 50;

  private final ApiClient a;
  private final ApiClient b;
  private final ObjectMapper json;
  private final Mediator mediator;

  DemoSetup(ApiClient a, ApiClient b, ObjectMapper json, Mediator mediator) {
    this.a = a;
    this.b = b;
    this.json = json;
    this.mediator = mediator;
  }

  void run() throws IOException, InterruptedException {
    pair();
    useMediator(a, mediator.a());
    useMediator(b, mediator.b());
    createVolume();
    createGroup();
    export(a);
    export(b);
  }

  private void pair() throws IOException, InterruptedException {
    if (!has(a.get("/peers"), "name", DemoSites.SITE_B)) {
      JsonNode invitation = b.post("/peers/invitations", json.createObjectNode());
      a.post(
          "/peers",
          json.createObjectNode()
              .put("address", invitation.path("address").asText())
              .put("passphrase", invitation.path("passphrase").asText()));
    }
    await("the replication link between the sites", LINK_TIMEOUT, () -> linkUp(a.get("/peers")));
  }

  private static boolean linkUp(JsonNode peers) {
    for (JsonNode p : peers) {
      if (p.path("name").asText().equals(DemoSites.SITE_B)) {
        return p.path("link").asText().equalsIgnoreCase("up");
      }
    }
    return false;
  }

  /** Each site is configured on its own, as an operator would at two real sites. */
  private void useMediator(ApiClient site, Login login) throws IOException {
    site.put(
        "/mediator",
        json.createObjectNode()
            .put("address", mediator.address())
            .put("caCert", mediator.caCert())
            .put("user", login.user())
            .put("password", login.password()));
  }

  private void createVolume() throws IOException {
    if (!has(a.get("/volumes"), "name", VOLUME)) {
      a.post(
          "/volumes",
          json.createObjectNode().put("name", VOLUME).put("size", "1GiB").put("blockSize", 512));
    }
  }

  private void createGroup() throws IOException, InterruptedException {
    if (!has(a.get("/cgs"), "name", GROUP)) {
      var body =
          json.createObjectNode()
              .put("name", GROUP)
              .put("policy", CgCommand.POLICY_ACTIVE_ACTIVE)
              .put("peer", DemoSites.SITE_B)
              .put("leader", "local");
      body.putArray("volumes").add(VOLUME);
      a.post("/cgs", body);
    }
    await(
        "group " + GROUP + " in sync and serving at both sites",
        SYNC_TIMEOUT,
        // Serving, not just in sync: the follower turns serving a moment after its resync ends,
        // and a host given its URL before then is refused with 02/04/0C.
        () ->
            CgView.settled(a.get(CgCommand.path(GROUP)))
                && CgView.settled(b.get(CgCommand.path(GROUP))));
  }

  /** Maps the twin to every initiator as LUN 0 and exports it over NBD, unless done before. */
  private void export(ApiClient site) throws IOException {
    boolean mapped = false;
    for (JsonNode m : site.get("/mappings")) {
      mapped |= m.path("volume").asText().equals(VOLUME) && m.path("host").asText().equals("*");
    }
    if (!mapped) {
      site.post(
          "/mappings",
          json.createObjectNode().put("volume", VOLUME).put("host", "*").put("lun", 0));
    }
    if (!has(site.get("/nbd/exports"), "name", VOLUME)) {
      site.post("/nbd/exports", json.createObjectNode().put("volume", VOLUME));
    }
  }

  private static boolean has(JsonNode list, String field, String value) {
    for (JsonNode n : list) {
      if (n.path(field).asText().equals(value)) {
        return true;
      }
    }
    return false;
  }

  /** A check that calls a site. */
  @FunctionalInterface
  interface Check {
    boolean done() throws IOException;
  }

  private static void await(String what, Duration timeout, Check check)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check.done()) {
      if (System.nanoTime() > deadline) {
        throw new IOException("demo: gave up waiting " + timeout.toSeconds() + " s for " + what);
      }
      TimeUnit.MILLISECONDS.sleep(POLL_MS);
    }
  }
}
