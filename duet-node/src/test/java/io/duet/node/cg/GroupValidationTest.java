package io.duet.node.cg;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The go-live checks of {@code cg validate}, from hand-made views of both sites. */
class GroupValidationTest {
  static final CgViews.Mediator QUORUM = new CgViews.Mediator(true, true, true, false, 4000, "ok");

  static CgViews.Group view(
      String role,
      String sync,
      String link,
      String availability,
      CgViews.Mediator mediator,
      String operation) {
    return new CgViews.Group(
        "cg1",
        "6f1c1a5e-0000-4000-8000-000000000001",
        "active-active",
        "site-b",
        "6f1c1a5e-0000-4000-8000-00000000000b",
        role,
        "site-a",
        "6f1c1a5e-0000-4000-8000-00000000000a",
        3,
        sync,
        link,
        availability,
        new CgViews.Resync(10, 40, 5, 25.0),
        true,
        true,
        1 << 20,
        mediator,
        operation,
        null,
        List.of());
  }

  static CgViews.Group healthy(String role) {
    return view(role, "IN_SYNC", "UP", "SERVING", QUORUM, null);
  }

  static Map<String, CgViews.Check> byName(CgViews.Validation v) {
    return v.checks().stream().collect(Collectors.toMap(CgViews.Check::name, Function.identity()));
  }

  static CgViews.Validation run(
      CgViews.Group local, Optional<String> mediator, CgViews.Group peer) {
    return GroupValidation.checks("site-a", local, mediator, peer, peer == null ? "timed out" : "");
  }

  @Test
  void everythingInPlacePasses() {
    CgViews.Validation v =
        run(healthy("LEADER"), Optional.of("198.51.100.7:7090"), healthy("FOLLOWER"));
    assertThat(v.passed()).isTrue();
    assertThat(v.group()).isEqualTo("cg1");
    assertThat(v.checks())
        .extracting(CgViews.Check::name)
        .containsExactly(
            GroupValidation.IN_SYNC,
            GroupValidation.PEER_REACHABLE,
            GroupValidation.MEDIATOR_CONFIGURED,
            GroupValidation.MEDIATOR_QUORUM,
            GroupValidation.NO_OPERATION,
            GroupValidation.ALUA_SERVING);
    assertThat(v.checks()).allMatch(CgViews.Check::passed);
    assertThat(byName(v).get(GroupValidation.MEDIATOR_CONFIGURED).detail())
        .contains("198.51.100.7:7090");
  }

  @Test
  void noMediatorHereOrAtThePeerSaysWhereToAddIt() {
    CgViews.Mediator none = CgViews.Mediator.NONE;
    CgViews.Validation here =
        run(
            view("LEADER", "IN_SYNC", "UP", "SERVING", none, null),
            Optional.empty(),
            healthy("FOLLOWER"));
    assertThat(here.passed()).isFalse();
    CgViews.Check configured = byName(here).get(GroupValidation.MEDIATOR_CONFIGURED);
    assertThat(configured.passed()).isFalse();
    assertThat(configured.detail()).contains("duet mediator add' at site-a");
    assertThat(byName(here).get(GroupValidation.MEDIATOR_QUORUM).passed()).isFalse();

    CgViews.Validation peer =
        run(
            healthy("LEADER"),
            Optional.of("m:7090"),
            view("FOLLOWER", "IN_SYNC", "UP", "SERVING", none, null));
    assertThat(byName(peer).get(GroupValidation.MEDIATOR_CONFIGURED).detail())
        .contains("duet mediator add' at site-b");
    assertThat(byName(peer).get(GroupValidation.MEDIATOR_QUORUM).detail())
        .contains("site-b: the group uses no mediator");
    assertThat(peer.passed()).isFalse();
  }

  @Test
  void aMediatorOutOfQuorumAtEitherSiteFails() {
    CgViews.Mediator lost = new CgViews.Mediator(true, false, false, true, 0, "unreachable: x");
    CgViews.Validation v =
        run(
            healthy("LEADER"),
            Optional.of("m:7090"),
            view("FOLLOWER", "IN_SYNC", "UP", "SERVING", lost, null));
    CgViews.Check q = byName(v).get(GroupValidation.MEDIATOR_QUORUM);
    assertThat(q.passed()).isFalse();
    assertThat(q.detail()).contains("site-a: connected, in quorum", "site-b: not connected");
    CgViews.Mediator stale = new CgViews.Mediator(true, true, false, false, 0, "stale epoch");
    CgViews.Validation here =
        run(
            view("LEADER", "IN_SYNC", "UP", "SERVING", stale, null),
            Optional.of("m:7090"),
            healthy("FOLLOWER"));
    assertThat(byName(here).get(GroupValidation.MEDIATOR_QUORUM).detail())
        .contains("NOT in quorum (stale epoch)");
  }

  @Test
  void aCutLinkFailsReachabilityAndJudgesThePeerFromThisSite() {
    CgViews.Validation v =
        run(
            view("LEADER", "OUT_OF_SYNC", "DOWN", "SERVING", QUORUM, null),
            Optional.of("m:7090"),
            null);
    Map<String, CgViews.Check> c = byName(v);
    assertThat(v.passed()).isFalse();
    assertThat(c.get(GroupValidation.IN_SYNC).passed()).isFalse();
    assertThat(c.get(GroupValidation.PEER_REACHABLE).passed()).isFalse();
    assertThat(c.get(GroupValidation.PEER_REACHABLE).detail()).contains("no session");
    assertThat(c.get(GroupValidation.ALUA_SERVING).passed()).isFalse();
    assertThat(c.get(GroupValidation.ALUA_SERVING).detail())
        .contains("site-b not serving (as site-a sees it)");
    assertThat(c.get(GroupValidation.MEDIATOR_CONFIGURED).detail()).contains("site-b: unknown");
  }

  @Test
  void aLinkUpButUnansweredPeerStillPassesReachabilityWithThisSitesView() {
    CgViews.Validation v = run(healthy("FOLLOWER"), Optional.of("m:7090"), null);
    Map<String, CgViews.Check> c = byName(v);
    assertThat(c.get(GroupValidation.PEER_REACHABLE).passed()).isTrue();
    assertThat(c.get(GroupValidation.PEER_REACHABLE).detail())
        .contains("could not be fetched (timed out)");
    // A follower assumes its leader serves.
    assertThat(c.get(GroupValidation.ALUA_SERVING).passed()).isTrue();
    assertThat(v.passed()).isTrue();
  }

  @Test
  void operationsAndResyncsAtEitherSiteFail() {
    CgViews.Validation resync =
        run(
            view("LEADER", "RESYNCING", "UP", "SERVING", QUORUM, null),
            Optional.of("m:7090"),
            view("FOLLOWER", "RESYNCING", "UP", "UNAVAILABLE", QUORUM, null));
    Map<String, CgViews.Check> c = byName(resync);
    assertThat(c.get(GroupValidation.IN_SYNC).detail()).contains("RESYNCING at site-a (25.0 %)");
    assertThat(c.get(GroupValidation.NO_OPERATION).detail())
        .contains("resync running at site-a", "resync running at site-b");
    assertThat(c.get(GroupValidation.ALUA_SERVING).detail()).contains("site-b UNAVAILABLE");

    CgViews.Validation verify =
        run(
            healthy("LEADER"),
            Optional.of("m:7090"),
            view("FOLLOWER", "IN_SYNC", "UP", "SERVING", QUORUM, "switchover"));
    assertThat(byName(verify).get(GroupValidation.NO_OPERATION).passed()).isFalse();
    assertThat(byName(verify).get(GroupValidation.NO_OPERATION).detail())
        .contains("switchover running at site-b");
    assertThat(verify.passed()).isFalse();
  }

  @Test
  void transitioningHereIsNotServing() {
    CgViews.Validation v =
        run(
            view("FOLLOWER", "IN_SYNC", "UP", "TRANSITIONING", QUORUM, null),
            Optional.of("m:7090"),
            healthy("LEADER"));
    assertThat(byName(v).get(GroupValidation.ALUA_SERVING).passed()).isFalse();
    assertThat(byName(v).get(GroupValidation.ALUA_SERVING).detail())
        .contains("site-a TRANSITIONING");
  }
}
