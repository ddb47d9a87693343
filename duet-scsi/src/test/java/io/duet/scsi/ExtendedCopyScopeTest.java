package io.duet.scsi;

import static io.duet.scsi.ExtendedCopyTest.list;
import static io.duet.scsi.ExtendedCopyTest.rcrCdb;
import static io.duet.scsi.ExtendedCopyTest.segment;
import static io.duet.scsi.ExtendedCopyTest.target;
import static io.duet.scsi.ExtendedCopyTest.xcopyCdb;
import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * EXTENDED COPY reaches only what the issuing I_T nexus could reach itself: LUs mapped to it, with
 * its read-only flags and under the reservations that bind it.
 */
class ExtendedCopyScopeTest {
  static final int COPY_ABORTED = 0x0a;
  static final int DATA_PROTECT = 0x07;

  final Fixture f = new Fixture();
  final byte[] naa = f.volume.identity().naa();
  final RamVolume otherBacking = new RamVolume(Fixture.BS, Fixture.BLOCKS);
  final ExtendedCopyTest.Renamed otherVolume = new ExtendedCopyTest.Renamed(otherBacking, 7);
  final LogicalUnit other = new LogicalUnit(otherVolume, f.site, PersistentState.NONE);
  final byte[] otherNaa = otherVolume.identity().naa();
  final LunMap map = new LunMap();

  /** Maps the fixture's LU at LUN 0 and, if {@code otherLun} >= 0, the other LU there. */
  void map(boolean selfReadOnly, int otherLun, boolean otherReadOnly) {
    TreeMap<Integer, LunMap.Binding> m = new TreeMap<>();
    m.put(0, new LunMap.Binding(f.lu, selfReadOnly));
    if (otherLun >= 0) {
      m.put(otherLun, new LunMap.Binding(other, otherReadOnly));
    }
    map.replace(m);
  }

  ScsiResult run(ItNexus n, int lun, byte[] cdb, byte[] dataOut) {
    return map.execute(lun, new ScsiTask(n, cdb, ByteBuffer.wrap(dataOut), 1 << 20, false, 3));
  }

  /** A copy of {@code blocks} blocks from CSCD {@code from} to {@code to}, sent to LUN 0. */
  ScsiResult copy(ItNexus n, byte[] fromNaa, byte[] toNaa, int blocks) {
    byte[] params =
        list(
            1,
            0,
            List.of(target(fromNaa, 0xe4), target(toNaa, 0xe4)),
            List.of(segment(0, 1, blocks, 10, 500)));
    return run(n, 0, xcopyCdb(params.length), params);
  }

  byte[] read(RamVolume v, long lba, int blocks) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(blocks * Fixture.BS);
    v.read(lba * Fixture.BS, b);
    return b.array();
  }

  void fill(RamVolume v, long lba, byte[] data) throws IOException {
    v.write(lba * Fixture.BS, ByteBuffer.wrap(data), false);
  }

  @Test
  void copiesBetweenLogicalUnitsMappedToTheNexus() throws IOException {
    map(false, 1, false);
    byte[] pattern = Fixture.pattern(64, 4);
    fill(f.volume, 10, pattern);
    assertGood(copy(f.nexus, naa, otherNaa, 64));
    assertThat(read(otherBacking, 500, 64)).isEqualTo(pattern);
  }

  @Test
  void logicalUnitOfTheSiteThatIsNotMappedIsUnreachable() throws IOException {
    map(false, -1, false);
    byte[] secret = Fixture.pattern(8, 9);
    fill(otherBacking, 10, secret);
    fill(f.volume, 10, Fixture.pattern(8, 1));
    // Neither reading another host's LU ...
    assertSense(copy(f.nexus, otherNaa, naa, 8), COPY_ABORTED, 0x0d, 0x02);
    assertThat(read(f.volume, 500, 8)).isEqualTo(new byte[8 * Fixture.BS]);
    // ... nor overwriting it.
    assertSense(copy(f.nexus, naa, otherNaa, 8), COPY_ABORTED, 0x0d, 0x02);
    assertThat(read(otherBacking, 500, 8)).isEqualTo(new byte[8 * Fixture.BS]);
    assertThat(read(otherBacking, 10, 8)).isEqualTo(secret);
  }

  @Test
  void unreachableTargetPointsAtTheSegmentField() {
    map(false, -1, false);
    ScsiResult r = copy(f.nexus, naa, otherNaa, 8);
    byte[] s = r.sense();
    assertThat(s[15] & 0x80).as("SKSV").isEqualTo(0x80);
    int pointer = ((s[16] & 0xff) << 8) | (s[17] & 0xff);
    assertThat(pointer).isEqualTo(16 + 64 + 6); // the segment's destination CSCD index
  }

  @Test
  void commandsNotSentThroughALunMapReachOnlyTheirOwnLogicalUnit() {
    byte[] params =
        list(
            1,
            0,
            List.of(target(naa, 0xe4), target(otherNaa, 0xe4)),
            List.of(segment(0, 1, 8, 10, 500)));
    assertSense(f.run(xcopyCdb(params.length), params), COPY_ABORTED, 0x0d, 0x02);
  }

  @Test
  void readOnlyDestinationIsRefusedBeforeAnythingMoves() throws IOException {
    map(false, 1, true);
    fill(f.volume, 10, Fixture.pattern(8, 2));
    assertSense(copy(f.nexus, naa, otherNaa, 8), DATA_PROTECT, 0x27, 0x00);
    assertThat(read(otherBacking, 500, 8)).isEqualTo(new byte[8 * Fixture.BS]);
    // Reading from the read-only LU is fine.
    byte[] pattern = Fixture.pattern(8, 6);
    fill(otherBacking, 10, pattern);
    assertGood(copy(f.nexus, otherNaa, naa, 8));
    assertThat(read(f.volume, 500, 8)).isEqualTo(pattern);
  }

  @Test
  void readOnlyMappingOfTheAddressedUnitForbidsCopyingIntoItself() throws IOException {
    map(true, 1, false);
    byte[] params = list(1, 0, List.of(target(naa, 0xe4)), List.of(segment(0, 0, 8, 0, 100)));
    assertSense(run(f.nexus, 0, xcopyCdb(params.length), params), DATA_PROTECT, 0x27, 0x00);
    // The copy may still take data out of it.
    fill(f.volume, 10, Fixture.pattern(8, 5));
    assertGood(copy(f.nexus, naa, otherNaa, 8));
  }

  @Test
  void sameUnitMappedTwiceCountsAsWritableIfEitherMappingIs() {
    TreeMap<Integer, LunMap.Binding> m = new TreeMap<>();
    m.put(0, new LunMap.Binding(f.lu, false));
    m.put(1, new LunMap.Binding(other, true));
    m.put(2, new LunMap.Binding(other, false));
    map.replace(m);
    assertGood(copy(f.nexus, naa, otherNaa, 8));
    assertThat(map.units()).containsExactly(f.lu, other);
  }

  @Test
  void reservationHeldByAnotherNexusBlocksTheCopyLikeItsOwnCommands() throws IOException {
    map(false, 1, false);
    ItNexus holder = new ItNexus("iqn.holder", "iqn.holder,i,0x1", f.portA);
    // The holder takes WRITE EXCLUSIVE on the other LU.
    byte[] register = ByteBuffer.allocate(24).putLong(8, 0xabcL).array();
    assertGood(
        other.execute(task(holder, PersistentReservationsTest.proutCdb(0, 0, 24), register)));
    byte[] reserve = ByteBuffer.allocate(24).putLong(0, 0xabcL).array();
    assertGood(
        other.execute(
            task(
                holder,
                PersistentReservationsTest.proutCdb(1, PersistentReservationsTest.WE, 24),
                reserve)));
    fill(f.volume, 10, Fixture.pattern(8, 3));
    assertSense(copy(f.nexus, naa, otherNaa, 8), COPY_ABORTED, 0x0d, 0x01);
    assertThat(read(otherBacking, 500, 8)).isEqualTo(new byte[8 * Fixture.BS]);
    // WRITE EXCLUSIVE still lets everyone read.
    assertGood(copy(f.nexus, otherNaa, naa, 8));
    // The holder itself may copy into it (through its own map).
    assertGood(copy(holder, naa, otherNaa, 8));
  }

  @Test
  void exclusiveAccessAlsoBlocksReadingTheSource() {
    map(false, 1, false);
    ItNexus holder = new ItNexus("iqn.holder", "iqn.holder,i,0x1", f.portA);
    byte[] register = ByteBuffer.allocate(24).putLong(8, 0x77L).array();
    assertGood(
        other.execute(task(holder, PersistentReservationsTest.proutCdb(0, 0, 24), register)));
    byte[] reserve = ByteBuffer.allocate(24).putLong(0, 0x77L).array();
    assertGood(
        other.execute(
            task(
                holder,
                PersistentReservationsTest.proutCdb(1, PersistentReservationsTest.EA, 24),
                reserve)));
    assertSense(copy(f.nexus, otherNaa, naa, 8), COPY_ABORTED, 0x0d, 0x01);
  }

  @Test
  void heldResultsGoWithTheNexusAndWithALogicalUnitReset() {
    map(false, 1, false);
    map.attach(f.nexus);
    run(f.nexus, 0, Fixture.cdb(0, 0, 0, 0, 0, 0), new byte[0]); // consume the login UA
    assertGood(copy(f.nexus, naa, otherNaa, 8));
    assertGood(run(f.nexus, 0, rcrCdb(0, 1, 1024), new byte[0]));
    assertGood(copy(f.nexus, naa, otherNaa, 8));
    f.lu.reset(f.nexus);
    run(f.nexus, 0, Fixture.cdb(0, 0, 0, 0, 0, 0), new byte[0]); // the reset's UA
    assertSense(run(f.nexus, 0, rcrCdb(0, 1, 1024), new byte[0]), 0x05, 0x24, 0x00);
    assertGood(copy(f.nexus, naa, otherNaa, 8));
    map.detach(f.nexus);
    assertSense(run(f.nexus, 0, rcrCdb(0, 1, 1024), new byte[0]), 0x05, 0x24, 0x00);
  }

  private static ScsiTask task(ItNexus n, byte[] cdb, byte[] out) {
    return new ScsiTask(n, cdb, ByteBuffer.wrap(out), 1 << 20, false, 1);
  }
}
