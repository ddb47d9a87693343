package io.duet.sync;

import java.util.ArrayList;
import java.util.List;

/** A deterministic link for {@link ManualScheduler} tests: delivery is a task on its queue. */
final class SimLink {
  final End a;
  final End b;
  private final ManualScheduler scheduler;
  private boolean up;
  private boolean paused;
  private long generation;

  SimLink(ManualScheduler scheduler) {
    this.scheduler = scheduler;
    a = new End();
    b = new End();
    a.peer = b;
    b.peer = a;
  }

  void heal() {
    up = true;
    generation++;
    a.event(r -> r.onLinkUp());
    b.event(r -> r.onLinkUp());
  }

  void cut() {
    up = false;
    paused = false;
    a.held.clear();
    b.held.clear();
    generation++;
    a.event(r -> r.onLinkDown());
    b.event(r -> r.onLinkDown());
  }

  void pause() {
    paused = true;
  }

  /** One end of the link. */
  final class End implements Transport {
    private Receiver receiver;
    private End peer;
    private final List<byte[]> held = new ArrayList<>();

    @Override
    public boolean send(byte[] frame) {
      if (!up) {
        return false;
      }
      if (paused) {
        peer.held.add(frame);
      } else {
        long gen = generation;
        scheduler.execute(
            () -> {
              if (gen == generation && peer.receiver != null) {
                peer.receiver.onFrame(frame);
              }
            });
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

    private void event(java.util.function.Consumer<Receiver> e) {
      scheduler.execute(
          () -> {
            if (receiver != null) {
              e.accept(receiver);
            }
          });
    }
  }
}
