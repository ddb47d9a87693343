package io.duet.testkit.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * One direction of one proxied connection: a reader that takes bytes off the source socket, applies
 * blackhole and bandwidth, and time-stamps them into a bounded delay line, and a writer that hands
 * each chunk to the destination once its latency has passed.
 *
 * <p>Reading and writing run on separate virtual threads because a delay line must keep reading
 * while earlier chunks wait out their latency; a single thread would cap throughput at one chunk
 * per latency period, which no real link does. The delay line is bounded in bytes: when it is full
 * the reader stops reading and TCP flow control pushes back on the sender, as a link with a finite
 * window would.
 */
final class Pump {
  static final int READ_CHUNK_BYTES = 64 * 1024;

  /** A piece of the stream and when it entered the proxy; {@code data == null} marks EOF. */
  private record Chunk(byte[] data, long arrivalNanos, long jitterNanos) {
    int length() {
      return data == null ? 0 : data.length;
    }
  }

  private final Socket from;
  private final Socket to;
  private final LinkState link;
  private final Connection connection;
  private final LongSupplier nanoClock;
  private final long capacityBytes;

  private final ReentrantLock lock = new ReentrantLock();
  // One condition for every kind of wake-up (data queued, room freed, settings changed, stop):
  // each waiter re-checks its own predicate, and the traffic is far too low for it to matter.
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Chunk> queue = new ArrayDeque<>();
  private long queuedBytes;
  private boolean stopped;

  Pump(
      Socket from,
      Socket to,
      LinkState link,
      Connection connection,
      LongSupplier nanoClock,
      long capacityBytes) {
    this.from = from;
    this.to = to;
    this.link = link;
    this.connection = connection;
    this.nanoClock = nanoClock;
    this.capacityBytes = capacityBytes;
  }

  /** Wakes both threads so they re-read the link settings (or notice that they must stop). */
  void wake() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Makes both threads return at their next wait; queued bytes are discarded. */
  void stop() {
    lock.lock();
    try {
      stopped = true;
      queue.clear();
      queuedBytes = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  void readLoop() {
    byte[] buffer = new byte[READ_CHUNK_BYTES];
    try {
      InputStream in = from.getInputStream();
      while (true) {
        int n = in.read(buffer);
        if (n < 0) {
          enqueue(new Chunk(null, nanoClock.getAsLong(), 0));
          return;
        }
        if (!forward(buffer, n)) {
          return;
        }
      }
    } catch (IOException e) {
      connection.abort();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      connection.abort();
    }
  }

  /** Passes {@code n} freshly read bytes through blackhole and bandwidth into the delay line. */
  private boolean forward(byte[] buffer, int n) throws InterruptedException {
    int offset = 0;
    while (offset < n) {
      int piece = link.bucket.maxPieceBytes(n - offset);
      if (!awaitTokens(piece)) {
        return false;
      }
      // Checked after the bandwidth wait: a link cut while this piece queued for the wire loses it.
      if (link.blackholed()) {
        link.droppedBytes.add(n - offset);
        return true;
      }
      long now = nanoClock.getAsLong();
      byte[] data = Arrays.copyOfRange(buffer, offset, offset + piece);
      if (!enqueue(new Chunk(data, now, link.drawJitterNanos()))) {
        return false;
      }
      offset += piece;
    }
    return true;
  }

  private boolean awaitTokens(int bytes) throws InterruptedException {
    lock.lock();
    try {
      while (!stopped) {
        // A blackholed link takes no bandwidth; the caller drops the bytes.
        long waitNanos = link.blackholed() ? 0 : link.bucket.tryTake(bytes, nanoClock.getAsLong());
        if (waitNanos == 0) {
          return true;
        }
        changed.awaitNanos(waitNanos);
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  private boolean enqueue(Chunk chunk) throws InterruptedException {
    lock.lock();
    try {
      // An empty line always accepts one chunk, so a chunk larger than the bound cannot wedge it.
      while (!stopped && !queue.isEmpty() && queuedBytes + chunk.length() > capacityBytes) {
        changed.await();
      }
      if (stopped) {
        return false;
      }
      queue.addLast(chunk);
      queuedBytes += chunk.length();
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  void writeLoop() {
    try {
      OutputStream out = to.getOutputStream();
      while (true) {
        Chunk chunk = takeDue();
        if (chunk == null) {
          return;
        }
        if (chunk.data() == null) {
          finish();
          return;
        }
        // Checked at delivery too: what was in flight when the link was cut is lost.
        if (link.blackholed()) {
          link.droppedBytes.add(chunk.length());
          continue;
        }
        out.write(chunk.data());
        link.forwardedBytes.add(chunk.length());
      }
    } catch (IOException e) {
      connection.abort();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      connection.abort();
    }
  }

  /** Waits until the head chunk's latency has passed and removes it; null once stopped. */
  private Chunk takeDue() throws InterruptedException {
    lock.lock();
    try {
      while (!stopped) {
        Chunk head = queue.peekFirst();
        if (head == null) {
          changed.await();
          continue;
        }
        // The latency is read now, not at arrival, so lowering it releases waiting chunks at
        // once. FIFO order holds regardless of jitter: a chunk never overtakes the head.
        long delay = Math.max(0, link.latencyNanos() + head.jitterNanos());
        long waitNanos = head.arrivalNanos() + delay - nanoClock.getAsLong();
        if (waitNanos <= 0) {
          queue.removeFirst();
          queuedBytes -= head.length();
          changed.signalAll();
          return head;
        }
        changed.awaitNanos(waitNanos);
      }
      return null;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Passes the sender's FIN on. Unlike data it is not dropped by a blackhole but held until the
   * link heals, as TCP would retransmit it; dropping it would leave the peer waiting forever.
   */
  private void finish() throws IOException, InterruptedException {
    lock.lock();
    try {
      while (!stopped && link.blackholed()) {
        changed.await();
      }
      if (stopped) {
        return;
      }
    } finally {
      lock.unlock();
    }
    to.shutdownOutput();
    connection.directionFinished();
  }
}
