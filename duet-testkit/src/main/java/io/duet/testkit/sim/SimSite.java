package io.duet.testkit.sim;

import io.duet.sync.ConsistencyGroupReplicator;
import io.duet.sync.GroupConfig;
import io.duet.sync.Mediator;
import io.duet.sync.ReplicatedVolume;
import io.duet.sync.ReplicationListener;
import io.duet.sync.ReplicationStatus;
import io.duet.sync.SharedStateMachine;
import io.duet.sync.SyncSettings;
import io.duet.sync.VolumeReplica;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Executor;

/**
 * One site: the real {@link ConsistencyGroupReplicator} over a simulated disk, dirty map and
 * activity log, its epoch in a real file (the store it persists through), on the simulator's queue
 * with a skewed clock. A crash drops the process (and, with power loss, the un-flushed writes); a
 * restart reopens the replicator from what persisted, as a real restart does.
 */
final class SimSite {
  static final UUID GROUP = new UUID(0xC0FFEEL, 1);

  final String name;
  final UUID id;
  final UUID peerId;
  final SimNode node;
  final SimDisk disk;

  /**
   * Each volume of the group as the replicator uses it: fails some I/O while the disk-errors fault
   * is on. All of them live on {@link #disk}.
   */
  final List<FailingDisk> failing = new java.util.ArrayList<>();

  /** Each volume's dirty map and activity log ({@link #dirty} and {@link #log} are volume 0's). */
  final List<SimDirtyMap> dirties = new java.util.ArrayList<>();

  final List<SimActivityLog> logs = new java.util.ArrayList<>();

  final SimDirtyMap dirty;
  final SimActivityLog log;
  private final SimScheduler sched;

  /** When this site last lost power (its page cache with it), or Long.MIN_VALUE. */
  long lastPowerLossNanos = Long.MIN_VALUE;

  /** When this site last reported itself in sync and serving, or Long.MIN_VALUE. */
  private long lastInSyncNanos = Long.MIN_VALUE;

  private int powerCycles;
  private final SplittableRandom rnd;
  private final Trace trace;
  private final Path stateDir;
  private final SyncSettings settings;
  private final double clockRate;
  private final Invariants invariants;
  SimLink.End end;
  Mediator mediator = Mediator.NONE;
  private ConsistencyGroupReplicator replicator;
  private List<ReplicatedVolume> volumes;
  private boolean alive;
  private boolean stopping;

  /** Extra delay of every disk operation while the slow-disk fault is on (0: healthy). */
  long slowDiskNanos;

  int restarts;

  SimSite(
      String name,
      UUID id,
      UUID peerId,
      SimScheduler sched,
      SplittableRandom rnd,
      Trace trace,
      Path stateDir,
      SyncSettings settings,
      double clockRate,
      long volumeBytes,
      long regionBytes,
      long extentBytes,
      int volumes,
      Invariants invariants) {
    this.name = name;
    this.id = id;
    this.peerId = peerId;
    this.node = new SimNode(name);
    this.sched = sched;
    this.rnd = rnd;
    this.trace = trace;
    this.stateDir = stateDir;
    this.settings = settings;
    this.clockRate = clockRate;
    this.invariants = invariants;
    this.disk = new SimDisk(volumes * volumeBytes);
    for (int v = 0; v < volumes; v++) {
      // One volume is the disk itself, as before groups of several volumes were simulated.
      io.duet.store.Volume local =
          volumes == 1 ? disk : disk.volume(v, volumeBytes / SimDisk.BLOCK);
      failing.add(new FailingDisk(local));
      SimDirtyMap d = new SimDirtyMap(volumeBytes, regionBytes);
      SimActivityLog l = new SimActivityLog(volumeBytes, extentBytes, 2, () -> flush(local));
      l.trace = trace;
      // Checked once the loop event that marked is over: a leader fenced in that event marks its
      // aborted writes dirty while its published status still says LEADER IN_SYNC.
      d.afterMark = () -> sched.at(sched.now(), null, this::checkLeaderClean);
      dirties.add(d);
      logs.add(l);
    }
    this.dirty = dirties.getFirst();
    this.log = logs.getFirst();
  }

  private static void flush(io.duet.store.Volume v) {
    try {
      v.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // the simulated media never fail a flush
    }
  }

  boolean alive() {
    return alive;
  }

  ConsistencyGroupReplicator replicator() {
    return replicator;
  }

  ReplicatedVolume volume() {
    return volumes.getFirst();
  }

  /** Volume {@code index} of the group as hosts at this site see it. */
  ReplicatedVolume volume(int index) {
    return volumes.get(index);
  }

  int volumeCount() {
    return failing.size();
  }

  private List<VolumeReplica> volumeReplicas() {
    List<VolumeReplica> out = new java.util.ArrayList<>();
    for (int v = 0; v < failing.size(); v++) {
      out.add(new VolumeReplica(failing.get(v), dirties.get(v), logs.get(v)));
    }
    return out;
  }

  /** Whether any volume's activity log has writes in flight. */
  private boolean writesInFlight() {
    return logs.stream().anyMatch(l -> l.inFlight() > 0);
  }

  /** The current status, or null while the site is down. */
  ReplicationStatus status() {
    return alive ? replicator.status() : null;
  }

  boolean inSyncAndServing() {
    ReplicationStatus s = status();
    return s != null
        && s.syncState() == ReplicationStatus.SyncState.IN_SYNC
        && s.availability() == ReplicationStatus.Availability.SERVING;
  }

  /** Starts (or restarts) the process from what is persisted. */
  void start() {
    node.revive();
    end.reset();
    SimTimers timers =
        new SimTimers(
            sched,
            node,
            clockRate,
            1_000_000_000L * (1 + restarts) + rnd.nextLong(1L << 40),
            name + "-boot-" + powerCycles);
    Executor loop = sched.executor(node, () -> 0);
    Executor io = sched.executor(node, this::diskDelay);
    GroupConfig config =
        new GroupConfig(GROUP, id, peerId, SimWorld.SITE_A, stateDir, volumeReplicas(), settings);
    try {
      replicator =
          ConsistencyGroupReplicator.open(
              config, end, loop, io, timers, listener(), SharedStateMachine.NONE, mediator);
    } catch (IOException e) {
      throw new UncheckedIOException("site " + name + " cannot reopen its state", e);
    }
    volumes = replicator.volumes();
    alive = true;
    trace.log(name, "started (restart " + restarts + ", dirty " + dirtyText() + ")");
  }

  /**
   * A clean stop, as the node's shutdown does it: the replicator closes (the session ends, writes
   * in flight fail and are marked dirty), the I/O in flight drains, the activity log closes behind
   * its data barrier and the volume is flushed; then the process exits. {@code stopped} runs once
   * it has (false if the process died another way first).
   */
  void stop(java.util.function.Consumer<Boolean> stopped) {
    int inc = node.incarnation();
    ConsistencyGroupReplicator r = replicator;
    stopping = true;
    spawnHost(
        name + "-stop",
        () -> {
          r.close();
          sched.at(sched.now(), node, inc, () -> drainThenExit(inc, 200, stopped));
        });
  }

  /** Waits (in 5 ms steps, at most {@code stepsLeft}) for the writes in flight to finish. */
  private void drainThenExit(int inc, int stepsLeft, java.util.function.Consumer<Boolean> stopped) {
    if (!alive || node.incarnation() != inc) {
      stopping = false;
      stopped.accept(false);
      return;
    }
    if (writesInFlight() && stepsLeft > 0) {
      sched.at(
          sched.now() + 5_000_000L, node, inc, () -> drainThenExit(inc, stepsLeft - 1, stopped));
      return;
    }
    logs.forEach(SimActivityLog::close);
    disk.flush();
    trace.log(name, "stopped cleanly, activity log " + logsText());
    stopping = false;
    crash(false, false);
    stopped.accept(true);
  }

  /** Whether a clean stop is under way (no other fault strikes the process meanwhile). */
  boolean stopping() {
    return stopping;
  }

  /**
   * The machine of a site whose process is down loses power: its page cache goes (after a clean
   * stop there is nothing in it).
   */
  void powerLossWhileDown(boolean tear) {
    lastPowerLossNanos = sched.now();
    powerCycles++;
    int unflushed = disk.unflushedBlocks();
    int torn = disk.powerLoss(rnd, tear);
    dirties.forEach(d -> d.crash(rnd, true));
    trace.log(
        name, "power loss while down (" + unflushed + " un-flushed blocks, " + torn + " torn)");
  }

  /** Kills the process; with {@code powerLoss} the un-flushed disk writes may be lost or torn. */
  void crash(boolean powerLoss, boolean tear) {
    if (powerLoss) {
      lastPowerLossNanos = sched.now();
      powerCycles++; // the machine reboots: a new boot id, an empty page cache
    }
    node.kill();
    end.reset();
    alive = false;
    restarts++;
    int unflushed = disk.unflushedBlocks();
    String activity = logsText();
    int torn = powerLoss ? disk.powerLoss(rnd, tear) : 0;
    dirties.forEach(d -> d.crash(rnd, powerLoss));
    logs.forEach(SimActivityLog::crash);
    replicator = null;
    volumes = null;
    trace.log(
        name,
        (powerLoss
                ? "power loss (" + unflushed + " un-flushed blocks, " + torn + " torn)"
                : "process crash")
            + ", dirty "
            + dirtyText()
            + ", activity log "
            + activity);
  }

  /** Volume 0's dirty regions, then each further volume's after a {@code |}. */
  String dirtyText() {
    return String.join(" | ", dirties.stream().map(Object::toString).toList());
  }

  private String logsText() {
    return String.join(" | ", logs.stream().map(Object::toString).toList());
  }

  /**
   * Whether this site lost power and has not been in sync since: its copy may lack writes its peer
   * acknowledged, so it saves nothing the peer loses in a power loss of its own.
   */
  boolean staleSinceInSync() {
    return lastPowerLossNanos != Long.MIN_VALUE && lastInSyncNanos < lastPowerLossNanos;
  }

  /**
   * G4 online: a leader that reports its follower IN_SYNC must hold no dirty region, or the
   * follower serves without the data those regions stand for (once a duet-sync bug: dirty marks of
   * unacknowledged writes landed after the resync had scanned the map).
   */
  private void checkLeaderClean() {
    ReplicationStatus s = alive ? replicator.status() : null;
    if (s != null
        && s.role() == ReplicationStatus.Role.LEADER
        && s.syncState() == ReplicationStatus.SyncState.IN_SYNC
        && dirties.stream().anyMatch(d -> d.dirtyCount() > 0)) {
      invariants.violation(
          "G4: leader "
              + name
              + " IN_SYNC with dirty regions "
              + dirtyText()
              + " at "
              + Op.ms(sched.now()));
    }
  }

  /** Starts a host thread of this site (it dies with the process). */
  void spawnHost(String threadName, Runnable body) {
    int inc = node.incarnation();
    VirtualHosts.start(threadName, r -> sched.at(sched.now(), node, inc, r), body);
  }

  private long diskDelay() {
    long base = rnd.nextLong(20_000);
    return slowDiskNanos == 0 ? base : base + rnd.nextLong(slowDiskNanos);
  }

  private ReplicationListener listener() {
    int inc = node.incarnation();
    return new ReplicationListener() {
      private String last = "";

      @Override
      public void onStatus(ReplicationStatus s) {
        if (inc != node.incarnation()) {
          return;
        }
        invariants.onStatus(SimSite.this, s);
        if (s.syncState() == ReplicationStatus.SyncState.IN_SYNC
            && s.availability() == ReplicationStatus.Availability.SERVING) {
          lastInSyncNanos = sched.now();
        }
        checkLeaderClean();
        String now =
            s.role()
                + " "
                + s.syncState()
                + " "
                + s.link()
                + " "
                + s.availability()
                + " e"
                + s.epoch()
                + (s.mediator().configured() ? " " + s.mediator() : "");
        if (!now.equals(last)) {
          last = now;
          trace.log(name, "status " + now);
        }
      }

      @Override
      public void onWarning(String message) {
        trace.log(name, "warning: " + message);
      }
    };
  }
}
