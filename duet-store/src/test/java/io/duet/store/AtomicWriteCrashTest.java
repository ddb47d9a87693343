package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash: a child JVM loops over atomic writes of one value per write across a lock-region
 * boundary, printing each value once its write returned; the test kills it with SIGKILL at a seeded
 * point, reopens the store and checks the range holds one value, at least the last one
 * acknowledged. (SIGKILL keeps the page cache, so this exercises process death mid-write and the
 * replay, not power loss; the journal tests cover torn records.)
 */
class AtomicWriteCrashTest {
  static final long OFFSET = (1L << RangeLock.REGION_SHIFT) - 512 * 1024;
  static final int LENGTH = Volume.MAX_ATOMIC_WRITE_BYTES;
  static final int WRITES_PER_RUN = 60;

  @TempDir Path dir;

  @Test
  void killedWriterLeavesEveryRangeWhole() throws Exception {
    Random random = new Random(7);
    try (VolumeStore store = VolumeStore.open(dir)) {
      store.create("crash", 4L << 20, 512);
    }
    for (int round = 0; round < 3; round++) {
      int killAfter = 5 + random.nextInt(40);
      int lastAcked = runAndKill(killAfter);
      try (VolumeStore store = VolumeStore.open(dir)) {
        LocalVolume v = store.get("crash").orElseThrow();
        ByteBuffer got = ByteBuffer.allocate(LENGTH);
        v.read(OFFSET, got);
        byte first = got.get(0);
        assertThat(got.array()).as("round %d", round).containsOnly(first);
        assertThat(Byte.toUnsignedInt(first)).isGreaterThanOrEqualTo(lastAcked + 1);
      }
    }
  }

  /** Starts the writer, kills it after {@code killAfter} acknowledged writes; the last ack. */
  private int runAndKill(int killAfter) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Writer.class.getName(),
                dir.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    int last = -1;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))) {
      String line;
      int seen = 0;
      while ((line = out.readLine()) != null) {
        last = Integer.parseInt(line.trim());
        if (++seen >= killAfter) {
          break;
        }
      }
      p.destroyForcibly(); // SIGKILL: no shutdown hooks, no close
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(last).as("writer acknowledged nothing").isPositive();
    return last;
  }

  /**
   * The child: write n stores the value n + 1 and prints n once it returned. Three rounds of at
   * most {@link #WRITES_PER_RUN} writes stay below 255, so the stored value only grows.
   */
  static final class Writer {
    private Writer() {}

    public static void main(String[] args) throws IOException {
      PrintStream out = System.out;
      try (VolumeStore store = VolumeStore.open(Path.of(args[0]))) {
        LocalVolume v = store.get("crash").orElseThrow();
        ByteBuffer current = ByteBuffer.allocate(LENGTH);
        v.read(OFFSET, current);
        int start = Byte.toUnsignedInt(current.get(0)); // continue above what a round left
        for (int n = start; n < start + WRITES_PER_RUN; n++) {
          v.writeAtomic(OFFSET, AtomicWriteTest.filled(LENGTH, n + 1), false);
          out.println(n);
          out.flush();
        }
      }
    }
  }
}
