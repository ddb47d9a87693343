package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.inquiry;
import static io.duet.scsi.Fixture.rw10;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.scsi.UnitAlua.BaseState;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One replicated LU exported by two sites (group 1 with port 1 at site A, group 2 with port 2 at
 * site B), each site holding its own {@link UnitAlua} built from the same inputs.
 */
class UnitAluaTest {
  static final String TARGET = "iqn.2025-01.io.duet:vol";
  static final TargetPort PORT_A = new TargetPort(TARGET + ",t,0x1", TARGET, 1, 1);
  static final TargetPort PORT_B = new TargetPort(TARGET + ",t,0x2", TARGET, 2, 2);

  /** Host at site A, host at site B, host local to both. */
  static final String NEAR_A = "iqn.host:a";

  static final String NEAR_B = "iqn.host:b";
  static final String ANYWHERE = "iqn.host:all";
  static final Map<String, Integer> SITES = Map.of(NEAR_A, 1, NEAR_B, 2);
  static final Proximity PROXIMITY = name -> SITES.getOrDefault(name, Proximity.ALL);
  static final byte[] TUR = cdb(0, 0, 0, 0, 0, 0);
  static final byte[] RTPG_EXTENDED = cdb(0xa3, 0x2a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0);

  final RamVolume volume = new RamVolume(512, 64);
  final LogicalUnit atA = unit(1, 1);
  final LogicalUnit atB = unit(2, 2);
  final UnitAlua viewA = view();
  final UnitAlua viewB = view();

  UnitAluaTest() {
    atA.useAlua(viewA);
    atB.useAlua(viewB);
  }

  static LogicalUnit unit(int group, int port) {
    AluaGroups site =
        new AluaGroups(
            List.of(new AluaGroups.PortGroup(group, AluaState.ACTIVE_OPTIMIZED, List.of(port))));
    return new LogicalUnit(new RamVolume(512, 64), new ScsiSite(site), PersistentState.NONE);
  }

  static UnitAlua view() {
    return new UnitAlua(
        List.of(
            new UnitAlua.PortGroup(1, BaseState.ACTIVE, List.of(1)),
            new UnitAlua.PortGroup(2, BaseState.ACTIVE, List.of(2))),
        PROXIMITY);
  }

  static ItNexus nexus(String host, TargetPort port) {
    return new ItNexus(host, host + ",i,0x000000000001", port);
  }

  /** Runs {@code cdb} from {@code host} through the path of {@code port} (site A or B). */
  ScsiResult run(String host, TargetPort port, byte[] cdb) {
    LogicalUnit lu = port == PORT_A ? atA : atB;
    return lu.execute(
        new ScsiTask(nexus(host, port), cdb, ByteBuffer.allocate(0), 1 << 16, false, 1));
  }

  void setBoth(int group, BaseState state) {
    viewA.setBaseState(group, state);
    viewB.setBaseState(group, state);
  }

  static AluaState expected(BaseState base, String host, int group) {
    return switch (base) {
      case ACTIVE -> {
        int preferred = SITES.getOrDefault(host, Proximity.ALL);
        yield preferred == Proximity.ALL || preferred == group
            ? AluaState.ACTIVE_OPTIMIZED
            : AluaState.ACTIVE_NON_OPTIMIZED;
      }
      case STANDBY -> AluaState.STANDBY;
      case UNAVAILABLE -> AluaState.UNAVAILABLE;
      case TRANSITIONING -> AluaState.TRANSITIONING;
    };
  }

  void assertEnforced(ScsiResult r, AluaState state) {
    switch (state) {
      case ACTIVE_OPTIMIZED, ACTIVE_NON_OPTIMIZED -> assertGood(r);
      case STANDBY -> assertSense(r, Sense.NOT_READY, 0x04, 0x0b);
      case UNAVAILABLE -> assertSense(r, Sense.NOT_READY, 0x04, 0x0c);
      case TRANSITIONING -> assertSense(r, Sense.NOT_READY, 0x04, 0x0a);
    }
  }

  @Test
  void everyStateCombinationForEveryKindOfHostThroughEveryPath() {
    for (BaseState one : BaseState.values()) {
      for (BaseState two : BaseState.values()) {
        setBoth(1, one);
        setBoth(2, two);
        for (String host : List.of(NEAR_A, NEAR_B, ANYWHERE)) {
          String at = one + "/" + two + " for " + host;
          byte[] viaA = data(run(host, PORT_A, RTPG_EXTENDED));
          byte[] viaB = data(run(host, PORT_B, RTPG_EXTENDED));
          assertThat(viaB).as("RTPG identical on both paths, %s", at).isEqualTo(viaA);
          // Header (8) + group 1 (8 + 4) + group 2 (8 + 4).
          assertThat(viaA).as(at).hasSize(32);
          assertThat(BigEndian.u32(viaA, 0)).isEqualTo(28);
          assertThat(viaA[8] & 0x0f).as(at).isEqualTo(expected(one, host, 1).code());
          assertThat(BigEndian.u16(viaA, 10)).isEqualTo(1);
          assertThat(viaA[15]).isEqualTo((byte) 1);
          assertThat(BigEndian.u16(viaA, 18)).isEqualTo(1);
          assertThat(viaA[20] & 0x0f).as(at).isEqualTo(expected(two, host, 2).code());
          assertThat(BigEndian.u16(viaA, 22)).isEqualTo(2);
          assertThat(BigEndian.u16(viaA, 30)).isEqualTo(2);
          assertEnforced(run(host, PORT_A, rw10(0x28, 0, 1)), expected(one, host, 1));
          assertEnforced(run(host, PORT_B, rw10(0x28, 0, 1)), expected(two, host, 2));
          assertGood(run(host, PORT_A, inquiry(false, 0, 36)));
        }
      }
    }
  }

  /** Three hosts logged in through {@code port}, their login attentions consumed. */
  List<ItNexus> loggedIn(TargetPort port) {
    List<ItNexus> all = List.of(nexus(NEAR_A, port), nexus(NEAR_B, port), nexus(ANYWHERE, port));
    for (ItNexus n : all) {
      (port == PORT_A ? atA : atB).nexusAttached(n);
      assertSense(run(n.initiatorName(), port, TUR), Sense.UNIT_ATTENTION, 0x29, 0x00);
    }
    return all;
  }

  @Test
  void aStateChangeRaisesAsymmetricAccessChangedOnEveryNexusThatSeesIt() {
    List<ItNexus> all = loggedIn(PORT_A);
    setBoth(2, BaseState.UNAVAILABLE);
    for (ItNexus n : all) {
      assertSense(run(n.initiatorName(), PORT_A, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x06);
      assertGood(run(n.initiatorName(), PORT_A, TUR));
    }
    setBoth(2, BaseState.UNAVAILABLE); // no change, no attention
    for (ItNexus n : all) {
      assertGood(run(n.initiatorName(), PORT_A, TUR));
    }
    byte[] rtpg = data(run(NEAR_A, PORT_A, RTPG_EXTENDED));
    assertThat(rtpg[25]).as("status code: implicit change").isEqualTo((byte) 2);
  }

  @Test
  void aProximityChangeReachesOnlyTheHostsWhoseViewChanged() {
    loggedIn(PORT_B);
    // The host that was local to both sites moves to site B; the others keep their view.
    Proximity moved = name -> name.equals(ANYWHERE) ? 2 : PROXIMITY.preferredGroup(name);
    viewB.setProximity(moved);
    assertGood(run(NEAR_A, PORT_B, TUR));
    assertGood(run(NEAR_B, PORT_B, TUR));
    assertSense(run(ANYWHERE, PORT_B, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x06);
    byte[] rtpg = data(run(ANYWHERE, PORT_B, RTPG_EXTENDED));
    assertThat(rtpg[8] & 0x0f).isEqualTo(AluaState.ACTIVE_NON_OPTIMIZED.code());
    assertThat(rtpg[20] & 0x0f).isEqualTo(AluaState.ACTIVE_OPTIMIZED.code());
  }

  @Test
  void deviceIdentificationNamesThePortTheCommandCameThrough() {
    byte[] a = data(run(NEAR_A, PORT_A, inquiry(true, 0x83, 0xffff)));
    byte[] b = data(run(NEAR_A, PORT_B, inquiry(true, 0x83, 0xffff)));
    assertThat(BigEndian.u16(a, 30)).as("relative target port").isEqualTo(1);
    assertThat(BigEndian.u16(a, 38)).as("target port group").isEqualTo(1);
    assertThat(BigEndian.u16(b, 30)).isEqualTo(2);
    assertThat(BigEndian.u16(b, 38)).isEqualTo(2);
  }

  @Test
  void siteGroupChangesNoLongerReachAUnitWithItsOwnView() {
    AluaGroups siteGroups =
        new AluaGroups(
            List.of(new AluaGroups.PortGroup(1, AluaState.ACTIVE_OPTIMIZED, List.of(1))));
    LogicalUnit lu = new LogicalUnit(volume, new ScsiSite(siteGroups), PersistentState.NONE);
    ItNexus n = nexus(NEAR_A, PORT_A);
    lu.useAlua(view());
    lu.nexusAttached(n);
    ScsiTask tur = new ScsiTask(n, TUR, ByteBuffer.allocate(0), 0, false, 1);
    assertSense(lu.execute(tur), Sense.UNIT_ATTENTION, 0x29, 0x00);
    siteGroups.setState(1, AluaState.STANDBY);
    assertGood(lu.execute(tur)); // the unit's view rules: ACTIVE, no attention
    lu.useAlua(null);
    assertSense(lu.execute(tur), Sense.UNIT_ATTENTION, 0x2a, 0x06);
    assertSense(lu.execute(tur), Sense.NOT_READY, 0x04, 0x0b);
    assertThat(lu.alua()).isNull();
  }

  @Test
  void aPortOutsideTheViewFollowsTheSite() {
    TargetPort stray = new TargetPort(TARGET + ",t,0x9", TARGET, 9, 9);
    ScsiResult r =
        atA.execute(
            new ScsiTask(
                nexus(NEAR_A, stray), rw10(0x28, 0, 1), ByteBuffer.allocate(0), 1 << 16, false, 1));
    assertGood(r); // group 9 is not configured at the site either: active/optimized
  }

  @Test
  void badViewsAreRefused() {
    var g1 = new UnitAlua.PortGroup(1, BaseState.ACTIVE, List.of(1));
    assertThatThrownBy(() -> new UnitAlua(List.of(g1, g1), PROXIMITY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duplicate");
    var shared = new UnitAlua.PortGroup(2, BaseState.ACTIVE, List.of(1));
    assertThatThrownBy(() -> new UnitAlua(List.of(g1, shared), PROXIMITY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("relative port 1");
    assertThatThrownBy(() -> new UnitAlua.PortGroup(1, BaseState.ACTIVE, List.of(0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> viewA.setBaseState(7, BaseState.STANDBY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no port group 7");
    assertThat(viewA.baseState(1)).isEqualTo(BaseState.ACTIVE);
    assertThat(viewA.state(NEAR_B, 9)).isNull();
  }
}
