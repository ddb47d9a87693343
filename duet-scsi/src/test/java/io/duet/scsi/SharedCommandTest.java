package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shared command and result codecs: round trips, and hostile bytes. */
class SharedCommandTest {
  static final TargetPort PORT = new TargetPort("iqn.t,t,0x1", "iqn.t", 1, 1);
  static final TargetPort OTHER = new TargetPort("iqn.t,t,0x2", "iqn.t", 2, 2);
  static final ItNexus NEXUS = new ItNexus("iqn.h", "iqn.h,i,0x1", PORT);

  @Test
  void commandsRoundTrip() {
    var out = new SharedCommand.ReserveOut(NEXUS, new byte[] {0x5f, 1, 2}, new byte[24], OTHER);
    var back = (SharedCommand.ReserveOut) SharedCommand.decode(SharedCommand.encode(out));
    assertThat(back.issuer()).isEqualTo(NEXUS);
    assertThat(back.cdb()).isEqualTo(out.cdb());
    assertThat(back.parameters()).isEqualTo(out.parameters());
    assertThat(back.moveTo()).isEqualTo(OTHER);
    var plain = new SharedCommand.ReserveOut(NEXUS, new byte[10], new byte[0], null);
    assertThat(((SharedCommand.ReserveOut) roundTrip(plain)).moveTo()).isNull();
    assertThat(roundTrip(new SharedCommand.Reset(NEXUS))).isEqualTo(new SharedCommand.Reset(NEXUS));
    for (boolean wce : new boolean[] {false, true}) {
      var select = new SharedCommand.ModeSelect(NEXUS, wce);
      assertThat(roundTrip(select)).isEqualTo(select);
    }
  }

  @Test
  void modeSelectHasItsOwnKindAndOneWceByte() {
    byte[] off = SharedCommand.encode(new SharedCommand.ModeSelect(NEXUS, false));
    byte[] reset = SharedCommand.encode(new SharedCommand.Reset(NEXUS));
    assertThat(off[5]).isEqualTo((byte) SharedCommand.KIND_MODE_SELECT);
    assertThat(SharedCommand.KIND_MODE_SELECT).isEqualTo(6);
    assertThat(off).hasSize(reset.length + 1);
    assertThat(off[off.length - 1]).isZero();

    byte[] badWce = off.clone();
    badWce[badWce.length - 1] = 2;
    assertThatThrownBy(() -> SharedCommand.decode(badWce))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad WCE value 2");
    assertThatThrownBy(() -> SharedCommand.decode(Arrays.copyOf(off, off.length - 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> SharedCommand.decode(Arrays.copyOf(off, off.length + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 trailing bytes");
  }

  static SharedCommand roundTrip(SharedCommand c) {
    return SharedCommand.decode(SharedCommand.encode(c));
  }

  @Test
  void resultsRoundTrip() {
    byte[] r = SharedCommand.encodeResult(Sense.reservationConflict(), "");
    assertThat(SharedCommand.decodeResult(r).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    byte[] check = SharedCommand.encodeResult(Sense.invalidCdbField(2), "why");
    ScsiResult decoded = SharedCommand.decodeResult(check);
    assertThat(decoded.sense()).isEqualTo(Sense.invalidCdbField(2).sense());
    assertThat(SharedCommand.resultMessage(check)).isEqualTo("why");
  }

  @Test
  void badBytesSayWhatIsWrong() {
    byte[] good = SharedCommand.encode(new SharedCommand.Reset(NEXUS));
    assertThatThrownBy(() -> SharedCommand.decode(Arrays.copyOf(good, good.length - 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> SharedCommand.decode(Arrays.copyOf(good, good.length + 1)))
        .hasMessageContaining("trailing");
    byte[] kind = good.clone();
    kind[5] = 9;
    assertThatThrownBy(() -> SharedCommand.decode(kind)).hasMessageContaining("kind 9");
    byte[] version = good.clone();
    version[4] = 2;
    assertThatThrownBy(() -> SharedCommand.decode(version)).hasMessageContaining("version 2");
  }

  @Test
  void randomAndMutatedBytesOnlyEverFailCleanly() {
    Random random = new Random(77);
    byte[][] valid = {
      SharedCommand.encode(new SharedCommand.ReserveOut(NEXUS, new byte[10], new byte[40], OTHER)),
      SharedCommand.encode(new SharedCommand.ModeSelect(NEXUS, true))
    };
    for (int i = 0; i < 20_000; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = new byte[random.nextInt(120)];
        random.nextBytes(b);
      } else {
        b = valid[random.nextInt(valid.length)].clone();
        b[random.nextInt(b.length)] = (byte) random.nextInt(256);
      }
      try {
        SharedCommand.decode(b);
      } catch (IllegalArgumentException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
      assertThat(SharedCommand.decodeResult(b)).isNotNull();
      assertThat(SharedCommand.resultMessage(b)).isNotNull();
    }
  }
}
