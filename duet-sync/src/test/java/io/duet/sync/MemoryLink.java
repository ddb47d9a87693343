package io.duet.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two in-memory {@link Transport} endpoints joined by a link that tests can cut, heal and pause.
 * Each direction delivers on its own thread, in order. A paused link holds frames (a long delay); a
 * cut drops everything held or queued and reports the link down, as the contract says: frames
 * arrive in order or not at all, and then the link goes down first.
 */
final class MemoryLink implements AutoCloseable {
  final Endpoint a = new Endpoint("a");
  final Endpoint b = new Endpoint("b");
  private final Object lock = new Object();
  private boolean up;
  private boolean paused;
  private long generation;
  final AtomicLong framesSent = new AtomicLong();

  MemoryLink() {
    a.peer = b;
    b.peer = a;
  }

  void heal() {
    synchronized (lock) {
      if (up) {
        return;
      }
      up = true;
      paused = false;
      generation++;
      long gen = generation;
      a.deliver(-1, r -> r.onLinkUp());
      b.deliver(-1, r -> r.onLinkUp());
    }
  }

  void cut() {
    synchronized (lock) {
      if (!up) {
        return;
      }
      up = false;
      paused = false;
      a.held.clear();
      b.held.clear();
      generation++;
      long gen = generation;
      a.deliver(-1, r -> r.onLinkDown());
      b.deliver(-1, r -> r.onLinkDown());
    }
  }

  /** Holds every frame from now on (the link looks up but nothing arrives). */
  void pause() {
    synchronized (lock) {
      paused = true;
    }
  }

  /** Delivers what was held, in order, and stops holding. */
  void resume() {
    synchronized (lock) {
      paused = false;
      for (Endpoint e : List.of(a, b)) {
        for (byte[] f : e.held) {
          long gen = generation;
          e.deliver(gen, r -> r.onFrame(f));
        }
        e.held.clear();
      }
    }
  }

  @Override
  public void close() {
    a.pool.shutdownNow();
    b.pool.shutdownNow();
  }

  /** One side of the link; frames it sends go to its peer's receiver. */
  final class Endpoint implements Transport {
    private final ExecutorService pool;
    private volatile Receiver receiver;
    private Endpoint peer;

    /** Frames held for the peer while paused. */
    private final List<byte[]> held = new ArrayList<>();

    Endpoint(String name) {
      pool =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "memory-link-to-" + name);
                t.setDaemon(true);
                return t;
              });
    }

    @Override
    public boolean send(byte[] frame) {
      synchronized (lock) {
        if (!up) {
          return false;
        }
        framesSent.incrementAndGet();
        if (paused) {
          peer.held.add(frame);
        } else {
          long gen = generation;
          peer.deliver(gen, r -> r.onFrame(frame));
        }
        return true;
      }
    }

    @Override
    public boolean isUp() {
      synchronized (lock) {
        return up;
      }
    }

    @Override
    public void setReceiver(Receiver receiver) {
      this.receiver = receiver;
    }

    /** Replaces this endpoint's receiver (a restarted site) without touching the link state. */
    void detach() {
      this.receiver = null;
    }

    private void deliver(long gen, java.util.function.Consumer<Receiver> event) {
      pool.execute(
          () -> {
            Receiver r = receiver;
            boolean current;
            synchronized (lock) {
              current = gen < 0 || gen == generation; // link events always arrive
            }
            if (r != null && current) {
              event.accept(r);
            }
          });
    }
  }

  static void await(ExecutorService pool) throws InterruptedException {
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
  }
}
