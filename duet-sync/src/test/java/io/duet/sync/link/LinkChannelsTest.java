package io.duet.sync.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.Transport;
import io.duet.sync.proto.Frame;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class LinkChannelsTest {
  static final UUID G1 = new UUID(1, 1);
  static final UUID G2 = new UUID(2, 2);

  /** A link the test drives by hand: records sends, delivers what the test pushes. */
  static final class HandLink implements Transport {
    final List<byte[]> sent = new ArrayList<>();
    Receiver receiver;
    boolean up;
    boolean full;

    @Override
    public boolean send(byte[] frame) {
      if (!up || full) {
        return false;
      }
      sent.add(frame);
      return true;
    }

    @Override
    public boolean isUp() {
      return up;
    }

    @Override
    public void setReceiver(Receiver r) {
      receiver = r;
      if (up) {
        r.onLinkUp();
      }
    }

    void goUp() {
      up = true;
      receiver.onLinkUp();
    }

    void goDown() {
      up = false;
      receiver.onLinkDown();
    }
  }

  /** Records what a channel delivers, as short strings. */
  static final class Log implements Transport.Receiver {
    final List<String> seen = new ArrayList<>();

    @Override
    public void onFrame(byte[] frame) {
      seen.add("frame:" + LinkChannels.groupOf(frame));
    }

    @Override
    public void onLinkUp() {
      seen.add("up");
    }

    @Override
    public void onLinkDown() {
      seen.add("down");
    }
  }

  static byte[] frame(UUID group) {
    return FrameCodec.encode(new Frame(group, 1, new Message.Heartbeat(5, 0, false)));
  }

  @Test
  void routesFramesByGroupAndDropsTheRest() {
    HandLink link = new HandLink();
    LinkChannels channels = new LinkChannels(8);
    channels.attach(link);
    Log l1 = new Log();
    Log l2 = new Log();
    Log control = new Log();
    channels.open(G1).setReceiver(l1);
    channels.open(G2).setReceiver(l2);
    channels.control().setReceiver(control);
    link.goUp();

    link.receiver.onFrame(frame(G1));
    link.receiver.onFrame(frame(G2));
    link.receiver.onFrame(frame(LinkChannels.CONTROL));
    link.receiver.onFrame(frame(new UUID(9, 9)));
    link.receiver.onFrame(new byte[3]);

    assertThat(l1.seen).containsExactly("up", "frame:" + G1);
    assertThat(l2.seen).containsExactly("up", "frame:" + G2);
    assertThat(control.seen).containsExactly("up", "frame:" + LinkChannels.CONTROL);
    assertThat(channels.framesDropped()).isEqualTo(2);
  }

  @Test
  void linkEventsReachEveryChannelAndLateReceiversHearTheLinkIsUp() {
    HandLink link = new HandLink();
    LinkChannels channels = new LinkChannels(8);
    channels.attach(link);
    Log early = new Log();
    channels.open(G1).setReceiver(early);
    link.goUp();
    Log late = new Log();
    Transport t2 = channels.open(G2);
    t2.setReceiver(late);
    assertThat(t2.isUp()).isTrue();
    link.goDown();
    assertThat(t2.isUp()).isFalse();
    link.goUp();
    assertThat(early.seen).containsExactly("up", "down", "up");
    assertThat(late.seen).containsExactly("up", "down", "up");
  }

  @Test
  void sendsGoToTheLinkOnlyForTheChannelsOwnGroup() {
    HandLink link = new HandLink();
    LinkChannels channels = new LinkChannels(8);
    channels.attach(link);
    Transport t1 = channels.open(G1);
    assertThat(t1.send(frame(G1))).as("link down").isFalse();
    link.goUp();
    assertThat(t1.send(frame(G1))).isTrue();
    link.full = true;
    assertThat(t1.send(frame(G1))).as("queue full").isFalse();
    link.full = false;
    assertThatThrownBy(() -> t1.send(frame(G2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(G2.toString());
    assertThat(link.sent).hasSize(1);

    channels.close(G1);
    assertThat(t1.send(frame(G1))).as("closed channel").isFalse();
    assertThat(t1.isUp()).isFalse();
    Log reopened = new Log();
    channels.open(G1).setReceiver(reopened);
    assertThat(reopened.seen).containsExactly("up");
  }

  @Test
  void oneChannelPerGroupAndABoundOnChannels() {
    LinkChannels channels = new LinkChannels(2);
    channels.open(G1);
    assertThatThrownBy(() -> channels.open(G1)).hasMessageContaining("open already");
    assertThatThrownBy(() -> channels.open(LinkChannels.CONTROL))
        .isInstanceOf(IllegalArgumentException.class);
    channels.control();
    assertThatThrownBy(() -> channels.open(G2)).hasMessageContaining("2 channels open");
    assertThatThrownBy(channels::control).hasMessageContaining("open already");
  }

  @Test
  void aReplacedLinkIsIgnoredAndTheNewOneTakesOver() {
    HandLink old = new HandLink();
    LinkChannels channels = new LinkChannels(8);
    channels.attach(old);
    Log l1 = new Log();
    Transport t1 = channels.open(G1);
    t1.setReceiver(l1);
    old.goUp();
    Transport.Receiver oldReceiver = old.receiver;

    HandLink fresh = new HandLink();
    fresh.up = true;
    channels.attach(fresh);
    oldReceiver.onFrame(frame(G1));
    oldReceiver.onLinkDown();
    fresh.receiver.onFrame(frame(G1));
    assertThat(l1.seen).containsExactly("up", "down", "up", "frame:" + G1);
    assertThat(t1.send(frame(G1))).isTrue();
    assertThat(fresh.sent).hasSize(1);
    assertThat(old.sent).isEmpty();
  }

  @Test
  void randomBytesFromTheLinkNeverEscapeAsExceptions() {
    HandLink link = new HandLink();
    LinkChannels channels = new LinkChannels(8);
    channels.attach(link);
    Log l1 = new Log();
    channels.open(G1).setReceiver(l1);
    link.goUp();
    Random random = new Random(42);
    int routed = 0;
    for (int i = 0; i < 2000; i++) {
      byte[] junk = new byte[random.nextInt(80)];
      random.nextBytes(junk);
      if (i % 10 == 0 && junk.length >= 36) {
        // Group id bytes of G1 with garbage around them: routed, left to the codec to refuse.
        java.nio.ByteBuffer.wrap(junk, 4, 16).putLong(1).putLong(1);
        routed++;
      }
      link.receiver.onFrame(junk);
    }
    assertThat(l1.seen).hasSize(1 + routed);
    assertThat(channels.framesDropped()).isEqualTo(2000 - routed);
  }
}
