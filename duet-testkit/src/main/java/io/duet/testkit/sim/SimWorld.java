package io.duet.testkit.sim;

import io.duet.sync.SyncSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * One simulated run: two sites (and, by the seed's choice, a mediator) on one thread, hosts at both
 * sites, a fault phase, a healing phase, then the checks of G1-G5. Everything — timings, faults,
 * operations — derives from the seed, so {@code run(seed)} replays a run exactly.
 */
public final class SimWorld {
  static final UUID SITE_A = new UUID(0xA, 1);
  static final UUID SITE_B = new UUID(0xB, 2);
  static final long MS = 1_000_000L;
  static final long VOLUME_BYTES = 1L << 20;
  static final long REGION_BYTES = 64 << 10;
  static final long EXTENT_BYTES = 128 << 10;

  /**
   * Activity-log extent of runs with the extended host operations: small, so the replication chunk
   * (eight extents) is 32 blocks and writes across its boundaries are split.
   */
  static final long SMALL_EXTENT_BYTES = 16 << 10;

  /** Timings short enough for fast runs (replication.md's defaults scaled down 10x). */
  static final SyncSettings SETTINGS =
      SyncSettings.defaults().withTimes(100, 500, 100, 300).withResyncRate(32L << 20);

  static final long MEDIATOR_LEASE_MS = 500;
  static final long MEDIATOR_GRACE_MS = 200;

  final long seed;
  final SimScheduler sched = new SimScheduler();
  final Trace trace;
  final History history = new History();
  final Invariants invariants = new Invariants();
  private final SplittableRandom rnd;
  private final Path dir;
  SimSite a;
  SimSite b;
  SimLink link;
  SimMediator mediator;
  SimMediator.Port portA;
  SimMediator.Port portB;
  private Nemesis nemesis;
  private final List<HostClient> clients = new ArrayList<>();

  /**
   * Draws for what was added after the regression corpus began (the extended host operations), so
   * corpus seeds that do not enable them replay exactly as when they were found.
   */
  private final SplittableRandom laterOps;

  /** Whether hosts also issue WRITE ATOMIC, COMPARE AND WRITE and chunk-crossing writes. */
  private boolean extendedOps;

  private long extentBytes = EXTENT_BYTES;

  /** Volumes in the group (each {@link #VOLUME_BYTES}, side by side on each site's disk). */
  private int volumes = 1;

  /** The level of {@link #LEVEL} this run draws at. */
  private int level = LEVEL;

  private SimWorld(long seed, boolean verbose, Path dir) {
    this.seed = seed;
    this.rnd = new SplittableRandom(seed);
    this.laterOps = new SplittableRandom(seed ^ 0x2545F4914F6CDD1DL);
    this.trace = new Trace(sched::now, verbose);
    this.dir = dir;
  }

  /**
   * What a run may draw, by the generation it was added in: 0, plain writes, reads and flushes and
   * the faults before disk errors; 1, also WRITE ATOMIC, COMPARE AND WRITE and writes across
   * replication chunks; 2, also disk errors; 3, also clock steps, a mediator rebuilt from an older
   * backup and verify under load; 4, also groups of two volumes; 5, also UNMAP and WRITE ZEROES.
   * Fresh seeds run at the latest; a corpus seed replays at the level it was found at, exactly as
   * then.
   */
  public static final int LEVEL = 5;

  /** Runs the simulation of {@code seed}; with {@code verbose}, prints every event. */
  public static SimResult run(long seed, boolean verbose) {
    return run(seed, verbose, LEVEL);
  }

  /** As {@link #run(long, boolean)}, drawing only what {@code level} had (see {@link #LEVEL}). */
  public static SimResult run(long seed, boolean verbose, int level) {
    Path dir = tempDir();
    try {
      return new SimWorld(seed, verbose, dir).run(level);
    } finally {
      deleteTree(dir);
    }
  }

  private SimResult run(int level) {
    this.level = level;
    EnumSet<Nemesis.Fault> faults = chooseFaults();
    faults.removeIf(f -> f.level() > level);
    boolean withMediator = rnd.nextInt(2) == 0;
    boolean skew = faults.contains(Nemesis.Fault.CLOCK_SKEW);
    extendedOps = laterOps.nextBoolean() && level >= 1;
    extentBytes = extendedOps ? SMALL_EXTENT_BYTES : EXTENT_BYTES;
    // From a stream of its own, so runs of one volume replay as at level 3.
    volumes =
        extendedOps && level >= 4 && new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L).nextBoolean()
            ? 2
            : 1;
    build(withMediator, skew);
    nemesis = new Nemesis(this, rnd.split(), faults);
    trace.log("world", "seed " + seed + " faults " + faults + (withMediator ? " mediator" : ""));
    long faultPhase = (1500 + rnd.nextLong(2500)) * MS;
    String stage = "setup";
    try {
      stage = "initial sync";
      a.start();
      b.start();
      link.connect();
      if (!runUntil(this::bothInSync, 5_000 * MS)) {
        invariants.violation("G5: the sites never reached sync at the start");
      }
      stage = "fault phase";
      int hot = 8 + rnd.nextInt(56);
      int perSite = 1 + rnd.nextInt(3);
      for (int i = 0; i < perSite; i++) {
        clients.add(client(a, b, 2 * i + 1, hot));
        clients.add(client(b, a, 2 * i + 2, hot));
      }
      clients.forEach(HostClient::start);
      long end = sched.now() + faultPhase;
      nemesis.start(end);
      sched.runUntil(end);
      stage = "healing";
      healAndCheck();
    } catch (RuntimeException | AssertionError e) {
      invariants.violation("simulation error during " + stage + ": " + e + "\n" + stackOf(e));
    }
    return new SimResult(
        seed, invariants.violations(), summary(faults, withMediator), trace.tail(), tally());
  }

  private HostClient client(SimSite site, SimSite peer, int id, int hot) {
    SplittableRandom main = rnd.split();
    int chunkBlocks = (int) (8 * extentBytes / SimDisk.BLOCK);
    return new HostClient(
        this,
        site,
        peer,
        id,
        main,
        hot,
        extendedOps ? laterOps.split() : null,
        chunkBlocks,
        volumes,
        VOLUME_BYTES / SimDisk.BLOCK,
        extendedOps && level >= 5);
  }

  /** Faults injected and host operations by kind and outcome (see {@link SimResult#tally}). */
  private Map<String, Long> tally() {
    Map<String, Long> t = new TreeMap<>();
    if (nemesis != null) {
      nemesis.injected.forEach(f -> t.merge("fault " + f, 1L, Long::sum));
    }
    for (Op op : history.ops()) {
      t.merge("op " + op.label() + " " + op.outcome, 1L, Long::sum);
    }
    return t;
  }

  /** Ends every fault, lets the hosts finish and the sites converge, then checks G1-G5. */
  private void healAndCheck() {
    trace.log("world", "healing: all faults end");
    nemesis.healAll();
    sched.runUntil(sched.now() + 700 * MS);
    clients.forEach(HostClient::stop);
    if (!runUntil(() -> clients.stream().allMatch(HostClient::idle), 5_000 * MS)) {
      invariants.violation("G5: host operations still hang 5 s after healing: " + hung());
    }
    if (!runUntil(this::bothInSync, 20_000 * MS)) {
      invariants.violation(
          "G5: not in sync 20 s after healing: A "
              + a.status()
              + ", B "
              + b.status()
              + "\n    A: "
              + dump(a)
              + "\n    B: "
              + dump(b));
    }
    new Finale(this).run();
  }

  /**
   * A world for a scripted scenario (one row of replication.md section 3, say): both sites in sync
   * with a mediator, one host writing and reading at each site, and no random fault; the test
   * injects its faults through the returned {@link Scenario} and ends it with {@link
   * Scenario#finish}, which heals and checks G1-G5 as a random run does.
   */
  static Scenario scripted(long seed, boolean verbose) {
    SimWorld w = new SimWorld(seed, verbose, tempDir());
    w.build(true, false);
    w.nemesis = new Nemesis(w, w.rnd.split(), EnumSet.noneOf(Nemesis.Fault.class));
    w.a.start();
    w.b.start();
    w.link.connect();
    if (!w.runUntil(w::bothInSync, 5_000 * MS)) {
      throw new AssertionError("the sites never reached sync at the start");
    }
    w.clients.add(w.client(w.a, w.b, 1, 32));
    w.clients.add(w.client(w.b, w.a, 2, 32));
    w.clients.forEach(HostClient::start);
    return w.new Scenario();
  }

  /** The faults a scripted test injects, and the end of its run. */
  final class Scenario {
    SimSite a() {
      return a;
    }

    SimSite b() {
      return b;
    }

    long nowMs() {
      return sched.now() / MS;
    }

    /** Runs for {@code ms} of simulated time. */
    void runFor(long ms) {
      sched.runUntil(sched.now() + ms * MS);
    }

    /** Runs until {@code done} holds; false if {@code withinMs} passed first. */
    boolean runUntil(BooleanSupplier done, long withinMs) {
      return SimWorld.this.runUntil(done, withinMs * MS);
    }

    /** Cuts (or heals) the replication link both ways. */
    void partition(boolean cut) {
      trace.log("fault", cut ? "link cut" : "link healed");
      nemesis.partition(cut);
    }

    /** Cuts (or heals) one site's path to the mediator. */
    void cutMediator(SimSite s, boolean cut) {
      trace.log("fault", s.name + "<->mediator " + (cut ? "cut" : "healed"));
      (s == a ? portA : portB).cut = cut;
    }

    void crashMediator() {
      trace.log("fault", "mediator crashes");
      mediator.crash();
    }

    void restartMediator() {
      trace.log("fault", "mediator restarts");
      mediator.start();
    }

    /** Backs up the mediator's records (see {@link SimMediator#backUp}). */
    void backUpMediator() {
      trace.log("fault", "mediator records backed up");
      mediator.backUp();
    }

    /** Rebuilds the mediator from its backup (see {@link SimMediator#restoreBackup}). */
    void restoreMediatorBackup() {
      trace.log("fault", "mediator rebuilt from its backup");
      mediator.restoreBackup();
    }

    /** The mediator forgets the group (see {@link SimMediator#loseRecords}). */
    void loseMediatorRecords() {
      trace.log("fault", "mediator loses its record");
      mediator.loseRecords();
    }

    /** Kills a site's process ({@code powerLoss}: its un-flushed writes are lost too). */
    void crash(SimSite s, boolean powerLoss) {
      trace.log("fault", s.name + (powerLoss ? " loses power" : " crashes"));
      if (powerLoss) {
        powerLoss(List.of(s), List.of(false));
      } else {
        s.crash(false, false);
      }
      siteCrashed(s);
      nemesis.reconcileLink();
    }

    /** Both sites lose power at once (their un-flushed writes are lost, none torn). */
    void powerLossBoth() {
      trace.log("fault", "both sites lose power");
      powerLoss(List.of(a, b), List.of(false, false));
      siteCrashed(a);
      siteCrashed(b);
      nemesis.reconcileLink();
    }

    void restart(SimSite s) {
      trace.log("fault", s.name + " restarts");
      s.start();
      nemesis.reconcileLink();
    }

    /** Stops a site's process for {@code ms} (SIGSTOP): its clock runs on, it does nothing. */
    void pause(SimSite s, long ms) {
      trace.log("fault", s.name + " paused for " + ms + " ms");
      s.node.pauseUntil(sched.now() + ms * MS);
    }

    /**
     * An operator forces {@code to} to lead; what the other site did since {@code lostContactMs} is
     * given up (see {@link Invariants#forcedFailover}).
     */
    java.util.concurrent.CompletableFuture<String> forceFailover(SimSite to, long lostContactMs) {
      trace.log("fault", "operator forces " + to.name + " to lead");
      invariants.forcedFailover(to, to == a ? b : a, lostContactMs * MS, history);
      return to.replicator().forceFailover("operator: the other site is lost");
    }

    /** What the mediator records now. */
    io.duet.mediator.RelationshipView record() {
      return mediator.view();
    }

    /** Heals everything, lets the sites converge and checks G1-G5. */
    SimResult finish() {
      try {
        healAndCheck();
      } catch (RuntimeException | AssertionError e) {
        invariants.violation("simulation error while healing: " + e + "\n" + stackOf(e));
      } finally {
        deleteTree(dir);
      }
      return new SimResult(
          seed,
          invariants.violations(),
          summary(EnumSet.noneOf(Nemesis.Fault.class), true),
          trace.tail(),
          tally());
    }
  }

  private EnumSet<Nemesis.Fault> chooseFaults() {
    EnumSet<Nemesis.Fault> faults = EnumSet.noneOf(Nemesis.Fault.class);
    int mode = rnd.nextInt(10);
    SplittableRandom later = new SplittableRandom(seed ^ 0x5DEECE66DL);
    for (Nemesis.Fault f : Nemesis.Fault.values()) {
      // One run in ten is fault-free; the others enable each fault with probability one half.
      if (mode != 0 && (f.later() ? later.nextBoolean() : rnd.nextBoolean())) {
        faults.add(f);
      }
    }
    return faults;
  }

  private void build(boolean withMediator, boolean skew) {
    double rateA = skew ? 1 + (rnd.nextDouble() - 0.5) * 0.05 : 1;
    double rateB = skew ? 1 + (rnd.nextDouble() - 0.5) * 0.05 : 1;
    a =
        new SimSite(
            "A",
            SITE_A,
            SITE_B,
            sched,
            rnd.split(),
            trace,
            dir.resolve("A"),
            SETTINGS,
            rateA,
            VOLUME_BYTES,
            REGION_BYTES,
            extentBytes,
            volumes,
            invariants);
    b =
        new SimSite(
            "B",
            SITE_B,
            SITE_A,
            sched,
            rnd.split(),
            trace,
            dir.resolve("B"),
            SETTINGS,
            rateB,
            VOLUME_BYTES,
            REGION_BYTES,
            extentBytes,
            volumes,
            invariants);
    long base = (100 + rnd.nextLong(2000)) * 1_000L;
    link = new SimLink(sched, rnd.split(), trace, a.node, b.node, base, base / 2);
    a.end = link.a;
    b.end = link.b;
    if (withMediator) {
      mediator =
          new SimMediator(
              sched,
              rnd.split(),
              trace,
              dir.resolve("M"),
              MEDIATOR_LEASE_MS,
              MEDIATOR_GRACE_MS,
              SimSite.GROUP,
              SITE_A,
              SITE_B);
      mediator.start();
      portA = mediator.new Port("A", SITE_A, a.node);
      portB = mediator.new Port("B", SITE_B, b.node);
      a.mediator = portA;
      b.mediator = portB;
    }
  }

  boolean bothInSync() {
    return a.inSyncAndServing() && b.inSyncAndServing();
  }

  /** The site that leads by its own status, or null. */
  SimSite leader() {
    for (SimSite s : List.of(a, b)) {
      if (s.alive() && s.status().leaderId().equals(s.id)) {
        return s;
      }
    }
    return null;
  }

  /**
   * {@code losing} lose power at once ({@code tears}: whether each may tear its un-flushed blocks);
   * first the ledger excuses the writes whose only copies go with their page caches.
   */
  void powerLoss(List<SimSite> losing, List<Boolean> tears) {
    List<SimSite> others = Stream.of(a, b).filter(s -> !losing.contains(s)).toList();
    int excused =
        invariants.powerLoss.powerLoss(
            losing.stream().map(s -> s.disk).toList(),
            others.stream().filter(s -> !s.staleSinceInSync()).map(s -> s.disk).toList(),
            others.stream().filter(SimSite::staleSinceInSync).map(s -> s.disk).toList(),
            others.stream()
                .filter(s -> s.staleSinceInSync() && s == leader())
                .map(s -> s.disk)
                .toList(),
            sched.now(),
            history,
            () -> {
              for (int i = 0; i < losing.size(); i++) {
                SimSite site = losing.get(i);
                if (site.alive()) {
                  site.crash(true, tears.get(i));
                } else {
                  site.powerLossWhileDown(tears.get(i));
                }
              }
            });
    if (excused > 0) {
      trace.log("world", excused + " un-flushed writes excused (their only copies lost power)");
    }
  }

  void siteCrashed(SimSite s) {
    for (HostClient c : clients) {
      if (c.site() == s) {
        c.siteCrashed();
      }
    }
  }

  /** Runs the simulation until {@code done} holds (checked every 5 ms) or the time is up. */
  boolean runUntil(BooleanSupplier done, long withinNanos) {
    long deadline = sched.now() + withinNanos;
    while (!done.getAsBoolean()) {
      if (sched.now() >= deadline) {
        return false;
      }
      sched.runUntil(Math.min(deadline, sched.now() + 5 * MS));
    }
    return true;
  }

  private String hung() {
    StringBuilder sb = new StringBuilder();
    for (Op op : history.ops()) {
      if (op.outcome == Op.Outcome.PENDING) {
        sb.append("\n    ").append(op);
      }
    }
    return sb.toString();
  }

  private String summary(EnumSet<Nemesis.Fault> faults, boolean withMediator) {
    return String.format(
        "faults %s%s%s, injected %d, %d ops (%d writes ok, %d reads ok, %d failed), %d alone acks,"
            + " virtual %d ms, %d tasks",
        faults,
        extendedOps ? " +host ops" + (volumes > 1 ? " +" + volumes + " volumes" : "") : "",
        withMediator
            ? " +mediator ("
                + mediator.calls
                + " calls, "
                + mediator.takeoversGranted
                + " takeovers)"
            : "",
        nemesis == null ? 0 : nemesis.injected.size(),
        history.ops().size(),
        history.count(Op.Kind.WRITE, Op.Outcome.OK),
        history.count(Op.Kind.READ, Op.Outcome.OK),
        history.ops().stream().filter(o -> o.outcome == Op.Outcome.FAILED).count(),
        invariants.aloneAckCount,
        sched.now() / MS,
        sched.executed());
  }

  private static Path tempDir() {
    try {
      Path shm = Path.of("/dev/shm");
      return Files.isDirectory(shm) && Files.isWritable(shm)
          ? Files.createTempDirectory(shm, "duet-sim-")
          : Files.createTempDirectory("duet-sim-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A leftover temp directory is harmless; the run's result is what matters.
    }
  }

  private static String stackOf(Throwable e) {
    java.io.StringWriter w = new java.io.StringWriter();
    e.printStackTrace(new java.io.PrintWriter(w));
    return w.toString();
  }

  /** The replicator's own account of its loop state, run to completion on the simulator. */
  private String dump(SimSite site) {
    if (!site.alive()) {
      return "(down)";
    }
    java.util.concurrent.CompletableFuture<String> f = site.replicator().describe();
    runUntil(f::isDone, 1_000 * MS);
    return f.getNow("(no answer)").replace("\n", "\n      ");
  }
}
