package io.duet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RangeSequencerTest {
  @Test
  void overlappingEntriesRunInArrivalOrderAndReadsShare() {
    RangeSequencer s = new RangeSequencer();
    List<String> log = new ArrayList<>();
    RangeSequencer.Entry w1 = s.enqueue(0, 8192, false, () -> log.add("w1"));
    RangeSequencer.Entry r1 = s.enqueue(4096, 4096, true, () -> log.add("r1"));
    RangeSequencer.Entry r2 = s.enqueue(4096, 4096, true, () -> log.add("r2"));
    RangeSequencer.Entry w2 = s.enqueue(4096, 512, false, () -> log.add("w2"));
    RangeSequencer.Entry other = s.enqueue(1 << 20, 4096, false, () -> log.add("other"));
    assertThat(log).containsExactly("w1", "other");
    s.release(w1);
    assertThat(log).containsExactly("w1", "other", "r1", "r2");
    s.release(r1);
    assertThat(log).hasSize(4);
    s.release(r2);
    assertThat(log).containsExactly("w1", "other", "r1", "r2", "w2");
    s.release(w2);
    s.release(other);
    assertThat(s.size()).isZero();
  }

  @Test
  void randomScheduleNeverAdmitsConflictingEntriesTogether() {
    Random random = new Random(Long.getLong("duet.seed", 42L));
    RangeSequencer s = new RangeSequencer();
    List<RangeSequencer.Entry> admitted = new ArrayList<>();
    List<RangeSequencer.Entry> all = new ArrayList<>();
    for (int step = 0; step < 20_000; step++) {
      if (random.nextInt(3) > 0 || admitted.isEmpty()) {
        long off = random.nextInt(64) * 512L;
        long len = (1 + random.nextInt(8)) * 512L;
        RangeSequencer.Entry[] e = new RangeSequencer.Entry[1];
        boolean shared = random.nextBoolean();
        e[0] = s.enqueue(off, len, shared, () -> {});
        all.add(e[0]);
      } else {
        RangeSequencer.Entry victim = admitted.get(random.nextInt(admitted.size()));
        s.release(victim);
        all.remove(victim);
      }
      admitted.clear();
      for (RangeSequencer.Entry e : all) {
        if (e.admitted()) {
          admitted.add(e);
        }
      }
      for (int i = 0; i < admitted.size(); i++) {
        for (int j = i + 1; j < admitted.size(); j++) {
          RangeSequencer.Entry x = admitted.get(i);
          RangeSequencer.Entry y = admitted.get(j);
          boolean overlap = x.offset < y.end && y.offset < x.end;
          assertThat(overlap && !(x.shared && y.shared)).as("conflicting admissions").isFalse();
        }
      }
      if (all.size() > 40) {
        for (RangeSequencer.Entry e : new ArrayList<>(admitted)) {
          s.release(e);
          all.remove(e);
        }
      }
    }
  }
}
