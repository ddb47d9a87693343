package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TransportIdTest {
  static final TargetPort PORT = new TargetPort("iqn.t,t,0x1", "iqn.t", 1, 1);

  @Test
  void portFormEncodesNameIsidPaddedToFour() {
    TransportId id = TransportId.ofInitiatorPort("iqn.1994-05.com.redhat:abc,i,0x00023D000001");
    assertThat(id.isPort()).isTrue();
    byte[] b = id.encode();
    assertThat(b[0]).isEqualTo((byte) 0x45);
    assertThat(b.length % 4).isZero();
    int additional = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    assertThat(additional).isEqualTo(b.length - 4).isGreaterThanOrEqualTo(20);
    String text = new String(b, 4, additional, StandardCharsets.UTF_8);
    assertThat(text).startsWith("iqn.1994-05.com.redhat:abc,i,0x00023d000001\0");
  }

  @Test
  void parseRoundTripsBothForms() throws ReservationException {
    for (TransportId id :
        new TransportId[] {new TransportId("iqn.x", null), new TransportId("iqn.x", "1234")}) {
      byte[] b = id.encode();
      TransportId.Parsed p = TransportId.parse(b, 0, b.length, 0);
      assertThat(p.id()).isEqualTo(id);
      assertThat(p.length()).isEqualTo(b.length);
    }
  }

  @Test
  void deviceFormCoversEveryPortOfTheInitiator() {
    TransportId device = new TransportId("IQN.A", null);
    assertThat(device.matches(new ItNexus("iqn.a", "iqn.a,i,0x1", PORT))).isTrue();
    assertThat(device.matches(new ItNexus("iqn.a", "iqn.a,i,0x2", PORT))).isTrue();
    assertThat(device.matches(new ItNexus("iqn.b", "iqn.b,i,0x2", PORT))).isFalse();
    TransportId port = new TransportId("iqn.a", "0001");
    assertThat(port.matches(new ItNexus("iqn.a", "iqn.a,i,0x000000000001", PORT))).isTrue();
    assertThat(port.matches(new ItNexus("iqn.a", "iqn.a,i,0x2", PORT))).isFalse();
  }

  @Test
  void malformedTransportIdsGiveTypedErrors() {
    byte[] good = new TransportId("iqn.x", "1").encode();
    expect(new byte[] {0x45, 0, 0}, ReservationException.Kind.PARAMETER_LIST_LENGTH);
    byte[] fc = good.clone();
    fc[0] = 0x40;
    expect(fc, ReservationException.Kind.INVALID_PARAMETER_FIELD);
    byte[] format3 = good.clone();
    format3[0] = (byte) 0xc5;
    expect(format3, ReservationException.Kind.INVALID_PARAMETER_FIELD);
    byte[] noIsid = new TransportId("iqn.x", null).encode();
    noIsid[0] = 0x45; // claims port form without ",i,0x"
    expect(noIsid, ReservationException.Kind.INVALID_PARAMETER_FIELD);
    byte[] empty = new byte[24];
    empty[0] = 0x05;
    empty[3] = 20;
    expect(empty, ReservationException.Kind.INVALID_PARAMETER_FIELD);
    byte[] longer = good.clone();
    longer[3] = (byte) 0xff;
    expect(longer, ReservationException.Kind.PARAMETER_LIST_LENGTH);
  }

  @Test
  void randomBytesNeverEscape() {
    Random random = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[random.nextInt(64)];
      random.nextBytes(b);
      if (b.length > 0 && random.nextBoolean()) {
        b[0] = (byte) (random.nextBoolean() ? 0x05 : 0x45);
      }
      try {
        TransportId.Parsed p = TransportId.parse(b, 0, b.length, 0);
        assertThat(p.length()).isBetween(4, b.length);
      } catch (ReservationException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
    }
  }

  private static void expect(byte[] b, ReservationException.Kind kind) {
    try {
      TransportId.parse(b, 0, b.length, 0);
      throw new AssertionError("parsed " + java.util.HexFormat.of().formatHex(b));
    } catch (ReservationException e) {
      assertThat(e.kind()).isEqualTo(kind);
    }
  }
}
