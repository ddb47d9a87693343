package io.duet.sync.link;

import io.duet.sync.SyncTimers;
import io.duet.sync.Transport;
import io.duet.sync.proto.Frame;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.FrameException;
import io.duet.sync.proto.Message;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request/response over a peer link's control channel ({@link Message.Control} frames with the nil
 * group id): this site's requests to the peer, and the peer's requests to this site's {@link
 * Handler}. Bodies are opaque here; the answer carries a status byte so a refusal travels back as a
 * clear message ({@link ControlException}).
 *
 * <p>Bounded both ways: at most {@code maxPending} own requests wait for answers, each with a
 * deadline, and all fail at once when the link goes down; at most {@code maxHandling} peer requests
 * run at once (on the injected executor, never on the link's delivery thread), further ones are
 * refused as busy.
 */
public final class ControlLink implements Transport.Receiver, AutoCloseable {
  /** Answers the peer's requests; runs on the handler executor and may block on disk. */
  @FunctionalInterface
  public interface Handler {
    /**
     * The answer body to {@code request}. A {@link ControlException} is a refusal whose message
     * reaches the requesting site; any other exception is reported as an internal error.
     */
    byte[] handle(byte[] request) throws Exception;
  }

  public static final int MAX_PENDING_DEFAULT = 64;
  public static final int MAX_HANDLING_DEFAULT = 4;

  private static final byte OK = 0;
  private static final byte REFUSED = 1;

  /** Not handled at all (busy, stopping): the requester may retry, like an unreachable peer. */
  private static final byte BUSY = 2;

  private static final int MAX_ERROR_BYTES = 1024;

  private final Transport channel;
  private final SyncTimers timers;
  private final Handler handler;
  private final Executor handlerExecutor;
  private final int maxPending;
  private final int maxHandling;
  private final AtomicLong nextId = new AtomicLong(1);
  private final AtomicInteger handling = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final Map<Long, CompletableFuture<byte[]>> pending = new HashMap<>();
  private boolean closed;
  private volatile Runnable onUp = () -> {};

  public ControlLink(
      Transport channel,
      SyncTimers timers,
      Handler handler,
      Executor handlerExecutor,
      int maxPending,
      int maxHandling) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.timers = Objects.requireNonNull(timers, "timers");
    this.handler = Objects.requireNonNull(handler, "handler");
    this.handlerExecutor = Objects.requireNonNull(handlerExecutor, "handlerExecutor");
    if (maxPending < 1 || maxHandling < 1) {
      throw new IllegalArgumentException("maxPending and maxHandling must be positive");
    }
    this.maxPending = maxPending;
    this.maxHandling = maxHandling;
    channel.setReceiver(this);
  }

  /**
   * Sends {@code body} to the peer; the future completes with the peer's answer, or exceptionally
   * with a {@link ControlException} (refused by the peer, link down, no answer in {@code
   * timeoutMs}, too many requests waiting).
   */
  public CompletableFuture<byte[]> request(byte[] body, long timeoutMs) {
    Objects.requireNonNull(body, "body");
    if (timeoutMs <= 0) {
      throw new IllegalArgumentException("timeout must be positive");
    }
    CompletableFuture<byte[]> f = new CompletableFuture<>();
    long id = nextId.getAndIncrement();
    synchronized (this) {
      if (closed) {
        return failed("the control link is closed");
      }
      if (pending.size() >= maxPending) {
        return failed(maxPending + " requests to the peer are waiting already; retry later");
      }
      pending.put(id, f);
    }
    byte[] frame = encode(id, false, body);
    if (!channel.send(frame)) {
      finish(
          id, null, new ControlException("the peer site is not reachable now (link down)", true));
      return f;
    }
    SyncTimers.Cancellable timer =
        timers.schedule(
            TimeUnit.MILLISECONDS.toNanos(timeoutMs),
            () ->
                finish(
                    id,
                    null,
                    new ControlException(
                        "the peer site did not answer within " + timeoutMs + " ms", true)));
    f.whenComplete((v, e) -> timer.cancel());
    return f;
  }

  /** Peer frames that were not control messages or could not be decoded. */
  public long framesDropped() {
    return dropped.get();
  }

  @Override
  public void onFrame(byte[] bytes) {
    Message.Control c;
    try {
      if (!(FrameCodec.decode(bytes).message() instanceof Message.Control control)) {
        dropped.incrementAndGet();
        return;
      }
      c = control;
    } catch (FrameException e) {
      dropped.incrementAndGet();
      return;
    }
    if (c.response()) {
      answered(c);
    } else {
      serve(c);
    }
  }

  /**
   * Runs {@code task} every time the link comes up (the node refreshes what it knows of the peer).
   * It runs on the link's delivery thread: it must hand any real work to another thread.
   */
  public void onLinkUp(Runnable task) {
    this.onUp = Objects.requireNonNull(task, "task");
  }

  @Override
  public void onLinkUp() {
    onUp.run();
  }

  @Override
  public void onLinkDown() {
    failAll("the link to the peer site went down before it answered");
  }

  /** Fails every waiting request; later requests fail at once. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    failAll("the control link is closed");
  }

  private void answered(Message.Control c) {
    byte[] b = c.body();
    if (b.length == 0) {
      finish(c.requestId(), null, new ControlException("the peer sent an empty answer"));
    } else if (b[0] == OK) {
      finish(c.requestId(), Arrays.copyOfRange(b, 1, b.length), null);
    } else {
      String why =
          new String(b, 1, Math.min(b.length - 1, MAX_ERROR_BYTES), StandardCharsets.UTF_8);
      finish(c.requestId(), null, new ControlException(why, b[0] != REFUSED));
    }
  }

  private void serve(Message.Control c) {
    if (handling.incrementAndGet() > maxHandling) {
      handling.decrementAndGet();
      reply(c.requestId(), BUSY, bytes("the site is busy with other requests; retry later"));
      return;
    }
    try {
      handlerExecutor.execute(
          () -> {
            try {
              reply(c.requestId(), OK, handler.handle(c.body()));
            } catch (ControlException e) {
              reply(c.requestId(), REFUSED, bytes(e.getMessage()));
            } catch (Exception | AssertionError e) {
              reply(c.requestId(), REFUSED, bytes("internal error at the peer: " + e));
            } finally {
              handling.decrementAndGet();
            }
          });
    } catch (RejectedExecutionException e) {
      handling.decrementAndGet();
      reply(c.requestId(), BUSY, bytes("the site is shutting down"));
    }
  }

  private void reply(long id, byte status, byte[] body) {
    byte[] payload = new byte[body.length + 1];
    payload[0] = status;
    System.arraycopy(body, 0, payload, 1, body.length);
    // Best effort: if the link is down or full, the requester times out or sees the link drop.
    channel.send(encode(id, true, payload));
  }

  private void finish(long id, byte[] value, ControlException error) {
    CompletableFuture<byte[]> f;
    synchronized (this) {
      f = pending.remove(id);
    }
    if (f == null) {
      return; // late answer after a timeout, or an id we never used
    }
    if (error != null) {
      f.completeExceptionally(error);
    } else {
      f.complete(value);
    }
  }

  private void failAll(String why) {
    Map<Long, CompletableFuture<byte[]>> all;
    synchronized (this) {
      all = new HashMap<>(pending);
      pending.clear();
    }
    all.values().forEach(f -> f.completeExceptionally(new ControlException(why, true)));
  }

  private static byte[] encode(long id, boolean response, byte[] body) {
    return FrameCodec.encode(
        new Frame(LinkChannels.CONTROL, 0, new Message.Control(id, response, body)));
  }

  private static byte[] bytes(String s) {
    byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    return b.length <= MAX_ERROR_BYTES ? b : Arrays.copyOf(b, MAX_ERROR_BYTES);
  }

  private static CompletableFuture<byte[]> failed(String why) {
    return CompletableFuture.failedFuture(new ControlException(why, true));
  }
}
