package io.duet.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The transmission phase of one connection. This (the connection's) thread reads request headers
 * and write payloads in order. Each request is served either right here or on the connection's pool
 * of worker threads, as the {@link InlinePolicy} says: inline while requests are quick (no hand-off
 * per request), on workers when they wait on a disk, so that they overlap; replies may then come
 * back out of order as the protocol allows. Two semaphores bound what one connection may hold:
 * requests in flight and buffered payload bytes. When either is exhausted the reader stops reading
 * the socket, and TCP flow control pushes back on the client.
 */
final class Transmission {
  /**
   * Worker threads per connection: enough to keep a disk's queue busy while some requests wait on
   * it; more only adds context switches. Started on demand and stopped when idle.
   */
  static final int WORKERS_PER_CONNECTION = 8;

  private static final long WORKER_IDLE_SECONDS = 10;

  private final Link link;
  private final Session session;
  private final BufferPool buffers;
  private final int maxInFlight;
  private final Semaphore inFlight;
  private final Semaphore bufferedBytes;
  private final LongSupplier nanoClock;
  private final InlinePolicy policy = new InlinePolicy();

  Transmission(
      Link link,
      Session session,
      NbdSettings settings,
      BufferPool buffers,
      LongSupplier nanoClock) {
    this.link = link;
    this.session = session;
    this.buffers = buffers;
    this.nanoClock = nanoClock;
    this.maxInFlight = settings.maxInFlightPerConnection();
    this.inFlight = new Semaphore(maxInFlight);
    this.bufferedBytes = new Semaphore(settings.maxBufferedBytesPerConnection());
  }

  /**
   * Serves requests until DISC, end of stream, a bad request magic or a broken reply stream; then
   * waits for the requests still in flight (proto.md: DISC handles all outstanding requests).
   */
  void run() throws IOException, InterruptedException {
    ReplyWriter replies = new ReplyWriter(link, session.structured());
    Commands commands = new Commands(session, replies, buffers, policy, nanoClock);
    // The in-flight semaphore bounds the queue: at most maxInFlight tasks exist at once.
    ThreadPoolExecutor workers =
        new ThreadPoolExecutor(
            WORKERS_PER_CONNECTION,
            WORKERS_PER_CONNECTION,
            WORKER_IDLE_SECONDS,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(maxInFlight),
            Thread.ofPlatform().daemon().name("nbd-worker").factory());
    workers.allowCoreThreadTimeOut(true);
    ByteBuffer header = ByteBuffer.allocate(Nbd.REQUEST_HEADER_BYTES);
    try {
      while (!replies.broken()) {
        inFlight.acquire();
        // The permit belongs to this request from here on: released here unless the request's
        // task took it over, whatever goes wrong while reading.
        boolean handedOver = false;
        try {
          Request r;
          try {
            link.readFully(header.clear());
            r = Request.decode(header.flip());
          } catch (EOFException e) {
            return; // the client hung up between requests
          } catch (MalformedException e) {
            // Without a valid header we cannot know where the next request starts.
            throw new Negotiation.ProtocolViolation(e.getMessage());
          }
          if (r.type() == Nbd.CMD_DISC) {
            return;
          }
          handedOver = dispatch(r, commands, workers);
        } finally {
          if (!handedOver) {
            inFlight.release();
          }
        }
      }
    } finally {
      // Let every started request reply before the caller closes the socket.
      inFlight.acquireUninterruptibly(maxInFlight);
      workers.shutdown();
    }
  }

  /**
   * Reads the request's payload (if any), then serves the request here or hands it to a worker.
   *
   * @return true once the request's task owns its in-flight permit
   */
  private boolean dispatch(Request r, Commands commands, ThreadPoolExecutor workers)
      throws IOException, InterruptedException {
    int held = 0;
    BufferPool.Lease payload = null;
    boolean small = r.length() <= Nbd.MAX_PAYLOAD_BYTES;
    if (r.type() == Nbd.CMD_WRITE) {
      if (small) {
        held = (int) r.length();
        bufferedBytes.acquire(held);
        try {
          payload = buffers.acquire(held);
          link.readFully(payload.buffer());
        } catch (IOException | RuntimeException e) {
          buffers.release(payload);
          bufferedBytes.release(held);
          throw e;
        }
        payload.buffer().flip();
      } else {
        // Too large to hold: skip it so the stream stays in step; the request fails EOVERFLOW.
        link.skip(r.length());
      }
    } else if (r.type() == Nbd.CMD_READ && small) {
      held = (int) r.length(); // the read buffer
      bufferedBytes.acquire(held);
    }
    BufferPool.Lease lease = payload;
    int bytes = held;
    Runnable task =
        () -> {
          try {
            commands.serve(r, lease == null ? null : lease.buffer());
          } catch (IOException e) {
            // The reply could not be written: the connection is dead; wake the reader.
            link.close();
          } finally {
            buffers.release(lease);
            bufferedBytes.release(bytes);
            inFlight.release();
          }
        };
    int others = maxInFlight - 1 - inFlight.availablePermits();
    if (policy.inline(r, others, link.hasBuffered())) {
      task.run();
    } else {
      workers.execute(task);
    }
    return true;
  }
}
