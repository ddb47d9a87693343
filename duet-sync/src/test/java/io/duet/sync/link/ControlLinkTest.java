package io.duet.sync.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.SystemTimers;
import io.duet.sync.Transport;
import io.duet.sync.proto.Frame;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ControlLinkTest {
  private final SystemTimers timers = new SystemTimers();
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();

  /** Two ends that hand frames straight to each other while connected. */
  static final class Wire implements Transport {
    Wire other;
    Receiver receiver;
    volatile boolean up = true;
    volatile boolean blackhole;

    static Wire[] pair() {
      Wire a = new Wire();
      Wire b = new Wire();
      a.other = b;
      b.other = a;
      return new Wire[] {a, b};
    }

    @Override
    public boolean send(byte[] frame) {
      if (!up) {
        return false;
      }
      if (!blackhole) {
        other.receiver.onFrame(frame);
      }
      return true;
    }

    @Override
    public boolean isUp() {
      return up;
    }

    @Override
    public void setReceiver(Receiver r) {
      receiver = r;
    }

    void cut() {
      up = false;
      other.up = false;
      receiver.onLinkDown();
      other.receiver.onLinkDown();
    }
  }

  @AfterEach
  void stop() {
    timers.close();
    workers.shutdownNow();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static ControlException failure(CompletableFuture<byte[]> f) {
    ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
    assertThat(e.getCause()).isInstanceOf(ControlException.class);
    return (ControlException) e.getCause();
  }

  ControlLink link(Transport t, ControlLink.Handler h, int maxHandling) {
    return new ControlLink(t, timers, h, workers, 4, maxHandling);
  }

  @Test
  void answersAndRefusalsTravelBack() throws Exception {
    Wire[] w = Wire.pair();
    ControlLink a = link(w[0], req -> utf8("unused"), 2);
    link(
        w[1],
        req -> {
          String s = new String(req, StandardCharsets.UTF_8);
          return switch (s) {
            case "ping" -> utf8("pong");
            case "no" -> throw new ControlException("volume vol1 exists with another identity");
            default -> throw new IllegalStateException("boom");
          };
        },
        2);
    assertThat(a.request(utf8("ping"), 5000).get(10, TimeUnit.SECONDS)).isEqualTo(utf8("pong"));
    ControlException refused = failure(a.request(utf8("no"), 5000));
    assertThat(refused.getMessage()).isEqualTo("volume vol1 exists with another identity");
    assertThat(refused.unreachable()).isFalse();
    ControlException internal = failure(a.request(utf8("?"), 5000));
    assertThat(internal.getMessage()).contains("internal error at the peer").contains("boom");
  }

  @Test
  void linkDownFailsWaitingRequestsAndNewOnesAtOnce() throws Exception {
    Wire[] w = Wire.pair();
    ControlLink a = link(w[0], req -> new byte[0], 2);
    CountDownLatch release = new CountDownLatch(1);
    link(
        w[1],
        req -> {
          release.await();
          return new byte[0];
        },
        2);
    CompletableFuture<byte[]> waiting = a.request(utf8("slow"), 60_000);
    w[0].cut();
    ControlException e = failure(waiting);
    assertThat(e.unreachable()).isTrue();
    assertThat(e.getMessage()).contains("went down");
    ControlException now = failure(a.request(utf8("x"), 60_000));
    assertThat(now.getMessage()).contains("not reachable");
    release.countDown();
  }

  @Test
  void anUnansweredRequestTimesOut() {
    Wire[] w = Wire.pair();
    ControlLink a = link(w[0], req -> new byte[0], 2);
    link(w[1], req -> new byte[0], 2);
    w[0].blackhole = true;
    ControlException e = failure(a.request(utf8("lost"), 100));
    assertThat(e.unreachable()).isTrue();
    assertThat(e.getMessage()).contains("did not answer within 100 ms");
  }

  @Test
  void aBusyPeerRefusesAndTooManyWaitingFailLocally() throws Exception {
    Wire[] w = Wire.pair();
    ControlLink a = link(w[0], req -> new byte[0], 1);
    CountDownLatch release = new CountDownLatch(1);
    link(
        w[1],
        req -> {
          release.await();
          return utf8("done");
        },
        1);
    CompletableFuture<byte[]> first = a.request(utf8("1"), 60_000);
    ControlException busy = failure(a.request(utf8("2"), 60_000));
    assertThat(busy.getMessage()).contains("busy");
    assertThat(busy.unreachable()).isTrue();
    w[0].blackhole = true; // the next requests stay unanswered
    for (int i = 0; i < 3; i++) {
      a.request(utf8("more"), 60_000);
    }
    // 1 + 3 waiting: the fifth exceeds maxPending = 4 without reaching the wire.
    ControlException full = failure(a.request(utf8("5"), 60_000));
    assertThat(full.getMessage()).contains("waiting already");
    release.countDown();
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(utf8("done"));
  }

  @Test
  void garbageAndForeignMessagesAreDroppedQuietly() throws Exception {
    Wire[] w = Wire.pair();
    ControlLink a = link(w[0], req -> utf8("ok"), 2);
    Random random = new Random(7);
    for (int i = 0; i < 500; i++) {
      byte[] junk = new byte[random.nextInt(100)];
      random.nextBytes(junk);
      a.onFrame(junk);
    }
    a.onFrame(
        FrameCodec.encode(new Frame(LinkChannels.CONTROL, 0, new Message.Heartbeat(1, 1, false))));
    // An answer to a request never made is ignored.
    a.onFrame(
        FrameCodec.encode(
            new Frame(LinkChannels.CONTROL, 0, new Message.Control(999, true, new byte[] {0}))));
    assertThat(a.framesDropped()).isEqualTo(501);
    assertThatThrownBy(() -> a.request(new byte[0], 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
