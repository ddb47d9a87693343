package io.duet.testkit.sim;

import io.duet.mediator.Decision;
import io.duet.mediator.LocalMediator;
import io.duet.mediator.MediatorException;
import io.duet.mediator.RelationshipView;
import io.duet.sync.Mediator;
import io.duet.sync.MediatorVerdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The third-site mediator: the real state machine ({@link LocalMediator}) on its own node, with its
 * records on disk (they survive its crashes) and the simulated clock, reached by each site through
 * a {@link Port} over a simulated network that can be cut per site.
 */
final class SimMediator {
  static final long TIMEOUT_NANOS = 250_000_000L;
  private static final Instant EPOCH = Instant.parse("2030-01-01T00:00:00Z");

  final SimNode node = new SimNode("M");
  private final SimScheduler sched;
  private final SplittableRandom rnd;
  private final Trace trace;
  private final Path dir;
  private final long leaseMs;
  private final long graceMs;
  private final UUID group;
  private final UUID siteA;
  private final UUID siteB;
  private LocalMediator mediator;
  long calls;
  long takeoversGranted;

  /** How far the wall clock has been stepped from true time (leases do not read it). */
  private long wallStepNanos;

  SimMediator(
      SimScheduler sched,
      SplittableRandom rnd,
      Trace trace,
      Path dir,
      long leaseMs,
      long graceMs,
      UUID group,
      UUID siteA,
      UUID siteB) {
    this.sched = sched;
    this.rnd = rnd;
    this.trace = trace;
    this.dir = dir;
    this.leaseMs = leaseMs;
    this.graceMs = graceMs;
    this.group = group;
    this.siteA = siteA;
    this.siteB = siteB;
  }

  boolean up() {
    return mediator != null;
  }

  void start() {
    node.revive();
    try {
      mediator =
          LocalMediator.open(
              dir,
              leaseMs,
              graceMs,
              sched::now,
              () -> EPOCH.plusNanos(sched.now() + wallStepNanos));
    } catch (IOException e) {
      throw new UncheckedIOException("mediator records unreadable after restart", e);
    }
    trace.log("M", "mediator started");
  }

  /** Steps the wall clock by {@code nanos} (either way), as an NTP correction does. */
  void stepWallClock(long nanos) {
    wallStepNanos += nanos;
  }

  /** A copy of the data directory (a backup), or null. */
  private Path backup;

  private long backupAtNanos;

  /** Whether a backup of the records is held for a later restore. */
  boolean hasBackup() {
    return backup != null;
  }

  /** Copies the records aside, as a nightly backup of the mediator's data directory does. */
  void backUp() {
    backup = dir.resolveSibling(dir.getFileName() + ".backup");
    backupAtNanos = sched.now();
    deleteTree(backup);
    copyTree(dir, backup);
    trace.log("M", "records backed up");
  }

  /**
   * The mediator's machine is rebuilt from the backup: it goes down, its records become the backed
   * up ones (older epochs, an older survivor), the operator marks them restored ({@code duet
   * mediator restored}) and it starts again. The backup is used up.
   */
  void restoreBackup() {
    if (mediator != null) {
      crash();
    }
    deleteTree(dir);
    copyTree(backup, dir);
    deleteTree(backup);
    backup = null;
    trace.log("M", "records restored from the backup of " + backupAtNanos / 1_000_000 + " ms");
    start();
    try {
      mediator.restoredFromBackup(); // the operator's step of the restore (duet mediator restored)
    } catch (MediatorException e) {
      throw new IllegalStateException("cannot mark the restored records", e);
    }
  }

  private static void copyTree(Path from, Path to) {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (java.nio.file.Files.isDirectory(f)) {
          java.nio.file.Files.createDirectories(target);
        } else {
          java.nio.file.Files.copy(f, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the mediator's records", e);
    }
  }

  private static void deleteTree(Path root) {
    if (!java.nio.file.Files.exists(root)) {
      return;
    }
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(root)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.delete(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }

  void crash() {
    node.kill();
    mediator = null;
    trace.log("M", "mediator crashed");
  }

  /**
   * The mediator loses its record of the group (a replaced data directory, a DELETE, a backup
   * restored without it): the next call of each site finds none and registers the group again with
   * what that site believes.
   */
  void loseRecords() {
    if (mediator == null) {
      return;
    }
    try {
      mediator.remove(group);
    } catch (MediatorException e) {
      throw new IllegalStateException("cannot drop the record", e);
    }
    trace.log("M", "mediator lost its record of the group");
  }

  /** The recorded state, or null when the mediator is down or knows no relationship yet. */
  RelationshipView view() {
    if (mediator == null) {
      return null;
    }
    try {
      return mediator.view(group);
    } catch (MediatorException e) {
      return null;
    }
  }

  /** One request as the mediator runs it. */
  private interface Call {
    Decision run(LocalMediator m) throws MediatorException;
  }

  /** One site's connection to the mediator (the adapter the replicator sees). */
  final class Port implements Mediator {
    private final String name;
    private final UUID site;
    private final SimNode siteNode;

    /** The leader and epoch this site last reported or learnt: what it registers again with. */
    private UUID knownLeader;

    private long knownEpoch = 1;

    /** The site's network path to the mediator is cut. */
    boolean cut;

    Port(String name, UUID site, SimNode siteNode) {
      this.name = name;
      this.site = site;
      this.siteNode = siteNode;
    }

    @Override
    public CompletableFuture<MediatorVerdict> heartbeat(long epoch, UUID leader, boolean inSync) {
      knownLeader = leader;
      knownEpoch = Math.max(1, epoch);
      return call(
          "heartbeat e" + epoch + " inSync=" + inSync,
          m -> m.heartbeat(group, site, epoch, leader, inSync));
    }

    @Override
    public CompletableFuture<MediatorVerdict> renewLease(long epoch) {
      return call("renewLease e" + epoch, m -> m.renewLease(group, site, epoch));
    }

    @Override
    public CompletableFuture<MediatorVerdict> outOfSync(long epoch) {
      return call("outOfSync e" + epoch, m -> m.outOfSync(group, site, epoch));
    }

    @Override
    public CompletableFuture<MediatorVerdict> takeover(long epoch) {
      return call("takeover e" + epoch, m -> m.takeover(group, site, epoch));
    }

    @Override
    public CompletableFuture<MediatorVerdict> forcedFailover(long epoch, String reason) {
      return call("forcedFailover e" + epoch, m -> m.forcedFailover(group, site, epoch, reason));
    }

    private CompletableFuture<MediatorVerdict> call(String what, Call c) {
      calls++;
      CompletableFuture<MediatorVerdict> f = new CompletableFuture<>();
      int inc = siteNode.incarnation();
      if (cut || mediator == null) {
        // Connection refused or no route: the client fails fast.
        sched.at(
            sched.now() + 1_000_000 + rnd.nextLong(20_000_000),
            siteNode,
            inc,
            () -> fail(f, what, "mediator unreachable"));
        return f;
      }
      long there = 300_000 + rnd.nextLong(3_000_000);
      sched.after(
          there,
          node,
          () -> {
            if (cut) {
              return; // lost on the way: the client times out
            }
            Decision d;
            MediatorException error = null;
            try {
              d = runRegistering(c);
            } catch (MediatorException e) {
              d = null;
              error = e;
            }
            Decision answer = d;
            MediatorException failure = error;
            long back = 300_000 + rnd.nextLong(3_000_000);
            sched.at(
                sched.now() + back,
                siteNode,
                inc,
                () -> {
                  if (cut || f.isDone()) {
                    return;
                  }
                  if (failure != null) {
                    fail(f, what, failure.kind() + ": " + failure.getMessage());
                  } else {
                    trace.log(name, "mediator " + what + " -> " + describe(answer));
                    if (what.startsWith("takeover") && answer.granted()) {
                      takeoversGranted++;
                    }
                    f.complete(verdict(answer));
                  }
                });
          });
      sched.at(sched.now() + TIMEOUT_NANOS, siteNode, inc, () -> fail(f, what, "timed out"));
      return f;
    }

    /**
     * As a site's client does: a group the mediator does not know is registered with what this site
     * believes (the first registration names site A the leader at epoch 1), then asked again.
     */
    private Decision runRegistering(Call c) throws MediatorException {
      try {
        return record(c.run(mediator));
      } catch (MediatorException e) {
        if (e.kind() != MediatorException.Kind.NOT_FOUND) {
          throw e;
        }
        mediator.register(
            group, siteA, siteB, knownLeader == null ? siteA : knownLeader, knownEpoch);
        return record(c.run(mediator));
      }
    }

    private Decision record(Decision d) {
      if (d.relationship().epoch() >= knownEpoch) {
        knownEpoch = d.relationship().epoch();
        knownLeader = d.relationship().leader();
      }
      return d;
    }

    private void fail(CompletableFuture<MediatorVerdict> f, String what, String why) {
      if (!f.isDone()) {
        trace.log(name, "mediator " + what + " failed: " + why);
        f.completeExceptionally(new IOException("mediator: " + why));
      }
    }
  }

  static MediatorVerdict verdict(Decision d) {
    RelationshipView r = d.relationship();
    return new MediatorVerdict(
        d.granted(),
        MediatorVerdict.Refusal.valueOf(d.reason().name()),
        d.message(),
        d.waitMs(),
        d.leaseMs(),
        r.epoch(),
        r.leader(),
        r.inSync(),
        r.survivor());
  }

  private static String describe(Decision d) {
    RelationshipView r = d.relationship();
    return (d.granted() ? "granted" : "refused " + d.reason())
        + " (e"
        + r.epoch()
        + " leader "
        + r.leader().getMostSignificantBits()
        + (r.inSync()
            ? " in sync"
            : " survivor " + (r.survivor() == null ? "-" : r.survivor().getMostSignificantBits()))
        + ")";
  }
}
