package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cachingPage;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.modeSelect6;
import static io.duet.scsi.Fixture.rw10;
import static io.duet.scsi.PersistentReservationsTest.basic;
import static io.duet.scsi.PersistentReservationsTest.proutCdb;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.store.VolumeUnavailableException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * One replicated LU at two sites: two LogicalUnits joined by an in-process {@link SharedUnitState}
 * that applies every command to both, in one order, as the replication core does.
 */
class SharedUnitStateTest {
  static final String TARGET = "iqn.2025-01.io.duet:vol";
  static final TargetPort PORT_A = new TargetPort(TARGET + ",t,0x1", TARGET, 1, 1);
  static final TargetPort PORT_B = new TargetPort(TARGET + ",t,0x2", TARGET, 2, 2);
  static final int REGISTER = 0;
  static final int RESERVE = 1;
  static final int PREEMPT = 4;
  static final int REGISTER_AND_MOVE = 7;
  static final int WRITE_EXCLUSIVE = 1;
  static final byte[] TUR = cdb(0, 0, 0, 0, 0, 0);

  /** Applies each command at site A then site B, and records whether their results agreed. */
  static final class BothSites implements SharedUnitState {
    final List<LogicalUnit> sites = new ArrayList<>();
    final List<byte[]> commands = new ArrayList<>();
    boolean disagreed;

    @Override
    public synchronized CompletableFuture<byte[]> submit(byte[] command) {
      commands.add(command.clone());
      byte[] first = null;
      for (LogicalUnit lu : sites) {
        byte[] r = lu.applyShared(command);
        if (first == null) {
          first = r;
        } else if (!java.util.Arrays.equals(first, r)) {
          disagreed = true;
        }
      }
      return CompletableFuture.completedFuture(first);
    }
  }

  final PersistentReservationsTest.MemoryState diskA = new PersistentReservationsTest.MemoryState();
  final PersistentReservationsTest.MemoryState diskB = new PersistentReservationsTest.MemoryState();
  final LogicalUnit siteA = unit(1, diskA);
  final LogicalUnit siteB = unit(2, diskB);
  final BothSites link = new BothSites();

  final ItNexus host1A = nexus("iqn.host:one", PORT_A);
  final ItNexus host1B = nexus("iqn.host:one", PORT_B);
  final ItNexus host2A = nexus("iqn.host:two", PORT_A);
  final ItNexus host2B = nexus("iqn.host:two", PORT_B);

  SharedUnitStateTest() {
    link.sites.add(siteA);
    link.sites.add(siteB);
    siteA.useSharedState(link);
    siteB.useSharedState(link);
    for (ItNexus n : List.of(host1A, host2A)) {
      siteA.nexusAttached(n);
      run(n, TUR);
    }
    for (ItNexus n : List.of(host1B, host2B)) {
      siteB.nexusAttached(n);
      run(n, TUR);
    }
  }

  static LogicalUnit unit(int group, PersistentState disk) {
    var groups =
        new AluaGroups(
            List.of(new AluaGroups.PortGroup(group, AluaState.ACTIVE_OPTIMIZED, List.of(group))));
    return new LogicalUnit(new RamVolume(512, 64), new ScsiSite(groups), disk);
  }

  static ItNexus nexus(String host, TargetPort port) {
    return new ItNexus(host, host + ",i,0x000000000001", port);
  }

  LogicalUnit siteOf(ItNexus n) {
    return n.targetPort() == PORT_A ? siteA : siteB;
  }

  ScsiResult run(ItNexus n, byte[] cdb, byte[] dataOut) {
    return siteOf(n).execute(new ScsiTask(n, cdb, ByteBuffer.wrap(dataOut), 1 << 16, false, 1));
  }

  ScsiResult run(ItNexus n, byte[] cdb) {
    return run(n, cdb, new byte[0]);
  }

  ScsiResult out(ItNexus n, int action, int type, byte[] parameters) {
    return run(n, proutCdb(action, type, parameters.length), parameters);
  }

  ScsiResult out(ItNexus n, int action, int type, long key, long sark) {
    return out(n, action, type, basic(key, sark, 0));
  }

  /** REGISTER then RESERVE (write exclusive) from {@code n}. */
  void registerAndReserve(ItNexus n, long key) {
    assertGood(out(n, REGISTER, 0, 0, key));
    assertGood(out(n, RESERVE, WRITE_EXCLUSIVE, key, 0));
  }

  /** READ KEYS + READ RESERVATION as one site reports them. */
  byte[] prState(ItNexus n) {
    byte[] keys = data(run(n, cdb(0x5e, 0, 0, 0, 0, 0, 0, 4, 0, 0)));
    byte[] reservation = data(run(n, cdb(0x5e, 1, 0, 0, 0, 0, 0, 4, 0, 0)));
    ByteBuffer both = ByteBuffer.allocate(keys.length + reservation.length);
    return both.put(keys).put(reservation).array();
  }

  @Test
  void aReservationTakenAtSiteABlocksAnotherHostsWriteAtSiteB() {
    registerAndReserve(host1A, 0x11);
    ScsiResult write = run(host2B, rw10(0x2a, 0, 1), new byte[512]);
    assertThat(write.status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertGood(run(host2B, rw10(0x28, 0, 1))); // write exclusive: reads pass
    assertGood(run(host1A, rw10(0x2a, 0, 1), new byte[512]));
    assertThat(prState(host2B)).isEqualTo(prState(host1A));
    assertThat(link.disagreed).isFalse();
  }

  @Test
  void preemptAtOneSiteRaisesUnitAttentionOnTheOtherSitesNexus() {
    registerAndReserve(host2B, 0x22);
    assertGood(out(host1A, REGISTER, 0, 0, 0x11));
    assertGood(out(host1A, PREEMPT, WRITE_EXCLUSIVE, 0x11, 0x22));
    assertSense(run(host2B, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x05); // REGISTRATIONS PREEMPTED
    assertGood(run(host2B, TUR));
    assertGood(run(host1A, TUR)); // the preempting nexus is told nothing
    ScsiResult write = run(host2B, rw10(0x2a, 0, 1), new byte[512]);
    assertThat(write.status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertThat(link.disagreed).isFalse();
  }

  @Test
  void errorsAreTheSameAtBothSites() {
    assertThat(out(host1A, RESERVE, WRITE_EXCLUSIVE, 0x11, 0).status())
        .isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertGood(out(host1A, REGISTER, 0, 0, 0x11));
    assertSense(out(host1B, RESERVE, 9, 0x11, 0), Sense.ILLEGAL_REQUEST, 0x24, 0x00);
    assertThat(link.commands).hasSize(3);
    assertThat(link.disagreed).isFalse();
  }

  @Test
  void registerAndMoveToAPortOfTheOtherSite() {
    registerAndReserve(host1A, 0x11);
    // Site A learned port 2 from a command of site B: it can resolve the destination.
    assertGood(out(host2B, REGISTER, 0, 0, 0x22));
    byte[] id = new TransportId("iqn.host:two", "000000000001").encode();
    ByteBuffer p = ByteBuffer.allocate(24 + id.length);
    p.putLong(0x11).putLong(0x33).put(17, (byte) 0).putShort(18, (short) 2).putInt(20, id.length);
    p.put(24, id);
    assertGood(out(host1A, REGISTER_AND_MOVE, WRITE_EXCLUSIVE, p.array()));
    assertGood(run(host2B, rw10(0x2a, 0, 1), new byte[512]));
    assertThat(run(host1A, rw10(0x2a, 0, 1), new byte[512]).status())
        .isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertThat(prState(host1A)).isEqualTo(prState(host2B));
  }

  @Test
  void concurrentCommandsFromBothSitesLeaveBothInTheSameState() throws Exception {
    List<ItNexus> hosts = new ArrayList<>();
    for (int h = 0; h < 8; h++) {
      ItNexus n = nexus("iqn.host:" + h, h % 2 == 0 ? PORT_A : PORT_B);
      siteOf(n).nexusAttached(n);
      run(n, TUR);
      hosts.add(n);
    }
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int h = 0; h < hosts.size(); h++) {
        ItNexus n = hosts.get(h);
        long key = 0x100 + h;
        threads.submit(
            () -> {
              for (int round = 0; round < 20; round++) {
                out(n, REGISTER, 0, 0, key);
                out(n, RESERVE, WRITE_EXCLUSIVE, key, 0);
                out(n, PREEMPT, WRITE_EXCLUSIVE, key, 0x100 + (round % 8));
                out(n, REGISTER, 0, key, 0);
              }
              return null;
            });
      }
    }
    assertThat(siteB.sharedSnapshot()).isEqualTo(siteA.sharedSnapshot());
    assertThat(link.disagreed).isFalse();
  }

  @Test
  void aptplIsSavedAtEachSite() {
    assertGood(out(host1A, REGISTER, 0, basic(0, 0x11, 0x01)));
    assertThat(diskA.saved).isNotNull().isEqualTo(diskB.saved);
  }

  @Test
  void aSiteWhoseDiskFailsKeepsTheStateTheOtherSiteHas() {
    diskB.fail = true;
    assertGood(out(host1A, REGISTER, 0, basic(0, 0x11, 0x01)));
    assertThat(prState(host1B)).isEqualTo(prState(host1A));
    assertThat(link.disagreed).isFalse();
  }

  @Test
  void aLogicalUnitResetReachesTheNexusesOfBothSites() {
    assertGood(run(host2B, cdb(0x16, 0, 0, 0, 0, 0))); // SPC-2 RESERVE at site B
    siteA.reset(host1A);
    assertSense(run(host1A, TUR), Sense.UNIT_ATTENTION, 0x29, 0x00);
    assertSense(run(host2A, TUR), Sense.UNIT_ATTENTION, 0x29, 0x03);
    assertSense(run(host1B, TUR), Sense.UNIT_ATTENTION, 0x29, 0x03);
    assertSense(run(host2B, TUR), Sense.UNIT_ATTENTION, 0x29, 0x03);
    assertGood(run(host1B, cdb(0x16, 0, 0, 0, 0, 0))); // the SPC-2 reservation went
  }

  static final byte[] MODE_SENSE_CACHING = cdb(0x1a, 0x08, 0x08, 0, 255, 0);

  ScsiResult modeSelect(ItNexus n, byte[] parameters) {
    return run(n, modeSelect6(parameters.length), parameters);
  }

  /** WCE as MODE SENSE reports it through {@code n}. */
  boolean wce(ItNexus n) {
    return (data(run(n, MODE_SENSE_CACHING))[4 + 2] & 0x04) != 0;
  }

  @Test
  void modeSelectAtOneSiteSetsWceAtBothAndTellsEveryNexusButTheIssuer() {
    assertGood(modeSelect(host1A, cachingPage(false)));
    assertThat(link.commands).hasSize(1);
    assertGood(run(host1A, TUR)); // the issuer knows
    assertSense(run(host2A, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x01);
    assertSense(run(host1B, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x01);
    assertSense(run(host2B, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x01);
    assertThat(wce(host1B)).isFalse();
    assertThat(wce(host1A)).isFalse();

    // Honoured at site B: a write without FUA reaches B's volume as FUA.
    RamVolume atB = (RamVolume) siteB.volume();
    int fuaBefore = atB.fuaWrites;
    assertGood(run(host2B, rw10(0x2a, 0, 1), new byte[512]));
    assertThat(atB.fuaWrites).isEqualTo(fuaBefore + 1);

    assertGood(modeSelect(host2B, cachingPage(true)));
    assertSense(run(host1A, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x01);
    assertGood(run(host2B, TUR));
    assertThat(wce(host1A)).isTrue();
    assertThat(link.disagreed).isFalse();
  }

  @Test
  void appliedModeSelectRaisesModeParametersChangedOnlyWhenWceChanges() {
    byte[] off = SharedCommand.encode(new SharedCommand.ModeSelect(host1A, false));
    assertGood(SharedCommand.decodeResult(siteA.applyShared(off)));
    assertGood(run(host1A, TUR));
    assertSense(run(host2A, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x01);
    assertThat(wce(host2A)).isFalse();
    assertGood(SharedCommand.decodeResult(siteA.applyShared(off))); // already off: no news
    assertGood(run(host2A, TUR));
    assertThat(wce(host1B)).as("applied at site A only").isTrue();
  }

  @Test
  void aBadModeSelectFailsWhereItArrivedAndNeverTravels() {
    byte[] bad = cachingPage(false);
    bad[7] = 0x11; // a byte that cannot change
    assertSense(modeSelect(host1B, bad), Sense.ILLEGAL_REQUEST, 0x26, 0x00);
    assertThat(link.commands).isEmpty();
    assertGood(run(host2B, TUR));
    assertThat(wce(host1A)).isTrue();
  }

  @Test
  void aModeSelectTheSitesCannotAgreeOnFailsAndChangesNothingHere() {
    siteB.useSharedState(
        command -> CompletableFuture.failedFuture(new VolumeUnavailableException("stale site")));
    assertSense(modeSelect(host1B, cachingPage(false)), Sense.NOT_READY, 0x04, 0x0c);
    siteB.useSharedState(command -> CompletableFuture.failedFuture(new IllegalStateException()));
    assertSense(modeSelect(host1B, cachingPage(false)), Sense.HARDWARE_ERROR, 0x44, 0x00);
    assertGood(run(host2B, TUR));
    assertThat(wce(host1B)).isTrue();
    RamVolume atB = (RamVolume) siteB.volume();
    int fuaBefore = atB.fuaWrites;
    assertGood(run(host2B, rw10(0x2a, 0, 1), new byte[512]));
    assertThat(atB.fuaWrites).isEqualTo(fuaBefore);

    siteB.useSharedState(null); // not replicated: applied here at once, as ever
    assertGood(modeSelect(host1B, cachingPage(false)));
    assertSense(run(host2B, TUR), Sense.UNIT_ATTENTION, 0x2a, 0x01);
    assertThat(wce(host2B)).isFalse();
    assertThat(wce(host1A)).isTrue();
  }

  @Test
  void theSnapshotCarriesWceAndAnInstalledChangeIsAnnounced() {
    assertGood(modeSelect(host1A, cachingPage(false)));
    LogicalUnit stale = unit(2, PersistentState.NONE);
    stale.nexusAttached(host1B);
    var tur = new ScsiTask(host1B, TUR, ByteBuffer.allocate(0), 0, false, 1);
    assertSense(stale.execute(tur), Sense.UNIT_ATTENTION, 0x29, 0x00);
    stale.installShared(siteA.sharedSnapshot());
    assertSense(stale.execute(tur), Sense.UNIT_ATTENTION, 0x2a, 0x01);
    var sense = new ScsiTask(host1B, MODE_SENSE_CACHING, ByteBuffer.allocate(0), 255, false, 1);
    assertThat(data(stale.execute(sense))[4 + 2] & 0x04).as("WCE installed").isZero();
    assertThat(stale.sharedSnapshot()).isEqualTo(siteA.sharedSnapshot());
    stale.installShared(siteA.sharedSnapshot()); // nothing changes: nothing to announce
    assertGood(stale.execute(tur));
  }

  @Test
  void aSnapshotInTheFormerFormatStillInstallsAndLeavesWceAsItIs() {
    assertGood(run(host1A, RESERVE6));
    assertGood(out(host1A, REGISTER, 0, basic(0, 0x11, 0x01))); // APTPL: diskA has its bytes
    byte[] holder = UnitAttentions.key(host1A).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    // Version 1, as sites sent it before WCE was shared: "DSS1" | 1 | str holder | state.
    ByteBuffer v1 = ByteBuffer.allocate(4 + 1 + 2 + holder.length + diskA.saved.length);
    v1.putInt(0x44535331).put((byte) 1).putShort((short) holder.length).put(holder);
    v1.put(diskA.saved);

    LogicalUnit stale = unit(2, PersistentState.NONE);
    stale.nexusAttached(host2B);
    var tur = new ScsiTask(host2B, TUR, ByteBuffer.allocate(0), 0, false, 1);
    stale.execute(tur); // the login attention
    byte[] off = cachingPage(false);
    var select = new ScsiTask(host2B, modeSelect6(off.length), ByteBuffer.wrap(off), 0, false, 1);
    assertGood(stale.execute(select)); // not replicated: WCE off here alone

    stale.installShared(v1.array());
    var read = new ScsiTask(host2B, rw10(0x28, 0, 1), ByteBuffer.allocate(0), 512, false, 1);
    assertThat(stale.execute(read).status())
        .as("the SPC-2 reservation of host 1 came with it")
        .isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    byte[] installed = stale.sharedSnapshot();
    byte[] atA = siteA.sharedSnapshot();
    assertThat(Arrays.copyOfRange(installed, 6, installed.length))
        .as("everything but WCE is site A's")
        .isEqualTo(Arrays.copyOfRange(atA, 6, atA.length));
    assertThat(installed[4]).as("sent on as version 2").isEqualTo((byte) 2);
    assertThat(installed[5]).as("WCE kept (off)").isZero();
    // MODE SENSE from host 2 would meet the SPC-2 reservation; the holder's nexus reads WCE.
    var sense = new ScsiTask(host1A, MODE_SENSE_CACHING, ByteBuffer.allocate(0), 255, false, 1);
    assertThat(data(stale.execute(sense))[4 + 2] & 0x04).as("WCE kept").isZero();
  }

  static final byte[] RESERVE6 = cdb(0x16, 0, 0, 0, 0, 0);
  static final byte[] RELEASE6 = cdb(0x17, 0, 0, 0, 0, 0);

  int status(ItNexus n, byte[] cdb) {
    return run(n, cdb, cdb[0] == 0x2a ? new byte[512] : new byte[0]).status();
  }

  @Test
  void anSpc2ReservationTakenAtOneSiteHoldsAtTheOtherUntilItsNexusEnds() {
    assertGood(run(host1A, RESERVE6));
    assertThat(status(host2B, rw10(0x28, 0, 1))).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertThat(status(host1B, rw10(0x2a, 0, 1))).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertThat(status(host2B, RESERVE6)).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    assertGood(run(host2B, RELEASE6)); // someone else's: a no-op
    assertGood(run(host1A, rw10(0x2a, 0, 1), new byte[512]));
    assertThat(siteB.sharedSnapshot()).isEqualTo(siteA.sharedSnapshot());

    LogicalUnit fresh = unit(2, PersistentState.NONE);
    fresh.installShared(siteA.sharedSnapshot());
    var read = new ScsiTask(host2B, rw10(0x28, 0, 1), ByteBuffer.allocate(0), 512, false, 1);
    assertThat(fresh.execute(read).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);

    siteA.nexusDetached(host1A); // the holder logged out at site A
    assertGood(run(host2B, RESERVE6));
    assertGood(run(host2B, RELEASE6));
    assertGood(run(host1B, rw10(0x2a, 0, 1), new byte[512]));
    assertThat(link.disagreed).isFalse();
  }

  @Test
  void snapshotAndInstallCarryTheWholeState() {
    assertGood(out(host1A, REGISTER, 0, 0, 0x11));
    assertGood(out(host2B, REGISTER, 0, basic(0, 0x22, 0x01)));
    assertGood(out(host2B, RESERVE, WRITE_EXCLUSIVE, 0x22, 0));
    var diskC = new PersistentReservationsTest.MemoryState();
    LogicalUnit stale = unit(2, diskC);
    ItNexus host1C = host1B;
    stale.nexusAttached(host1C);
    stale.installShared(siteA.sharedSnapshot());
    assertThat(stale.sharedSnapshot()).isEqualTo(siteA.sharedSnapshot());
    assertThat(diskC.saved).as("APTPL saved where installed").isNotNull();
    var write = new ScsiTask(host1C, rw10(0x2a, 0, 1), ByteBuffer.allocate(512), 512, false, 1);
    stale.execute(write); // consumes the login attention
    assertThat(stale.execute(write).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);

    byte[] before = stale.sharedSnapshot();
    assertThatThrownBy(() -> stale.installShared(new byte[] {1, 2, 3}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(stale.sharedSnapshot()).isEqualTo(before);
  }

  @Test
  void malformedCommandsGetAClearErrorAndNeverThrow() {
    byte[] r = siteA.applyShared(new byte[] {9, 9});
    assertSense(SharedCommand.decodeResult(r), Sense.HARDWARE_ERROR, 0x44, 0x00);
    assertThat(SharedCommand.resultMessage(r)).contains("malformed").contains("truncated");
    assertThat(SharedCommand.resultMessage(siteA.applyShared(new byte[0]))).contains("malformed");

    out(host1A, REGISTER, 0, 0, 0x11);
    out(host1A, RESERVE, WRITE_EXCLUSIVE, 0x11, 0);
    siteA.reset(host1A);
    List<byte[]> valid = List.copyOf(link.commands);
    Random random = new Random(4242);
    LogicalUnit victim = unit(1, PersistentState.NONE);
    for (int i = 0; i < 1000; i++) {
      byte[] c;
      if (i % 2 == 0) {
        c = new byte[random.nextInt(200)];
        random.nextBytes(c);
      } else {
        c = valid.get(random.nextInt(valid.size())).clone();
        int flips = 1 + random.nextInt(4);
        for (int k = 0; k < flips && c.length > 0; k++) {
          c[random.nextInt(c.length)] = (byte) random.nextInt(256);
        }
        if (random.nextInt(4) == 0) {
          c = java.util.Arrays.copyOf(c, random.nextInt(c.length + 8));
        }
      }
      byte[] result = victim.applyShared(c);
      ScsiResult decoded = SharedCommand.decodeResult(result);
      assertThat(decoded.status())
          .isIn(ScsiResult.GOOD, ScsiResult.CHECK_CONDITION, ScsiResult.RESERVATION_CONFLICT);
    }
  }

  @Test
  void aSiteThatMustNotServeAnswersNotReadyAndResetsItsOwnNexuses() {
    SharedUnitState refusing =
        command -> CompletableFuture.failedFuture(new VolumeUnavailableException("stale site"));
    siteB.useSharedState(refusing);
    assertSense(out(host1B, REGISTER, 0, 0, 0x11), Sense.NOT_READY, 0x04, 0x0c);
    siteB.reset(host1B);
    assertSense(run(host1B, TUR), Sense.UNIT_ATTENTION, 0x29, 0x00);
    assertSense(run(host2B, TUR), Sense.UNIT_ATTENTION, 0x29, 0x03);
    assertGood(run(host1A, TUR)); // the other site never heard of it
    SharedUnitState broken = command -> CompletableFuture.failedFuture(new IllegalStateException());
    siteB.useSharedState(broken);
    assertSense(out(host1B, REGISTER, 0, 0, 0x11), Sense.HARDWARE_ERROR, 0x44, 0x00);
    siteB.useSharedState(null); // back to local: applies at once
    assertGood(out(host1B, REGISTER, 0, 0, 0x11));
  }
}
