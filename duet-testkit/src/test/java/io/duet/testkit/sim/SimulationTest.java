package io.duet.testkit.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The deterministic simulation in CI (testing.md section 2): fresh seeds derived from one printed
 * base seed, plus every seed of the regression corpus ({@code sim/regressions.txt}).
 *
 * <ul>
 *   <li>{@code -Dduet.seed=N} runs only seed N, printing its whole trace ({@code "N basic"} or
 *       {@code "N L1"}: at that level of {@link SimWorld#LEVEL}, as corpus entries so marked run);
 *   <li>{@code -Dduet.seeds=N} runs N fresh seeds (soak mode);
 *   <li>{@code -Dduet.baseSeed=N} derives the fresh seeds from N instead of the clock;
 *   <li>{@code -Dduet.sim.list=true} prints every run's summary.
 * </ul>
 */
class SimulationTest {
  static final int DEFAULT_SEEDS = 500;

  @Test
  void freshSeedsAndRegressions() throws IOException {
    String one = System.getProperty("duet.seed");
    if (one != null && !one.isBlank()) {
      CorpusEntry e = CorpusEntry.parse(one);
      SimResult r = SimWorld.run(e.seed(), true, e.level());
      System.out.println(r.report());
      assertThat(r.passed()).as(r.report()).isTrue();
      return;
    }
    long base = Long.getLong("duet.baseSeed", System.nanoTime());
    int count = Integer.getInteger("duet.seeds", DEFAULT_SEEDS);
    System.out.println(
        "simulation: "
            + count
            + " seeds from base seed "
            + base
            + " (rerun them with -Dduet.baseSeed="
            + base
            + ")");
    List<CorpusEntry> seeds = new ArrayList<>(regressionSeeds());
    SplittableRandom derive = new SplittableRandom(base);
    for (int i = 0; i < count; i++) {
      seeds.add(new CorpusEntry(derive.nextLong() & Long.MAX_VALUE, SimWorld.LEVEL));
    }
    List<String> failures = new ArrayList<>();
    Map<String, Long> tally = new TreeMap<>();
    long started = System.nanoTime();
    for (CorpusEntry entry : seeds) {
      long seed = entry.seed();
      SimResult r = SimWorld.run(seed, false, entry.level());
      r.tally().forEach((k, v) -> tally.merge(k, v, Long::sum));
      if (!r.passed()) {
        failures.add(r.report());
      }
      if (!r.passed()) {
        System.out.println(r.report());
      } else if (Boolean.getBoolean("duet.sim.list")) {
        System.out.println("seed " + seed + ": " + r.summary());
      }
    }
    System.out.printf(
        "simulation: %d seeds in %.1f s, %d failed%n",
        seeds.size(), (System.nanoTime() - started) / 1e9, failures.size());
    tally.forEach((k, v) -> System.out.printf("simulation:   %-28s %,12d%n", k, v));
    assertThat(failures).as(String.join("\n", failures)).isEmpty();
  }

  /**
   * A seed to run at a level of {@link SimWorld#LEVEL}: a corpus seed replays at the level it was
   * found at, exactly as then.
   */
  record CorpusEntry(long seed, int level) {
    /** {@code "N"} (the latest level), {@code "N basic"} (level 0) or {@code "N L<level>"}. */
    static CorpusEntry parse(String text) {
      String[] words = text.trim().split("\\s+");
      if (words.length == 1) {
        return new CorpusEntry(Long.parseLong(words[0]), SimWorld.LEVEL);
      }
      if (words.length == 2 && words[1].equals("basic")) {
        return new CorpusEntry(Long.parseLong(words[0]), 0);
      }
      if (words.length == 2 && words[1].matches("L[0-9]+")) {
        int level = Integer.parseInt(words[1].substring(1));
        if (level <= SimWorld.LEVEL) {
          return new CorpusEntry(Long.parseLong(words[0]), level);
        }
      }
      throw new IllegalArgumentException("not a seed entry (N, N basic or N L<level>): " + text);
    }
  }

  /** The seeds of {@code sim/regressions.txt}: one per line, {@code #} starts a comment. */
  static List<CorpusEntry> regressionSeeds() throws IOException {
    List<CorpusEntry> seeds = new ArrayList<>();
    try (InputStream in = SimulationTest.class.getResourceAsStream("/sim/regressions.txt")) {
      if (in == null) {
        return seeds;
      }
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        String s = line.replaceFirst("#.*", "").trim();
        if (!s.isEmpty()) {
          seeds.add(CorpusEntry.parse(s));
        }
      }
    }
    return seeds;
  }
}
