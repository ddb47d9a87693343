package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.inquiry;
import static io.duet.scsi.Fixture.rw10;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AluaAndAttentionTest {
  private final Fixture f = new Fixture();
  private static final byte[] TUR = cdb(0, 0, 0, 0, 0, 0);
  private static final byte[] RTPG = cdb(0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0);

  @Test
  void loginRaisesResetOccurredOnceAndInquiryDoesNotConsumeIt() {
    f.lu.nexusAttached(f.nexus);
    assertGood(f.run(inquiry(false, 0, 36)));
    assertSense(f.run(TUR), 6, 0x29, 0x00); // POWER ON, RESET, OR BUS DEVICE RESET
    assertGood(f.run(TUR));
  }

  @Test
  void requestSenseReportsAndClearsTheUnitAttention() {
    f.lu.nexusAttached(f.nexus);
    ScsiResult r = f.run(cdb(0x03, 0, 0, 0, 252, 0));
    assertGood(r);
    byte[] d = data(r);
    assertThat(d[0]).isEqualTo((byte) 0x70);
    assertThat(d[2] & 0x0f).isEqualTo(6);
    assertThat(d[12]).isEqualTo((byte) 0x29);
    ScsiResult none = f.run(cdb(0x03, 1, 0, 0, 252, 0)); // descriptor format
    byte[] n = data(none);
    assertThat(n[0]).isEqualTo((byte) 0x72);
    assertThat(n[1]).isZero();
    assertGood(f.run(TUR));
  }

  @Test
  void luResetRaisesOnEveryNexusIncludingTheResetter() {
    f.lu.nexusAttached(f.nexus);
    f.lu.nexusAttached(f.nexusB);
    f.run(TUR);
    f.run(f.nexusB, TUR, new byte[0]);
    f.lu.reset(f.nexus);
    assertSense(f.run(TUR), 6, 0x29, 0x00);
    assertSense(f.run(f.nexusB, TUR, new byte[0]), 6, 0x29, 0x03); // BUS DEVICE RESET FUNCTION
    assertGood(f.run(TUR));
  }

  @Test
  void capacityChangeRaisesCapacityDataChanged() {
    f.lu.nexusAttached(f.nexus);
    f.run(TUR);
    f.volume.grow(Fixture.BLOCKS * 2);
    f.lu.capacityChanged();
    assertSense(f.run(rw10(0x28, 0, 1)), 6, 0x2a, 0x09);
    byte[] rc = data(f.run(cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
    assertThat(BigEndian.u32(rc, 0)).isEqualTo(Fixture.BLOCKS * 2 - 1);
  }

  @Test
  void modeSelectChangeRaisesModeParametersChangedOnOtherNexuses() {
    f.lu.nexusAttached(f.nexus);
    f.lu.nexusAttached(f.nexusB);
    f.run(TUR);
    f.run(f.nexusB, TUR, new byte[0]);
    byte[] caching = data(f.run(cdb(0x1a, 0x08, 0x08, 0, 255, 0)));
    caching[0] = 0;
    caching[4 + 2] = 0;
    assertGood(f.run(cdb(0x15, 0x10, 0, 0, caching.length, 0), caching));
    assertGood(f.run(TUR));
    assertSense(f.run(f.nexusB, TUR, new byte[0]), 6, 0x2a, 0x01);
  }

  @Test
  void standbyAllowsOnlyItsCommands() {
    f.alua.setState(1, AluaState.STANDBY);
    f.run(TUR); // no nexus known yet: no UA
    assertSense(f.run(rw10(0x28, 0, 1)), 2, 0x04, 0x0b);
    assertSense(f.run(TUR), 2, 0x04, 0x0b);
    assertGood(f.run(inquiry(false, 0, 36)));
    assertGood(f.run(RTPG));
    assertGood(f.run(cdb(0x1a, 0, 0x3f, 0, 255, 0)));
    ScsiResult sense = f.run(cdb(0x03, 0, 0, 0, 18, 0));
    assertGood(sense);
    assertThat(data(sense)[2] & 0x0f).isEqualTo(2);
    assertThat(data(sense)[13]).isEqualTo((byte) 0x0b);
    assertGood(f.run(f.nexusB, rw10(0x28, 0, 1), new byte[0]));
  }

  @Test
  void unavailableAndTransitioning() {
    f.alua.setState(1, AluaState.UNAVAILABLE);
    assertSense(f.run(rw10(0x2a, 0, 1), new byte[Fixture.BS]), 2, 0x04, 0x0c);
    assertSense(f.run(cdb(0x1a, 0, 0x3f, 0, 255, 0)), 2, 0x04, 0x0c);
    assertGood(f.run(RTPG));
    f.alua.setState(1, AluaState.TRANSITIONING);
    assertSense(f.run(rw10(0x28, 0, 1)), 2, 0x04, 0x0a);
    assertGood(f.run(cdb(0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0)));
  }

  @Test
  void stateChangeRaisesAsymmetricAccessChangedOnEveryNexusOfEveryUnit() {
    Fixture same = f;
    LogicalUnit second = new LogicalUnit(new RamVolume(512, 64), same.site, PersistentState.NONE);
    same.lu.nexusAttached(same.nexus);
    second.nexusAttached(same.nexusB);
    same.run(TUR);
    second.execute(new ScsiTask(same.nexusB, TUR, java.nio.ByteBuffer.allocate(0), 0, false, 1));
    same.alua.setState(2, AluaState.STANDBY);
    assertSense(same.run(TUR), 6, 0x2a, 0x06);
    ScsiResult r =
        second.execute(
            new ScsiTask(same.nexusB, TUR, java.nio.ByteBuffer.allocate(0), 0, false, 1));
    assertSense(r, 6, 0x2a, 0x06);
  }

  @Test
  void reportTargetPortGroupsListsBothSites() {
    f.alua.setState(2, AluaState.STANDBY);
    byte[] c = cdb(0xa3, 0x2a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0);
    byte[] d = data(f.run(c));
    assertThat(BigEndian.u32(d, 0)).isEqualTo(d.length - 4);
    assertThat(d[4]).isEqualTo((byte) 0x10);
    assertThat(d[5]).isEqualTo((byte) PortGroupReport.IMPLICIT_TRANSITION_SECONDS);
    assertThat(d[8] & 0x0f).isEqualTo(AluaState.ACTIVE_OPTIMIZED.code());
    assertThat(BigEndian.u16(d, 10)).isEqualTo(1);
    assertThat(d[15]).isEqualTo((byte) 1);
    assertThat(BigEndian.u16(d, 18)).isEqualTo(1);
    assertThat(d[20] & 0x0f).isEqualTo(AluaState.STANDBY.code());
    assertThat(d[25]).isEqualTo((byte) 2); // status: implicit change
    byte[] plain = data(f.run(cdb(0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0)));
    assertThat(BigEndian.u32(plain, 0)).isEqualTo(plain.length - 4);
    assertThat(plain.length).isEqualTo(d.length - 4);
    assertThat(f.run(cdb(0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0)).dataIn().remaining())
        .isEqualTo(4);
  }
}
