package io.duet.testkit.sim;

import io.duet.sync.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The replication link between the two sites, keeping the {@link Transport} contract: frames arrive
 * in order and unmodified, or not at all and the link goes down first. Faults: the link going down
 * (each end notices after its own small delay), delays and delay spikes (never reordering), and
 * one-way stalls, where frames in one direction are held as an unacknowledged TCP stream would be:
 * released in order if the stall heals, dropped when the link goes down.
 */
final class SimLink {
  private final SimScheduler sched;
  private final SplittableRandom rnd;
  private final Trace trace;
  final End a;
  final End b;
  private boolean connected;

  /** Bumped at every connect and disconnect: frames and events of another generation are void. */
  private long generation;

  SimLink(
      SimScheduler sched,
      SplittableRandom rnd,
      Trace trace,
      SimNode nodeA,
      SimNode nodeB,
      long baseDelayNanos,
      long jitterNanos) {
    this.sched = sched;
    this.rnd = rnd;
    this.trace = trace;
    this.a = new End("A", nodeA, baseDelayNanos, jitterNanos);
    this.b = new End("B", nodeB, baseDelayNanos, jitterNanos);
    a.peer = b;
    b.peer = a;
  }

  boolean connected() {
    return connected;
  }

  /** Establishes a new connection: each end hears onLinkUp (before any frame of it). */
  void connect() {
    if (connected) {
      return;
    }
    connected = true;
    generation++;
    trace.log("link", "connect gen " + generation);
    for (End e : List.of(a, b)) {
      e.event(true, generation);
    }
  }

  /** Drops the connection: frames in flight are lost and each end hears onLinkDown. */
  void disconnect(String why) {
    if (!connected) {
      return;
    }
    connected = false;
    generation++;
    trace.log("link", "disconnect (" + why + ") gen " + generation);
    for (End e : List.of(a, b)) {
      e.held.clear();
      e.event(false, generation);
    }
  }

  /** One end of the link, owned by its site's node. */
  final class End implements Transport {
    final String name;
    final SimNode node;
    End peer;
    private Receiver receiver;
    private boolean up;

    /** The connection this end believes it is on: frames of an older one are lost. */
    private long upGeneration = -1;

    /** Frames this end sent that the network holds (its direction stalled). */
    private final List<byte[]> held = new ArrayList<>();

    private boolean stalled;
    private final long baseDelayNanos;
    private final long jitterNanos;
    private long extraDelayNanos;

    /** Latest delivery time scheduled to this end: deliveries never overtake each other. */
    private long lastDeliveryAt;

    long framesSent;

    End(String name, SimNode node, long baseDelayNanos, long jitterNanos) {
      this.name = name;
      this.node = node;
      this.baseDelayNanos = baseDelayNanos;
      this.jitterNanos = jitterNanos;
    }

    @Override
    public boolean send(byte[] frame) {
      if (!up) {
        return false;
      }
      framesSent++;
      if (!connected || upGeneration != generation) {
        return true; // lost: this end has not noticed that its connection went down yet
      }
      if (stalled) {
        held.add(frame);
      } else {
        peer.deliver(frame, generation, delay());
      }
      return true;
    }

    @Override
    public boolean isUp() {
      return up;
    }

    @Override
    public void setReceiver(Receiver receiver) {
      this.receiver = receiver;
    }

    /** The site restarted: a new process has no connection until the link connects again. */
    void reset() {
      up = false;
      upGeneration = -1;
      receiver = null;
      held.clear();
      lastDeliveryAt = 0;
    }

    /** Holds (or releases, in order) the frames this end sends. */
    void stall(boolean on) {
      stalled = on;
      if (!on) {
        for (byte[] f : held) {
          peer.deliver(f, generation, delay());
        }
        held.clear();
      }
    }

    boolean stalled() {
      return stalled;
    }

    void extraDelay(long nanos) {
      extraDelayNanos = nanos;
    }

    private long delay() {
      return baseDelayNanos + rnd.nextLong(jitterNanos + 1) + extraDelayNanos;
    }

    private long slot(long delay) {
      lastDeliveryAt = Math.max(sched.now() + delay, lastDeliveryAt);
      return lastDeliveryAt;
    }

    private void deliver(byte[] frame, long gen, long delay) {
      sched.at(
          slot(delay),
          node,
          () -> {
            if (gen == generation && upGeneration == gen && receiver != null) {
              receiver.onFrame(frame);
            }
          });
    }

    private void event(boolean nowUp, long gen) {
      // Each end notices on its own (a few ms apart); until then it still believes the old state.
      sched.at(
          slot(rnd.nextLong(5_000_000)),
          node,
          () -> {
            // Never skipped, even when superseded: an end must hear a down before the next up.
            up = nowUp;
            upGeneration = nowUp ? gen : -1;
            if (receiver != null) {
              if (nowUp) {
                receiver.onLinkUp();
              } else {
                receiver.onLinkDown();
              }
            }
          });
    }
  }
}
