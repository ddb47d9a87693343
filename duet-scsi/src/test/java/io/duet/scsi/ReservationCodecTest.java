package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.scsi.ReservationState.Held;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReservationCodecTest {
  static final TargetPort P1 = new TargetPort("iqn.t,t,0x1", "iqn.t", 1, 1);
  static final TargetPort P2 = new TargetPort("iqn.t,t,0x2", "iqn.t", 7, 2);

  static ReservationState sample() {
    Registration a = new Registration(0x11, new TransportId("iqn.a", "23d000001"), P1, false);
    Registration b = new Registration(-1L, new TransportId("iqn.b", null), P2, true);
    return new ReservationState(
        -5, true, List.of(a, b), new Held(ReservationType.EXCLUSIVE_ACCESS, a.identity()));
  }

  @Test
  void roundTrips() {
    ReservationState s = sample();
    ReservationState back = ReservationCodec.decode(ReservationCodec.encode(s));
    assertThat(back).isEqualTo(s);
    ReservationState ar =
        new ReservationState(
            3,
            false,
            s.registrations(),
            new Held(ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS, null));
    assertThat(ReservationCodec.decode(ReservationCodec.encode(ar))).isEqualTo(ar);
    assertThat(ReservationCodec.decode(ReservationCodec.encode(ReservationState.EMPTY)))
        .isEqualTo(ReservationState.EMPTY);
  }

  @Test
  void everyTruncationIsRejectedClearly() {
    byte[] full = ReservationCodec.encode(sample());
    for (int n = 0; n < full.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(full, n);
      assertThatThrownBy(() -> ReservationCodec.decode(cut))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void randomAndMutatedBytesNeverEscapeAsOtherExceptions() {
    Random random = new Random(0x5eed);
    byte[] full = ReservationCodec.encode(sample());
    for (int i = 0; i < 20_000; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = full.clone();
        for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
          b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
        }
      } else {
        b = new byte[random.nextInt(80)];
        random.nextBytes(b);
      }
      try {
        ReservationState s = ReservationCodec.decode(b);
        assertThat(s).isNotNull(); // a mutation that still parses is a valid state
      } catch (IllegalArgumentException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
  }

  @Test
  void rejectsUnknownVersionAndMagic() {
    byte[] full = ReservationCodec.encode(sample());
    full[4] = 9;
    assertThatThrownBy(() -> ReservationCodec.decode(full)).hasMessageContaining("version");
    full[0] = 0;
    assertThatThrownBy(() -> ReservationCodec.decode(full)).hasMessageContaining("magic");
  }
}
