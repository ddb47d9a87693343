package io.duet.scsi;

import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.inquiry;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class InquiryTest {
  private final Fixture f = new Fixture();

  @Test
  void standardInquiry() {
    byte[] d = data(f.run(inquiry(false, 0, 255)));
    assertThat(d.length).isGreaterThanOrEqualTo(36);
    assertThat(d[0]).isZero();
    assertThat(d[2]).isEqualTo((byte) 6);
    assertThat(d[3] & 0x0f).isEqualTo(2);
    assertThat(d[4] & 0xff).isEqualTo(d.length - 5);
    assertThat(d[5] & 0x30).isEqualTo(0x10); // TPGS 01b
    assertThat(d[5] & 0x08).isEqualTo(0x08); // 3PC
    assertThat(d[7] & 0x02).isEqualTo(0x02); // CmdQue
    assertThat(new String(d, 8, 8, StandardCharsets.US_ASCII)).isEqualTo("DUET    ");
    for (int i = 8; i < 36; i++) {
      assertThat(d[i] & 0xff).isBetween(0x20, 0x7e);
    }
    assertThat(BigEndian.u16(d, 58)).isEqualTo(0x00a0);
    assertThat(BigEndian.u16(d, 62)).isEqualTo(0x04c0);
    assertThat(BigEndian.u16(d, 64)).isEqualTo(0x0460);
  }

  @Test
  void allocationLengthTrimsAndIsSixteenBits() {
    for (int alloc = 0; alloc < 300; alloc += 7) {
      assertThat(f.run(inquiry(false, 0, alloc)).dataIn().remaining())
          .isEqualTo(Math.min(alloc, 96));
    }
    assertThat(data(f.run(inquiry(false, 0, 511)))).isEqualTo(data(f.run(inquiry(false, 0, 512))));
  }

  @Test
  void pageCodeWithoutEvpdAndUnknownPagesAreInvalid() {
    assertSense(f.run(inquiry(false, 1, 255)), 5, 0x24, 0);
    assertSense(f.run(inquiry(true, 0x99, 255)), 5, 0x24, 0);
    byte[] cmddt = inquiry(false, 0, 255);
    cmddt[1] = 2;
    assertSense(f.run(cmddt), 5, 0x24, 0);
  }

  @Test
  void everyListedVpdPageAnswersWithConsistentLength() {
    byte[] pages = data(f.run(inquiry(true, 0, 255)));
    assertThat(pages[3]).isEqualTo((byte) (pages.length - 4));
    int previous = -1;
    for (int i = 4; i < pages.length; i++) {
      int page = pages[i] & 0xff;
      assertThat(page).isGreaterThan(previous);
      previous = page;
      ScsiResult r = f.run(inquiry(true, page, 0xffff));
      assertGood(r);
      byte[] d = data(r);
      assertThat(d[1] & 0xff).isEqualTo(page);
      assertThat(BigEndian.u16(d, 2)).isEqualTo(d.length - 4);
    }
    assertThat(pages).contains((byte) 0x80, (byte) 0x83, (byte) 0xb0, (byte) 0xb1, (byte) 0xb2);
  }

  @Test
  void deviceIdentificationNamesLuAndPort() {
    byte[] d = data(f.run(inquiry(true, 0x83, 0xffff)));
    // NAA designator first, LU association, binary
    assertThat(d[4]).isEqualTo((byte) 0x01);
    assertThat(d[5]).isEqualTo((byte) 0x03);
    assertThat(d[7]).isEqualTo((byte) 16);
    assertThat(java.util.Arrays.copyOfRange(d, 8, 24)).isEqualTo(f.volume.identity().naa());
    // relative target port 1, target port group 1
    assertThat(d[25] & 0x3f).isEqualTo(0x14);
    assertThat(BigEndian.u16(d, 30)).isEqualTo(1);
    assertThat(d[33] & 0x3f).isEqualTo(0x15);
    assertThat(BigEndian.u16(d, 38)).isEqualTo(1);
    String text = new String(d, StandardCharsets.UTF_8);
    assertThat(text).contains("iqn.2025-01.io.duet:t,t,0x0001");
    byte[] other = data(f.run(f.nexusB, inquiry(true, 0x83, 0xffff), new byte[0]));
    assertThat(BigEndian.u16(other, 30)).isEqualTo(2);
  }

  @Test
  void blockLimitsAndProvisioning() {
    byte[] b0 = data(f.run(inquiry(true, 0xb0, 255)));
    assertThat(b0).hasSize(64);
    assertThat(b0[5] & 0xff).isEqualTo(255);
    assertThat(BigEndian.u32(b0, 8)).isEqualTo(BlockLimits.MAX_TRANSFER_BYTES / Fixture.BS);
    assertThat(BigEndian.u32(b0, 20)).isBetween(1L, 1L << 20);
    assertThat(BigEndian.u32(b0, 24)).isBetween(1L, 1L << 20);
    byte[] b2 = data(f.run(inquiry(true, 0xb2, 255)));
    assertThat(b2[5] & 0xe4).isEqualTo(0xe4);
    assertThat(b2[5] & 0x02).isZero();
    byte[] b1 = data(f.run(inquiry(true, 0xb1, 255)));
    assertThat(BigEndian.u16(b1, 4)).isEqualTo(1);
    byte[] serial = data(f.run(inquiry(true, 0x80, 255)));
    assertThat(new String(serial, 4, serial.length - 4, StandardCharsets.US_ASCII))
        .isEqualTo("SERIAL0001");
  }
}
