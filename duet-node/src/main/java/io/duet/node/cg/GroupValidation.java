package io.duet.node.cg;

import io.duet.node.AdminException;
import io.duet.sync.link.ControlException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * {@code cg validate}: what a stretched-cluster administrator checks before go-live, from this
 * site's view of the group and, when the session with the peer is up, the peer's own view (asked
 * over the control link). Each check says what holds or what is missing; the peer's side counts
 * wherever it could be fetched.
 */
final class GroupValidation {
  /** How long validate waits for the peer's view: an interactive check, not an operation. */
  static final long PEER_VIEW_TIMEOUT_MS = 5_000;

  static final String IN_SYNC = "in sync";
  static final String PEER_REACHABLE = "both sites reachable";
  static final String MEDIATOR_CONFIGURED = "mediator configured";
  static final String MEDIATOR_QUORUM = "mediator connected and in quorum";
  static final String NO_OPERATION = "no operation in progress";
  static final String ALUA_SERVING = "ALUA serving at both sites";

  private final ConsistencyGroups groups;

  GroupValidation(ConsistencyGroups groups) {
    this.groups = groups;
  }

  CgViews.Validation validate(String name) {
    CgViews.Group local = groups.get(name);
    CgViews.Group peer = null;
    String peerError;
    if (!"UP".equals(local.link())) {
      peerError = "no session with " + local.peer();
    } else {
      try {
        byte[] answer =
            groups
                .controls()
                .ask(
                    UUID.fromString(local.peerSiteId()),
                    new ControlWire.Request(
                        ControlWire.CG_STATUS, groups.site.info(), null, local.id(), null),
                    PEER_VIEW_TIMEOUT_MS);
        peer = groups.wire.groupView(answer);
        peerError = "";
      } catch (AdminException | ControlException e) {
        peerError = e.getMessage();
      }
    }
    return checks(groups.site.name(), local, groups.site.mediatorAddress(), peer, peerError);
  }

  /**
   * The checks, from this site's view {@code local}, its mediator, and the peer's view (null when
   * it could not be fetched, with {@code peerError} saying why).
   */
  static CgViews.Validation checks(
      String site,
      CgViews.Group local,
      Optional<String> mediator,
      CgViews.Group peer,
      String peerError) {
    String peerName = local.peer();
    List<CgViews.Check> out = new ArrayList<>();

    boolean inSync = "IN_SYNC".equals(local.syncState());
    out.add(
        new CgViews.Check(
            IN_SYNC,
            inSync,
            inSync
                ? "IN_SYNC at " + site + " (epoch " + local.epoch() + ")"
                : local.syncState()
                    + " at "
                    + site
                    + ("RESYNCING".equals(local.syncState())
                        ? String.format(
                            java.util.Locale.ROOT, " (%.1f %%)", local.resync().percent())
                        : "")
                    + ": wait for the resync, or start it with 'duet cg resync "
                    + local.name()
                    + "'"));

    boolean linkUp = "UP".equals(local.link());
    out.add(
        new CgViews.Check(
            PEER_REACHABLE,
            linkUp,
            !linkUp
                ? "no session between "
                    + site
                    + " and "
                    + peerName
                    + ": check that "
                    + peerName
                    + " runs and the replication link ('duet peer list')"
                : peer != null
                    ? "session with " + peerName + " up; its view fetched over the peer link"
                    : "session with "
                        + peerName
                        + " up; its view could not be fetched ("
                        + peerError
                        + "), the other checks use "
                        + site
                        + "'s view"));

    boolean hereConfigured = mediator.isPresent();
    boolean peerConfigured =
        peer == null || peer.mediator() != null && peer.mediator().configured();
    out.add(
        new CgViews.Check(
            MEDIATOR_CONFIGURED,
            hereConfigured && peerConfigured,
            (hereConfigured
                    ? site + ": " + mediator.get()
                    : site + ": none (run 'duet mediator add' at " + site + ")")
                + "; "
                + (peer == null
                    ? peerName + ": unknown"
                    : peerConfigured
                        ? peerName + ": configured"
                        : peerName + ": none (run 'duet mediator add' at " + peerName + ")")));

    boolean hereQuorum = quorum(local.mediator());
    boolean peerQuorum = peer == null || quorum(peer.mediator());
    out.add(
        new CgViews.Check(
            MEDIATOR_QUORUM,
            hereConfigured && hereQuorum && peerQuorum,
            site
                + ": "
                + quorumText(local.mediator())
                + "; "
                + peerName
                + ": "
                + (peer == null ? "unknown" : quorumText(peer.mediator()))));

    List<String> running = new ArrayList<>();
    operations(site, local, running);
    if (peer != null) {
      operations(peerName, peer, running);
    }
    out.add(
        new CgViews.Check(
            NO_OPERATION,
            running.isEmpty(),
            running.isEmpty()
                ? "no resync, verify or switchover running"
                    + (peer == null ? " at " + site + " (" + peerName + " unknown)" : "")
                : String.join(", ", running) + ": wait until it is done"));

    boolean hereServing = "SERVING".equals(local.availability());
    boolean peerServing =
        peer != null
            ? "SERVING".equals(peer.availability())
            : "FOLLOWER".equals(local.role()) || (inSync && linkUp);
    out.add(
        new CgViews.Check(
            ALUA_SERVING,
            hereServing && peerServing,
            site
                + " "
                + local.availability()
                + ", "
                + peerName
                + " "
                + (peer != null
                    ? peer.availability()
                    : (peerServing ? "SERVING" : "not serving") + " (as " + site + " sees it)")));

    boolean passed = out.stream().allMatch(CgViews.Check::passed);
    return new CgViews.Validation(local.name(), passed, out);
  }

  private static boolean quorum(CgViews.Mediator m) {
    return m != null && m.configured() && m.connected() && m.inQuorum();
  }

  private static String quorumText(CgViews.Mediator m) {
    if (m == null || !m.configured()) {
      return "the group uses no mediator";
    }
    String last =
        m.lastMessage() == null || m.lastMessage().isEmpty() ? "" : " (" + m.lastMessage() + ")";
    if (!m.connected()) {
      return "not connected" + last;
    }
    return m.inQuorum() ? "connected, in quorum" : "connected, NOT in quorum" + last;
  }

  private static void operations(String site, CgViews.Group g, List<String> out) {
    if ("RESYNCING".equals(g.syncState())) {
      out.add("resync running at " + site);
    }
    if (g.operation() != null && !g.operation().isEmpty()) {
      out.add(g.operation() + " running at " + site);
    }
  }
}
