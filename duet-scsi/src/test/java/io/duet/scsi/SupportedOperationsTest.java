package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.data;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SupportedOperationsTest {
  private final Fixture f = new Fixture();

  private static byte[] rsoc(boolean rctd, int options, int opcode, int sa) {
    byte[] c = new byte[12];
    c[0] = (byte) 0xa3;
    c[1] = 0x0c;
    c[2] = (byte) ((rctd ? 0x80 : 0) | options);
    c[3] = (byte) opcode;
    BigEndian.put16(c, 4, sa);
    BigEndian.put32(c, 6, 65535);
    return c;
  }

  @Test
  void allCommandsThenEachOneAsLibiscsiChecks() {
    byte[] all = data(f.run(rsoc(false, 0, 0, 0)));
    long len = BigEndian.u32(all, 0);
    assertThat(len).isEqualTo(all.length - 4);
    for (int p = 4; p < all.length; p += 8) {
      int op = all[p] & 0xff;
      int sa = BigEndian.u16(all, p + 2);
      boolean servactv = (all[p + 5] & 1) != 0;
      assertThat(servactv || sa == 0).isTrue();
      ScsiResult wrongForm = f.run(rsoc(false, servactv ? 1 : 2, op, sa));
      assertSense(wrongForm, 5, 0x24, 0);
      ScsiResult one = f.run(rsoc(false, servactv ? 2 : 1, op, sa));
      assertGood(one);
      byte[] d = data(one);
      assertThat(d[1] & 0x07).isEqualTo(3);
      int cdbLength = BigEndian.u16(d, 2);
      assertThat(cdbLength).isEqualTo(BigEndian.u16(all, p + 6)).isPositive();
      assertThat(d[4] & 0xff).isEqualTo(op);
    }
  }

  @Test
  void timeoutsDescriptors() {
    byte[] all = data(f.run(rsoc(true, 0, 0, 0)));
    for (int p = 4; p < all.length; p += 20) {
      assertThat(all[p + 5] & 0x02).isEqualTo(0x02);
      assertThat(BigEndian.u16(all, p + 8)).isEqualTo(0x0a);
    }
    byte[] one = data(f.run(rsoc(true, 1, 0x28, 0)));
    assertThat(one[1] & 0x80).isEqualTo(0x80);
    assertThat(one).hasSize(4 + 10 + 12);
  }

  @Test
  void usageDataAdvertisesDpoFuaWhereSupported() {
    assertThat(data(f.run(rsoc(false, 1, 0x28, 0)))[5] & 0x18).isEqualTo(0x18);
    assertThat(data(f.run(rsoc(false, 1, 0x89, 0)))[5] & 0x18).isEqualTo(0x18);
    assertThat(data(f.run(rsoc(false, 1, 0x2f, 0)))[5] & 0x10).isEqualTo(0x10);
  }

  @Test
  void unsupportedCommandReportsNotSupported() {
    byte[] d = data(f.run(rsoc(false, 1, 0xc5, 0)));
    assertThat(d[1] & 0x07).isEqualTo(1);
  }

  @Test
  void taskManagementFunctions() {
    byte[] c = {(byte) 0xa3, 0x0d, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0};
    assertThat(data(f.run(c))).hasSize(4);
    c[2] = (byte) 0x80;
    byte[] d = data(f.run(c));
    assertThat(d).hasSize(16);
    assertThat(d[0] & 0x88).isEqualTo(0x88);
  }
}
