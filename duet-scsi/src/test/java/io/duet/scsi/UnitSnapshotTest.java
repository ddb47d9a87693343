package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shared unit snapshot codec: both versions, and hostile bytes. */
class UnitSnapshotTest {
  static final String HOLDER = "iqn.h,i,0x1|iqn.t,t,0x1";

  @Test
  void roundTripsWithWceAndHolder() {
    for (boolean wce : new boolean[] {false, true}) {
      var s = new UnitSnapshot(wce, HOLDER, ReservationState.EMPTY);
      byte[] bytes = s.encode();
      assertThat(bytes[4]).as("version").isEqualTo((byte) 2);
      assertThat(bytes[5]).as("WCE byte").isEqualTo((byte) (wce ? 1 : 0));
      assertThat(UnitSnapshot.decode(bytes)).isEqualTo(s);
    }
    var none = new UnitSnapshot(true, null, ReservationState.EMPTY);
    assertThat(UnitSnapshot.decode(none.encode())).isEqualTo(none);
  }

  /** Version 1 bytes, written as sites wrote them before WCE was shared. */
  static byte[] version1(String holder) {
    byte[] h = ReservationCodec.utf8(holder);
    byte[] state = ReservationCodec.encode(ReservationState.EMPTY);
    ByteBuffer b = ByteBuffer.allocate(4 + 1 + 2 + h.length + state.length);
    b.putInt(0x44535331).put((byte) 1).putShort((short) h.length).put(h);
    return b.put(state).array();
  }

  @Test
  void theFormerVersionStillDecodesWithoutWce() {
    UnitSnapshot s = UnitSnapshot.decode(version1(HOLDER));
    assertThat(s.writeCache()).isNull();
    assertThat(s.legacyHolder()).isEqualTo(HOLDER);
    assertThat(s.reservations()).isEqualTo(ReservationState.EMPTY);
    assertThat(UnitSnapshot.decode(version1("")).legacyHolder()).isNull();
    assertThatThrownBy(s::encode).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void badBytesSayWhatIsWrong() {
    byte[] good = new UnitSnapshot(false, HOLDER, ReservationState.EMPTY).encode();
    byte[] wce = good.clone();
    wce[5] = 2;
    assertThatThrownBy(() -> UnitSnapshot.decode(wce))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad WCE value 2");
    byte[] version = good.clone();
    version[4] = 3;
    assertThatThrownBy(() -> UnitSnapshot.decode(version))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version 3");
    byte[] magic = good.clone();
    magic[0] = 'X';
    assertThatThrownBy(() -> UnitSnapshot.decode(magic))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad magic");
    assertThatThrownBy(() -> UnitSnapshot.decode(Arrays.copyOf(good, 5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> UnitSnapshot.decode(Arrays.copyOf(good, good.length - 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void randomAndMutatedBytesOnlyEverFailCleanly() {
    Random random = new Random(1042);
    byte[][] valid = {
      new UnitSnapshot(false, HOLDER, ReservationState.EMPTY).encode(), version1(HOLDER)
    };
    for (int i = 0; i < 20_000; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = new byte[random.nextInt(80)];
        random.nextBytes(b);
      } else {
        b = valid[random.nextInt(valid.length)].clone();
        b[random.nextInt(b.length)] = (byte) random.nextInt(256);
      }
      try {
        UnitSnapshot.decode(b);
      } catch (IllegalArgumentException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
    }
  }
}
