package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.cdb;
import static io.duet.scsi.Fixture.data;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModePagesTest {
  private final Fixture f = new Fixture();

  private static List<Integer> pageCodes(byte[] d, int start) {
    List<Integer> codes = new ArrayList<>();
    for (int p = start; p < d.length; p += 2 + (d[p + 1] & 0xff)) {
      codes.add(d[p] & 0x3f);
    }
    return codes;
  }

  @Test
  void modeSenseSixAllPagesWithBlockDescriptor() {
    byte[] d = data(f.run(cdb(0x1a, 0, 0x3f, 0, 255, 0)));
    assertThat(d[0] & 0xff).isEqualTo(d.length - 1);
    assertThat(d[2] & 0x10).isEqualTo(0x10); // DPOFUA
    assertThat(d[2] & 0x80).isZero();
    assertThat(d[3]).isEqualTo((byte) 8);
    assertThat(BigEndian.u32(d, 4)).isEqualTo(Fixture.BLOCKS);
    assertThat(BigEndian.u24(d, 9)).isEqualTo(Fixture.BS);
    assertThat(pageCodes(d, 12)).containsExactly(0x01, 0x08, 0x0a, 0x1c);
  }

  @Test
  void modeSenseTenWithLongLbaAndDbd() {
    byte[] d = data(f.run(cdb(0x5a, 0x10, 0x08, 0, 0, 0, 0, 0x01, 0x00, 0)));
    assertThat(BigEndian.u16(d, 0)).isEqualTo(d.length - 2);
    assertThat(d[4] & 1).isEqualTo(1);
    assertThat(BigEndian.u16(d, 6)).isEqualTo(16);
    assertThat(BigEndian.u64(d, 8)).isEqualTo(Fixture.BLOCKS);
    assertThat(pageCodes(d, 24)).containsExactly(0x08);
    assertThat(d[24 + 2] & 0x04).isEqualTo(0x04); // WCE
    byte[] dbd = data(f.run(cdb(0x5a, 0x08, 0x0a, 0, 0, 0, 0, 0x01, 0x00, 0)));
    assertThat(BigEndian.u16(dbd, 6)).isZero();
    assertThat(pageCodes(dbd, 8)).containsExactly(0x0a);
  }

  @Test
  void writeProtectBitForReadOnlyMappings() {
    byte[] d = data(f.runReadOnly(cdb(0x1a, 0, 0x3f, 0, 255, 0), new byte[0]));
    assertThat(d[2] & 0x80).isEqualTo(0x80);
  }

  @Test
  void changeableShowsOnlyWce() {
    byte[] d = data(f.run(cdb(0x1a, 0x08, 0x40 | 0x3f, 0, 255, 0)));
    int p = 4;
    while (p < d.length) {
      int code = d[p] & 0x3f;
      int len = d[p + 1] & 0xff;
      for (int i = 2; i < 2 + len; i++) {
        int expected = code == 0x08 && i == 2 ? 0x04 : 0;
        assertThat(d[p + i] & 0xff).as("page %x byte %d", code, i).isEqualTo(expected);
      }
      p += 2 + len;
    }
  }

  @Test
  void savedValuesAndUnknownPagesAreRefused() {
    assertSense(f.run(cdb(0x1a, 0, 0xc0 | 0x08, 0, 255, 0)), 5, 0x39, 0);
    assertSense(f.run(cdb(0x1a, 0, 0x05, 0, 255, 0)), 5, 0x24, 0);
    assertSense(f.run(cdb(0x1a, 0, 0x08, 0x01, 255, 0)), 5, 0x24, 0);
    assertGood(f.run(cdb(0x1a, 0, 0x3f, 0xff, 255, 0)));
  }

  @Test
  void allocationLengthTruncates() {
    ScsiResult r = f.run(cdb(0x1a, 0, 0x3f, 0, 4, 0));
    assertGood(r);
    assertThat(r.dataIn().remaining()).isEqualTo(4);
  }

  @Test
  void modeSelectChangesWceAndRejectsOtherChanges() {
    byte[] caching = data(f.run(cdb(0x1a, 0x08, 0x08, 0, 255, 0)));
    byte[] param = new byte[caching.length];
    System.arraycopy(caching, 4, param, 4, caching.length - 4);
    param[4 + 2] = 0; // WCE off
    assertGood(f.run(cdb(0x15, 0x10, 0, 0, param.length, 0), param));
    byte[] now = data(f.run(cdb(0x1a, 0x08, 0x08, 0, 255, 0)));
    assertThat(now[4 + 2] & 0x04).isZero();

    param[4 + 3] = 0x11; // a non-changeable byte
    ScsiResult bad = f.run(cdb(0x15, 0x10, 0, 0, param.length, 0), param);
    assertSense(bad, 5, 0x26, 0);
    assertThat(BigEndian.u16(bad.sense(), 16)).isEqualTo(7);

    byte[] ten = new byte[8 + caching.length - 4];
    System.arraycopy(caching, 4, ten, 8, caching.length - 4);
    assertGood(f.run(cdb(0x55, 0x10, 0, 0, 0, 0, 0, 0, ten.length, 0), ten));
    assertThat(data(f.run(cdb(0x1a, 0x08, 0x08, 0, 255, 0)))[6] & 0x04).isEqualTo(0x04);
  }

  @Test
  void modeSelectParameterListErrors() {
    assertGood(f.run(cdb(0x15, 0x10, 0, 0, 0, 0), new byte[0]));
    assertSense(f.run(cdb(0x15, 0x10, 0, 0, 2, 0), new byte[2]), 5, 0x1a, 0);
    byte[] truncated = {0, 0, 0, 0, 0x08, 0x12, 0x04};
    assertSense(f.run(cdb(0x15, 0x10, 0, 0, truncated.length, 0), truncated), 5, 0x1a, 0);
    byte[] unknown = {0, 0, 0, 0, 0x05, 0x02, 0, 0};
    assertSense(f.run(cdb(0x15, 0x10, 0, 0, unknown.length, 0), unknown), 5, 0x26, 0);
    byte[] sp = cdb(0x15, 0x11, 0, 0, 0, 0);
    assertSense(f.run(sp, new byte[0]), 5, 0x24, 0);
  }
}
