package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.ForwardingVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ExtendedCopyTest {
  static final int COPY_ABORTED = 0x0a;
  static final int ILLEGAL = 0x05;

  final Fixture f = new Fixture();
  final byte[] naa = f.volume.identity().naa();

  /** The same data under another identity (another NAA), as a second LU of the site. */
  static final class Renamed extends ForwardingVolume {
    final VolumeIdentity identity;

    Renamed(Volume inner, int tag) {
      super(inner);
      byte[] naa = new byte[16];
      naa[0] = 0x60;
      naa[15] = (byte) tag;
      this.identity = new VolumeIdentity(UUID.nameUUIDFromBytes(naa), "other", naa, "SERIAL" + tag);
    }

    @Override
    public VolumeIdentity identity() {
      return identity;
    }
  }

  // ---- parameter list builders (the layout libiscsi's populate_* helpers produce) ----

  static byte[] target(byte[] naa, int type) {
    ByteBuffer d = ByteBuffer.allocate(32);
    d.put(0, (byte) type);
    d.put(4, (byte) 0x01).put(5, (byte) 0x03).put(7, (byte) naa.length).put(8, naa);
    d.put(30, (byte) 0x02); // disk block length 512
    return d.array();
  }

  static byte[] segment(int src, int dst, int blocks, long srcLba, long dstLba) {
    ByteBuffer d = ByteBuffer.allocate(28);
    d.put(0, (byte) 0x02)
        .putShort(2, (short) 0x18)
        .putShort(4, (short) src)
        .putShort(6, (short) dst);
    d.putShort(10, (short) blocks).putLong(12, srcLba).putLong(20, dstLba);
    return d.array();
  }

  static byte[] list(int listId, int usage, List<byte[]> targets, List<byte[]> segments) {
    int t = targets.stream().mapToInt(x -> x.length).sum();
    int s = segments.stream().mapToInt(x -> x.length).sum();
    ByteBuffer b = ByteBuffer.allocate(16 + t + s);
    b.put((byte) listId).put((byte) (usage << 3)).putShort((short) t).putInt(8, s).position(16);
    targets.forEach(b::put);
    segments.forEach(b::put);
    return b.array();
  }

  byte[] simple(int listId, int blocks, long srcLba, long dstLba) {
    return list(
        listId, 0, List.of(target(naa, 0xe4)), List.of(segment(0, 0, blocks, srcLba, dstLba)));
  }

  static byte[] xcopyCdb(int length) {
    byte[] c = new byte[16];
    c[0] = (byte) 0x83;
    ByteBuffer.wrap(c).putInt(10, length);
    return c;
  }

  ScsiResult xcopy(byte[] params) {
    return f.run(xcopyCdb(params.length), params);
  }

  static byte[] rcrCdb(int sa, int listId, int alloc) {
    byte[] c = new byte[16];
    c[0] = (byte) 0x84;
    c[1] = (byte) sa;
    c[2] = (byte) listId;
    ByteBuffer.wrap(c).putInt(10, alloc);
    return c;
  }

  byte[] read(Volume v, long lba, int blocks) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(blocks * Fixture.BS);
    v.read(lba * Fixture.BS, b);
    return b.array();
  }

  // ---- copying ----

  @Test
  void copiesWithinTheLogicalUnit() throws IOException {
    byte[] pattern = Fixture.pattern(1024, 3);
    f.volume.write(0, ByteBuffer.wrap(pattern), false);
    assertGood(xcopy(simple(1, 1024, 0, 3072)));
    assertThat(read(f.volume, 3072, 1024)).isEqualTo(pattern);
  }

  @Test
  void withTheWriteCacheOffTheCopyIsDurableBeforeItsStatus() {
    assertGood(xcopy(simple(1, 8, 0, 100)));
    assertThat(f.volume.fuaWrites).as("WCE=1: acknowledged from the cache").isZero();
    f.writeCacheOff();
    assertGood(xcopy(simple(2, 8, 0, 200)));
    assertThat(f.volume.fuaWrites).isPositive();
  }

  @Test
  void copiesToAnotherLogicalUnitOfTheSite() throws IOException {
    RamVolume backing = new RamVolume(Fixture.BS, Fixture.BLOCKS);
    Renamed other = new Renamed(backing, 7);
    LunMap map = new LunMap();
    java.util.TreeMap<Integer, LunMap.Binding> m = new java.util.TreeMap<>();
    m.put(0, new LunMap.Binding(f.lu, false));
    m.put(1, new LunMap.Binding(new LogicalUnit(other, f.site, PersistentState.NONE), false));
    map.replace(m);
    byte[] pattern = Fixture.pattern(100, 9);
    f.volume.write(10 * Fixture.BS, ByteBuffer.wrap(pattern), false);
    byte[] params =
        list(
            2,
            0,
            List.of(target(naa, 0xe4), target(other.identity().naa(), 0xe4)),
            List.of(segment(0, 1, 100, 10, 500)));
    assertGood(
        map.execute(
            0,
            new ScsiTask(f.nexus, xcopyCdb(params.length), ByteBuffer.wrap(params), 0, false, 1)));
    assertThat(read(backing, 500, 100)).isEqualTo(pattern);
  }

  @Test
  void overlappingCopyForwardOnOneVolumeMovesDataLikeMemmove() throws IOException {
    byte[] pattern = Fixture.pattern(3000, 5);
    f.volume.write(0, ByteBuffer.wrap(pattern), false);
    assertGood(xcopy(simple(1, 3000, 0, 1000)));
    assertThat(read(f.volume, 1000, 3000)).isEqualTo(pattern);
  }

  @Test
  void emptyParameterListIsGood() {
    assertGood(f.run(xcopyCdb(0), new byte[0]));
  }

  @Test
  void luIdTypeAndNulBitAreIgnored() {
    byte[] t = target(naa, 0xe4);
    t[1] = (byte) 0xe0; // LU ID TYPE 11b, NUL set
    assertGood(xcopy(list(1, 2, List.of(t), List.of(segment(0, 0, 8, 0, 100)))));
  }

  // ---- parameter errors (libiscsi extendedcopy_param / descr_limits / descr_type) ----

  @Test
  void truncatedListsAreLengthErrors() {
    byte[] full = simple(1, 8, 0, 100);
    for (int n : new int[] {1, 15, 16 + 31, full.length - 1}) {
      assertSense(f.run(xcopyCdb(n), java.util.Arrays.copyOf(full, n)), ILLEGAL, 0x1a, 0);
    }
  }

  @Test
  void lessDataOutThanTheParameterListLengthIsATransportShortfall() {
    byte[] full = simple(1, 8, 0, 100);
    byte[] cut = java.util.Arrays.copyOf(full, full.length - 10);
    assertSense(f.run(xcopyCdb(full.length), cut), ILLEGAL, 0x0e, 0x03);
  }

  @Test
  void descriptorLimits() {
    List<byte[]> targets = new ArrayList<>();
    for (int i = 0; i <= ExtendedCopy.LIMITS.maxTargets(); i++) {
      targets.add(target(naa, 0xe4));
    }
    assertSense(xcopy(list(1, 0, targets, List.of(segment(0, 0, 1, 0, 1)))), ILLEGAL, 0x26, 0x06);
    List<byte[]> segments = new ArrayList<>();
    for (int i = 0; i <= ExtendedCopy.LIMITS.maxSegments(); i++) {
      segments.add(segment(0, 0, 1, 0, 1));
    }
    assertSense(xcopy(list(2, 0, List.of(target(naa, 0xe4)), segments)), ILLEGAL, 0x26, 0x08);
    List<byte[]> many = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      many.add(segment(0, 0, 1, 0, 1));
    }
    assertSense(xcopy(list(3, 0, targets, many)), ILLEGAL, 0x1a, 0);
  }

  @Test
  void unsupportedDescriptorTypes() {
    assertSense(
        xcopy(list(1, 0, List.of(target(naa, 0xe0)), List.of(segment(0, 0, 1, 0, 1)))),
        ILLEGAL,
        0x26,
        0x07);
    byte[] streamToStream = new byte[20];
    streamToStream[0] = 0x03;
    streamToStream[3] = 0x10;
    assertSense(
        xcopy(list(1, 0, List.of(target(naa, 0xe4)), List.of(streamToStream))),
        ILLEGAL,
        0x26,
        0x09);
  }

  @Test
  void badIndexAndOutOfRangeAbortTheCopy() {
    assertSense(
        xcopy(list(1, 0, List.of(target(naa, 0xe4)), List.of(segment(0, 1, 8, 0, 100)))),
        COPY_ABORTED,
        0x0d,
        0x02);
    assertSense(xcopy(simple(1, 2048, 0, Fixture.BLOCKS - 1)), COPY_ABORTED, 0x00, 0x00);
    byte[] unknown = naa.clone();
    unknown[15] ^= 0x55;
    assertSense(
        xcopy(list(1, 0, List.of(target(unknown, 0xe4)), List.of(segment(0, 0, 8, 0, 100)))),
        COPY_ABORTED,
        0x0d,
        0x02);
  }

  @Test
  void readFailureAbortsTheCopy() {
    f.volume.failReads = true;
    assertSense(xcopy(simple(1, 8, 0, 100)), COPY_ABORTED, 0x11, 0x00);
  }

  @Test
  void otherCdbServiceActionsAreInvalid() {
    byte[] cdb = xcopyCdb(0);
    cdb[1] = 0x01; // LID4
    assertSense(f.run(cdb, new byte[0]), ILLEGAL, 0x24, 0);
  }

  @Test
  void randomParameterListsNeverEscape() {
    Random random = new Random(11);
    byte[] base = simple(1, 4, 0, 10);
    for (int i = 0; i < 5_000; i++) {
      byte[] p = i % 2 == 0 ? base.clone() : new byte[random.nextInt(200)];
      if (i % 2 == 0) {
        for (int k = 1 + random.nextInt(3); k > 0; k--) {
          p[random.nextInt(p.length)] = (byte) random.nextInt();
        }
      } else {
        random.nextBytes(p);
      }
      int length = random.nextInt(10) == 0 ? random.nextInt(400) : p.length;
      ScsiResult r = f.run(xcopyCdb(length), p);
      assertThat(r.status()).isIn(ScsiResult.GOOD, ScsiResult.CHECK_CONDITION);
      if (r.status() == ScsiResult.CHECK_CONDITION) {
        assertThat(r.sense()[2] & 0xf).isIn(ILLEGAL, COPY_ABORTED);
      }
    }
  }

  // ---- RECEIVE COPY RESULTS ----

  @Test
  void copyStatusOfAHeldCopy() {
    assertSense(f.run(rcrCdb(0, 1, 1024)), ILLEGAL, 0x24, 0); // nothing ran yet
    assertGood(xcopy(simple(1, 16, 0, 100)));
    ScsiResult r = f.run(rcrCdb(0, 1, 1024));
    assertGood(r);
    ByteBuffer d = r.dataIn().duplicate();
    assertThat(d.remaining()).isEqualTo(12);
    assertThat(d.getInt(0)).isEqualTo(8);
    assertThat(d.get(4) & 0x7f).isEqualTo(CopyResults.STATUS_DONE);
    assertThat(d.getShort(5)).isEqualTo((short) 1);
    assertThat(d.get(7)).isZero(); // bytes
    assertThat(d.getInt(8)).isEqualTo(16 * Fixture.BS);
    assertSense(f.run(rcrCdb(0, 1, 1024)), ILLEGAL, 0x24, 0); // reported once
  }

  @Test
  void resultsArePerNexusAndNotHeldWhenAskedNotTo() {
    assertGood(xcopy(list(3, 2, List.of(target(naa, 0xe4)), List.of(segment(0, 0, 1, 0, 1)))));
    assertSense(f.run(rcrCdb(0, 3, 1024)), ILLEGAL, 0x24, 0);
    assertGood(xcopy(simple(4, 1, 0, 1)));
    assertSense(f.run(f.nexusB, rcrCdb(0, 4, 1024), new byte[0]), ILLEGAL, 0x24, 0);
  }

  @Test
  void failedSegmentDetailsCarryTheSense() {
    assertThat(xcopy(simple(5, 8, 0, Fixture.BLOCKS)).status())
        .isEqualTo(ScsiResult.CHECK_CONDITION);
    ByteBuffer status = f.run(rcrCdb(0, 5, 1024)).dataIn().duplicate();
    assertThat(status.get(4) & 0x7f).isEqualTo(CopyResults.STATUS_FAILED);
    ScsiResult r = f.run(rcrCdb(4, 5, 1024));
    assertGood(r);
    ByteBuffer d = r.dataIn().duplicate();
    assertThat(d.getInt(0)).isEqualTo(d.remaining() - 4);
    assertThat(d.get(56)).isEqualTo((byte) ScsiResult.CHECK_CONDITION);
    int senseLength = d.getShort(58);
    assertThat(senseLength).isEqualTo(18);
    assertThat(d.get(60 + 2) & 0xf).isEqualTo(COPY_ABORTED);
    assertSense(f.run(rcrCdb(4, 5, 1024)), ILLEGAL, 0x24, 0);
  }

  @Test
  void operatingParametersMatchTheLimits() {
    ScsiResult r = f.run(rcrCdb(3, 0, 1024));
    assertGood(r);
    ByteBuffer d = r.dataIn().duplicate();
    assertThat(d.getInt(0)).isGreaterThanOrEqualTo(40).isEqualTo(d.remaining() - 4);
    assertThat(d.getShort(8)).isEqualTo((short) ExtendedCopy.LIMITS.maxTargets());
    assertThat(d.getShort(10)).isEqualTo((short) ExtendedCopy.LIMITS.maxSegments());
    assertThat(d.getInt(12)).isEqualTo(ExtendedCopy.LIMITS.maxDescriptorListBytes());
    int codes = d.get(43);
    assertThat(codes).isEqualTo(2);
    assertThat(new byte[] {d.get(44), d.get(45)}).containsExactly(0x02, (byte) 0xe4);
    // The descriptor-list limit admits one over either count limit, as libiscsi's test needs.
    {
      int maxT = ExtendedCopy.LIMITS.maxTargets();
      int maxS = ExtendedCopy.LIMITS.maxSegments();
      assertThat((maxT + 1) * 32 + 28).isLessThanOrEqualTo(d.getInt(12));
      assertThat(32 + (maxS + 1) * 28).isLessThanOrEqualTo(d.getInt(12));
    }
    assertThat(Fixture.data(f.run(rcrCdb(3, 0, 10)))).hasSize(10);
  }

  @Test
  void unsupportedResultsServiceActions() {
    assertSense(f.run(rcrCdb(1, 0, 1024)), ILLEGAL, 0x24, 0);
    assertSense(f.run(rcrCdb(0x1f, 0, 1024)), ILLEGAL, 0x24, 0);
  }

  @Test
  void listIdInUseIsRefused() {
    CopyResults results = new CopyResults();
    CopyResults.Running first = results.begin(f.nexus, 9, true, true);
    assertThat(first).isNotNull();
    assertThat(results.begin(f.nexus, 9, true, true)).isNull();
    assertThat(results.begin(f.nexusB, 9, true, true)).isNotNull();
    first.progress(1, 512);
    assertThat(ByteBuffer.wrap(results.copyStatus(f.nexus, 9)).get(4)).isEqualTo((byte) 0);
    assertThat(results.failedSegmentDetails(f.nexus, 9)).hasSize(4);
    results.finish(f.nexus, first, 1, 512, null);
    assertThat(results.begin(f.nexus, 9, true, true)).isNotNull();
  }

  // ---- VPD 0x8F ----

  @Test
  void thirdPartyCopyPageAdvertisesWhatIsImplemented() {
    ScsiResult r = f.run(Fixture.inquiry(true, 0x8f, 1024));
    assertGood(r);
    ByteBuffer d = r.dataIn().duplicate();
    assertThat(d.get(1)).isEqualTo((byte) 0x8f);
    assertThat(d.getShort(2) & 0xffff).isEqualTo(d.remaining() - 4);
    List<Integer> types = new ArrayList<>();
    boolean copyStatus = false;
    int at = 4;
    while (at < d.remaining()) {
      int type = d.getShort(at) & 0xffff;
      int length = d.getShort(at + 2) & 0xffff;
      assertThat(length % 4).isZero();
      types.add(type);
      if (type == 0x0001) {
        int listLength = d.get(at + 4);
        int p = at + 5;
        while (p < at + 5 + listLength) {
          int op = d.get(p) & 0xff;
          int n = d.get(p + 1);
          for (int i = 0; i < n; i++) {
            copyStatus |= op == 0x84 && d.get(p + 2 + i) == 0x00;
          }
          p += 2 + n;
        }
      }
      at += 4 + length;
    }
    assertThat(at).isEqualTo(d.remaining());
    assertThat(types).containsExactly(0x0001, 0x0008, 0x0009, 0x000a, 0x8001);
    assertThat(copyStatus).isTrue();
  }
}
