package io.duet.iscsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.iscsi.DataOutSequencer.Placement;
import io.duet.iscsi.DataOutSequencer.R2t;
import io.duet.iscsi.DataOutSequencer.SequenceError;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DataOutSequencerTest {
  private static SessionParams params(
      int firstBurst, int maxBurst, boolean immediate, boolean initialR2T, int maxOutstanding) {
    return new SessionParams(
        false,
        "i",
        "t",
        1,
        0,
        0,
        false,
        false,
        8192,
        8192,
        firstBurst,
        maxBurst,
        immediate,
        initialR2T,
        maxOutstanding);
  }

  private static DataOutSequencer seq(int wanted, int edtl, int immediate, SessionParams p) {
    AtomicInteger ttt = new AtomicInteger(100);
    return new DataOutSequencer(wanted, edtl, immediate, p, ttt::getAndIncrement);
  }

  @Test
  void immediateAndUnsolicitedThenR2ts() throws Exception {
    // open-iscsi defaults: ImmediateData=Yes, InitialR2T=No.
    DataOutSequencer s = seq(40_000, 40_000, 4096, params(16384, 8192, true, false, 2));
    assertThat(s.immediate(4096)).isEqualTo(new Placement(0, 4096));
    assertThat(s.complete()).isFalse();
    assertThat(s.nextR2ts()).isEmpty(); // unsolicited burst not over
    assertThat(s.dataOut(Bhs.RESERVED_TAG, 0, 4096, 8192, false))
        .isEqualTo(new Placement(4096, 8192));
    assertThat(s.dataOut(Bhs.RESERVED_TAG, 1, 12288, 4096, true))
        .isEqualTo(new Placement(12288, 4096));
    List<R2t> r2ts = s.nextR2ts();
    assertThat(r2ts).containsExactly(new R2t(100, 0, 16384, 8192), new R2t(101, 1, 24576, 8192));
    assertThat(s.nextR2ts()).isEmpty(); // MaxOutstandingR2T=2
    s.dataOut(100, 0, 16384, 4096, false);
    s.dataOut(100, 1, 20480, 4096, true);
    assertThat(s.nextR2ts()).containsExactly(new R2t(102, 2, 32768, 7232));
    s.dataOut(101, 0, 24576, 8192, true);
    s.dataOut(102, 0, 32768, 7232, true);
    assertThat(s.complete()).isTrue();
    assertThat(s.r2tCount()).isEqualTo(3);
  }

  @Test
  void initialR2tYesSolicitsEverything() throws Exception {
    DataOutSequencer s = seq(1024, 1024, 0, params(65536, 262144, false, true, 1));
    assertThat(s.complete()).isFalse();
    assertThat(s.nextR2ts()).containsExactly(new R2t(100, 0, 0, 1024));
    s.dataOut(100, 0, 0, 1024, true);
    assertThat(s.complete()).isTrue();
  }

  @Test
  void extraUnsolicitedBytesAreDropped() throws Exception {
    // EDTL 10000, the command takes 512: keep 512, read and drop the rest.
    DataOutSequencer s = seq(512, 10000, 8192, params(65536, 262144, true, false, 1));
    assertThat(s.immediate(8192)).isEqualTo(new Placement(0, 512));
    assertThat(s.dataOut(Bhs.RESERVED_TAG, 0, 8192, 1808, true)).isEqualTo(new Placement(0, 0));
    assertThat(s.complete()).isTrue();
  }

  @Test
  void sequenceErrors() throws Exception {
    SessionParams p = params(65536, 262144, false, false, 1);
    assertThatThrownBy(() -> seq(1024, 1024, 0, p).dataOut(Bhs.RESERVED_TAG, 1, 0, 512, false))
        .isInstanceOfSatisfying(SequenceError.class, e -> assertThat(e.asc).isEqualTo(0x4b));
    DataOutSequencer s = seq(1024, 1024, 0, p);
    s.dataOut(Bhs.RESERVED_TAG, 0, 0, 512, false);
    assertThatThrownBy(() -> s.dataOut(Bhs.RESERVED_TAG, 1, 0, 512, true))
        .isInstanceOfSatisfying(SequenceError.class, e -> assertThat(e.ascq).isEqualTo(0x05));
    assertThatThrownBy(() -> seq(1024, 1024, 0, p).dataOut(Bhs.RESERVED_TAG, 0, 0, 2048, true))
        .isInstanceOf(SequenceError.class);
    assertThatThrownBy(() -> seq(1024, 1024, 0, p).dataOut(77, 0, 0, 512, true))
        .isInstanceOf(SequenceError.class)
        .hasMessageContaining("TTT");
  }

  @Test
  void randomHeadersNeverEscapeWithAnythingButSequenceErrors() {
    Random random = new Random(7);
    for (int i = 0; i < 2_000; i++) {
      int edtl = random.nextInt(1 << 20);
      int wanted = random.nextInt(edtl + 1);
      DataOutSequencer s =
          seq(
              wanted,
              edtl,
              random.nextInt(8192),
              params(
                  512 + random.nextInt(65536),
                  512 + random.nextInt(1 << 20),
                  random.nextBoolean(),
                  random.nextBoolean(),
                  1 + random.nextInt(4)));
      for (int j = 0; j < 20; j++) {
        try {
          int ttt = random.nextBoolean() ? Bhs.RESERVED_TAG : 100 + random.nextInt(4);
          Placement p =
              s.dataOut(
                  ttt,
                  random.nextInt(3),
                  random.nextInt(edtl + 1),
                  random.nextInt(9000),
                  random.nextBoolean());
          assertThat(p.bufferOffset() + p.keepBytes()).isLessThanOrEqualTo(wanted);
          assertThat(p.keepBytes()).isNotNegative();
          s.nextR2ts()
              .forEach(r -> assertThat(r.offset() + r.length()).isLessThanOrEqualTo(wanted));
        } catch (SequenceError e) {
          assertThat(e.getMessage()).isNotBlank();
        }
      }
    }
  }
}
