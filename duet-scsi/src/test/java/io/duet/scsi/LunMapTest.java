package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.inquiry;
import static io.duet.scsi.Fixture.rw10;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LunMapTest {
  private final Fixture f = new Fixture();
  private final LunMap map = new LunMap();
  private static final byte[] TUR = cdb(0, 0, 0, 0, 0, 0);

  private ScsiResult run(int lun, byte[] cdb, byte[] out) {
    return map.execute(lun, new ScsiTask(f.nexus, cdb, ByteBuffer.wrap(out), 1 << 20, false, 7));
  }

  private static byte[] reportLuns(int select, int alloc) {
    byte[] c = new byte[12];
    c[0] = (byte) 0xa0;
    c[2] = (byte) select;
    BigEndian.put32(c, 6, alloc);
    return c;
  }

  private void mapTwo() {
    TreeMap<Integer, LunMap.Binding> m = new TreeMap<>();
    m.put(0, new LunMap.Binding(f.lu, false));
    m.put(
        300,
        new LunMap.Binding(
            new LogicalUnit(new RamVolume(512, 16), f.site, PersistentState.NONE), true));
    map.replace(m);
  }

  @Test
  void reportLunsListsEveryMappedLun() {
    mapTwo();
    byte[] d = data(run(5, reportLuns(0, 512), new byte[0]));
    assertThat(BigEndian.u32(d, 0)).isEqualTo(16);
    assertThat(d[9]).isZero();
    assertThat(d[16] & 0xff).isEqualTo(0x40 | 300 >> 8);
    assertThat(d[17] & 0xff).isEqualTo(300 & 0xff);
    assertThat(data(run(0, reportLuns(1, 512), new byte[0]))).hasSize(8);
    assertSense(run(0, reportLuns(7, 512), new byte[0]), 5, 0x24, 0);
    assertThat(run(0, reportLuns(0, 12), new byte[0]).dataIn().remaining()).isEqualTo(12);
  }

  @Test
  void unmappedLunAnswersInquiryWithQualifierAndRefusesTheRest() {
    byte[] d = data(run(3, inquiry(false, 0, 255), new byte[0]));
    assertThat(d[0] & 0xff).isEqualTo(0x7f);
    assertSense(run(3, TUR, new byte[0]), 5, 0x25, 0);
    assertThat(map.unit(3)).isNull();
    assertThat(map.dataOutLength(3, rw10(0x2a, 0, 1))).isEqualTo(-1);
  }

  @Test
  void readOnlyBindingIsEnforced() {
    mapTwo();
    assertSense(run(300, rw10(0x2a, 0, 1), new byte[512]), 7, 0x27, 0);
    assertGood(run(0, rw10(0x2a, 0, 1), new byte[512]));
    assertThat(map.dataOutLength(0, rw10(0x2a, 0, 2))).isEqualTo(1024);
  }

  @Test
  void attachAndRemapRaiseUnitAttentions() {
    mapTwo();
    map.attach(f.nexus);
    assertSense(run(0, TUR, new byte[0]), 6, 0x29, 0x00);
    assertGood(run(0, TUR, new byte[0]));
    mapTwo();
    assertSense(run(0, TUR, new byte[0]), 6, 0x3f, 0x0e);
    assertGood(run(0, TUR, new byte[0]));
    map.detach(f.nexus);
  }
}
