package io.duet.testkit.sim;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Injects the faults a seed enabled, at random times, each healed after a random duration, and
 * heals everything at once for the end of a run. Keeps the link's desired state: connected only
 * while both sites run, no partition holds and no stalled direction has broken the connection.
 */
final class Nemesis {
  /** The faults of testing.md section 2 that the simulator injects. */
  enum Fault {
    LINK_DOWN,
    LINK_STALL,
    LINK_FLAP,
    DELAY_SPIKE,
    CRASH,
    POWER_LOSS,
    PAUSE,
    SLOW_DISK,
    CLOCK_SKEW,
    SWITCHOVER,
    MEDIATOR_CRASH,
    MEDIATOR_CUT,
    /** The mediator loses its record: each site registers the group again with what it believes. */
    MEDIATOR_AMNESIA,
    /** Both sites lose power at the same instant (a shared feed): only durable data remains. */
    POWER_LOSS_BOTH,
    /**
     * An operator stops a site cleanly (the node's shutdown), and half the time its machine then
     * loses power while it is down; it starts again later.
     */
    GRACEFUL_STOP,
    /**
     * A site's disk fails a share of its reads and writes (EIO, or ENOSPC for a write) for a while:
     * the error reaches the host whose operation it was, and the group stays correct.
     */
    DISK_ERRORS,
    /**
     * The mediator's wall clock steps by up to an hour either way (an NTP correction, a VM restored
     * from a snapshot): leases run on monotonic clocks, so nothing may change.
     */
    CLOCK_STEP,
    /**
     * The mediator's records are backed up; at the next such fault its machine is rebuilt from that
     * backup (older epochs, an older survivor), then a new backup starts the cycle again.
     */
    MEDIATOR_ROLLBACK,
    /**
     * An operator runs {@code duet cg verify} (half the time with {@code --repair}) at the leader
     * under load: between sites in sync, no region may differ.
     */
    VERIFY;

    /**
     * Faults added after the regression corpus began: chosen from a stream of their own, so the
     * corpus seeds that do not enable them replay exactly as when they were found.
     */
    boolean later() {
      return this == MEDIATOR_AMNESIA
          || this == POWER_LOSS_BOTH
          || this == GRACEFUL_STOP
          || this == DISK_ERRORS
          || this == CLOCK_STEP
          || this == MEDIATOR_ROLLBACK
          || this == VERIFY;
    }

    /**
     * The level of {@link SimWorld#LEVEL} that added this fault: a run at a lower level leaves it
     * out, so corpus seeds found before it existed replay exactly as then.
     */
    int level() {
      return switch (this) {
        case DISK_ERRORS -> 2;
        case CLOCK_STEP, MEDIATOR_ROLLBACK, VERIFY -> 3;
        default -> 0;
      };
    }
  }

  private static final long MS = 1_000_000L;

  private final SimWorld w;
  private final SplittableRandom rnd;
  final Set<Fault> enabled;
  private final long meanGapNanos;

  /** Bumped by {@link #healAll}: heal tasks of faults injected before it do nothing. */
  private int era;

  private int partitions;
  private boolean stallBroken;
  private SimLink.End stalled;
  private boolean reconnectQueued;
  final List<String> injected = new ArrayList<>();

  Nemesis(SimWorld w, SplittableRandom rnd, Set<Fault> enabled) {
    this.w = w;
    this.rnd = rnd;
    this.enabled = enabled.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(enabled);
    this.meanGapNanos = (100 + rnd.nextLong(500)) * MS;
  }

  void start(long untilNanos) {
    List<Fault> active = new ArrayList<>(enabled);
    active.remove(Fault.CLOCK_SKEW); // set up with the sites, not injected
    if (active.isEmpty()) {
      return;
    }
    scheduleNext(active, untilNanos);
  }

  private void scheduleNext(List<Fault> active, long untilNanos) {
    long at = w.sched.now() + rnd.nextLong(meanGapNanos * 2 + 1);
    if (at >= untilNanos) {
      return;
    }
    w.sched.at(
        at,
        null,
        () -> {
          inject(active.get(rnd.nextInt(active.size())));
          scheduleNext(active, untilNanos);
        });
  }

  private void inject(Fault f) {
    int myEra = era;
    SimSite s = rnd.nextBoolean() ? w.a : w.b;
    long duration = (20 + rnd.nextLong(1200)) * MS;
    switch (f) {
      case LINK_DOWN -> {
        partitions++;
        note(f, "partition for " + duration / MS + " ms");
        reconcileLink();
        healLater(
            myEra,
            duration,
            () -> {
              partitions--;
              reconcileLink();
            });
      }
      case LINK_STALL -> {
        if (stalled != null || !w.link.connected()) {
          return;
        }
        stalled = s.end;
        stalled.stall(true);
        long breakAfter = (100 + rnd.nextLong(1500)) * MS;
        note(
            f,
            s.name
                + "->peer held for "
                + duration / MS
                + " ms, connection breaks after "
                + breakAfter / MS
                + " ms");
        healLater(
            myEra,
            breakAfter,
            () -> {
              if (stalled != null) {
                stallBroken = true;
                reconcileLink();
              }
            });
        healLater(myEra, duration, this::endStall);
      }
      case LINK_FLAP -> {
        note(f, "connection reset");
        w.link.disconnect("reset");
        reconcileLink();
      }
      case DELAY_SPIKE -> {
        long extra = (5 + rnd.nextLong(150)) * MS;
        note(f, s.name + "->peer +" + extra / MS + " ms for " + duration / MS + " ms");
        s.end.extraDelay(extra);
        healLater(myEra, duration, () -> s.end.extraDelay(0));
      }
      case CRASH, POWER_LOSS -> crash(f, s, myEra);
      case POWER_LOSS_BOTH -> powerLossBoth(myEra);
      case GRACEFUL_STOP -> gracefulStop(s, myEra);
      case PAUSE -> {
        long pause = (50 + rnd.nextLong(1200)) * MS;
        note(f, s.name + " paused for " + pause / MS + " ms");
        s.node.pauseUntil(w.sched.now() + pause);
      }
      case SLOW_DISK -> {
        long slow = (1 + rnd.nextLong(40)) * MS;
        note(f, s.name + " disk up to +" + slow / MS + " ms for " + duration / MS + " ms");
        s.slowDiskNanos = slow;
        healLater(myEra, duration, () -> s.slowDiskNanos = 0);
      }
      case SWITCHOVER -> {
        SimSite leader = w.leader();
        if (leader != null) {
          note(f, "switchover requested at " + leader.name);
          leader
              .replicator()
              .switchover()
              .whenComplete(
                  (v, e) ->
                      w.trace.log(
                          leader.name,
                          "switchover " + (e == null ? "done" : "refused: " + e.getMessage())));
        }
      }
      case MEDIATOR_CRASH -> {
        if (w.mediator != null && w.mediator.up()) {
          note(f, "mediator down for " + duration / MS + " ms");
          w.mediator.crash();
          healLater(
              myEra,
              duration,
              () -> {
                if (!w.mediator.up()) {
                  w.mediator.start();
                }
              });
        }
      }
      case MEDIATOR_CUT -> {
        if (w.mediator != null) {
          SimMediator.Port port = s == w.a ? w.portA : w.portB;
          note(f, s.name + "<->mediator cut for " + duration / MS + " ms");
          port.cut = true;
          healLater(myEra, duration, () -> port.cut = false);
        }
      }
      case MEDIATOR_AMNESIA -> {
        if (w.mediator != null && w.mediator.up()) {
          note(f, "mediator loses its record");
          w.mediator.loseRecords();
        }
      }
      case DISK_ERRORS -> {
        int percent = 5 + rnd.nextInt(40);
        note(
            f,
            s.name
                + " disk fails "
                + percent
                + "% of reads and writes for "
                + duration / MS
                + " ms");
        s.failing.forEach(d -> d.failSome(rnd.split(), percent));
        healLater(myEra, duration, () -> s.failing.forEach(FailingDisk::heal));
      }
      case MEDIATOR_ROLLBACK -> {
        if (w.mediator == null) {
          return;
        }
        if (!w.mediator.hasBackup()) {
          note(f, "the mediator's records are backed up");
          w.mediator.backUp();
        } else {
          note(f, "the mediator is rebuilt from its older backup");
          w.mediator.restoreBackup();
        }
      }
      case VERIFY -> {
        SimSite leader = w.leader();
        if (leader != null) {
          boolean repair = rnd.nextBoolean();
          note(f, "verify" + (repair ? " --repair" : "") + " at " + leader.name);
          leader
              .replicator()
              .verify(repair)
              .whenComplete(
                  (report, e) -> {
                    if (e != null) {
                      w.trace.log(leader.name, "verify refused: " + e.getMessage());
                    } else if (!report.differing().isEmpty()) {
                      w.invariants.violation(
                          "G4: verify found regions differing between sites in sync: "
                              + report.differing());
                    } else {
                      w.trace.log(
                          leader.name,
                          "verify: " + report.regionsCompared() + " regions compared, none differ");
                    }
                  });
        }
      }
      case CLOCK_STEP -> {
        if (w.mediator != null) {
          long step = (rnd.nextBoolean() ? 1 : -1) * (1 + rnd.nextLong(3600)) * 1_000 * MS;
          note(f, "the mediator's wall clock steps by " + step / MS / 1000 + " s");
          w.mediator.stepWallClock(step);
        }
      }
      case CLOCK_SKEW -> {}
    }
  }

  private void crash(Fault f, SimSite s, int myEra) {
    if (!s.alive() || s.stopping()) {
      return;
    }
    // A power loss strikes whatever the sites are doing: serving alone, resyncing, handing over,
    // with the peer down or itself stale. What must survive it is what PowerLossLedger says.
    boolean power = f == Fault.POWER_LOSS;
    long down = downtime();
    note(
        power ? Fault.POWER_LOSS : Fault.CRASH,
        s.name + (power ? " loses power" : " crashes") + ", down for " + down / MS + " ms");
    boolean tear = rnd.nextBoolean();
    if (power) {
      w.powerLoss(List.of(s), List.of(tear));
    } else {
      s.crash(false, tear);
    }
    w.siteCrashed(s);
    reconcileLink();
    healLater(myEra, down, () -> restart(s));
  }

  private void gracefulStop(SimSite s, int myEra) {
    if (!s.alive() || s.stopping()) {
      return;
    }
    long down = downtime();
    boolean thenPower = rnd.nextBoolean();
    boolean tear = rnd.nextBoolean();
    note(
        Fault.GRACEFUL_STOP,
        s.name
            + " stops cleanly, down for "
            + down / MS
            + " ms"
            + (thenPower ? ", its machine loses power meanwhile" : ""));
    s.stop(
        stopped -> {
          if (!stopped) {
            return; // it died another way first; that fault restarts it
          }
          w.siteCrashed(s);
          reconcileLink();
          if (thenPower) {
            w.powerLoss(List.of(s), List.of(tear));
          }
          if (era != myEra) {
            restart(s); // the healing phase began while it was stopping
          } else {
            healLater(myEra, down, () -> restart(s));
          }
        });
  }

  /** One outage in three outlasts peer timeout + mediator lease + grace: a takeover can happen. */
  private long downtime() {
    return (rnd.nextInt(3) == 0 ? 1500 + rnd.nextLong(1500) : 20 + rnd.nextLong(1500)) * MS;
  }

  private void powerLossBoth(int myEra) {
    if (!w.a.alive() || !w.b.alive() || w.a.stopping() || w.b.stopping()) {
      return;
    }
    long downA = downtime();
    long downB = downtime();
    note(
        Fault.POWER_LOSS_BOTH,
        "both sites lose power, A down for " + downA / MS + " ms, B for " + downB / MS + " ms");
    w.powerLoss(List.of(w.a, w.b), List.of(rnd.nextBoolean(), rnd.nextBoolean()));
    w.siteCrashed(w.a);
    w.siteCrashed(w.b);
    reconcileLink();
    healLater(myEra, downA, () -> restart(w.a));
    healLater(myEra, downB, () -> restart(w.b));
  }

  private void restart(SimSite s) {
    if (!s.alive()) {
      s.start();
      reconcileLink();
    }
  }

  private void endStall() {
    if (stalled != null) {
      stalled.stall(false);
      stalled = null;
    }
    stallBroken = false;
    reconcileLink();
  }

  /** A scripted partition of the replication link (see {@link SimWorld.Scenario}). */
  void partition(boolean cut) {
    partitions = cut ? 1 : 0;
    reconcileLink();
  }

  /** Ends every fault: the healing phase of a run. */
  void healAll() {
    era++;
    partitions = 0;
    endStall();
    for (SimSite s : List.of(w.a, w.b)) {
      s.end.extraDelay(0);
      s.slowDiskNanos = 0;
      s.failing.forEach(FailingDisk::heal);
      restart(s);
    }
    if (w.mediator != null) {
      w.portA.cut = false;
      w.portB.cut = false;
      if (!w.mediator.up()) {
        w.mediator.start();
      }
    }
    reconcileLink();
  }

  /** Connects or disconnects the link to match the faults; a reconnect takes a little while. */
  void reconcileLink() {
    boolean wanted = w.a.alive() && w.b.alive() && partitions == 0 && !stallBroken;
    if (!wanted) {
      w.link.disconnect(partitions > 0 ? "partition" : stallBroken ? "stalled" : "site down");
    } else if (!w.link.connected() && !reconnectQueued) {
      reconnectQueued = true;
      w.sched.after(
          (5 + rnd.nextLong(50)) * MS,
          null,
          () -> {
            reconnectQueued = false;
            if (w.a.alive() && w.b.alive() && partitions == 0 && !stallBroken) {
              w.link.connect();
            }
          });
    }
  }

  private void healLater(int myEra, long delayNanos, Runnable heal) {
    w.sched.after(
        delayNanos,
        null,
        () -> {
          if (era == myEra) {
            heal.run();
          }
        });
  }

  private void note(Fault f, String what) {
    injected.add(f.name());
    w.trace.log("fault", f + ": " + what);
  }
}
