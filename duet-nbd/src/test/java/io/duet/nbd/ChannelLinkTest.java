package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChannelLinkTest {
  /** A connected pair of blocking channels: [0] is the link's side, [1] the peer's. */
  private static SocketChannel[] pair() throws Exception {
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      SocketChannel peer = SocketChannel.open(server.getLocalAddress());
      return new SocketChannel[] {server.accept(), peer};
    }
  }

  @Test
  void leftoverComesFirstThenSmallAndLargeReadsInOrder() throws Exception {
    SocketChannel[] p = pair();
    try (SocketChannel mine = p[0];
        SocketChannel peer = p[1]) {
      byte[] sent = new byte[300_000];
      new Random(5).nextBytes(sent);
      Thread writer =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      peer.write(ByteBuffer.wrap(sent, 10, sent.length - 10));
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
      byte[] leftover = java.util.Arrays.copyOf(sent, 10);
      ChannelLink link = new ChannelLink(mine, leftover);
      assertThat(link.hasBuffered()).isTrue();
      ByteBuffer got = ByteBuffer.allocate(sent.length);
      Random sizes = new Random(7);
      while (got.hasRemaining()) {
        int n = Math.min(got.remaining(), 1 + sizes.nextInt(100_000));
        ByteBuffer chunk =
            sizes.nextBoolean() ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
        link.readFully(chunk);
        got.put(chunk.flip());
      }
      writer.join();
      assertThat(got.array()).isEqualTo(sent);
    }
  }

  @Test
  void skipDropsBytesAndEndOfStreamIsAnEofException() throws Exception {
    SocketChannel[] p = pair();
    try (SocketChannel mine = p[0]) {
      try (SocketChannel peer = p[1]) {
        peer.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6}));
      }
      ChannelLink link = new ChannelLink(mine, new byte[0]);
      link.skip(4);
      ByteBuffer two = ByteBuffer.allocate(2);
      link.readFully(two);
      assertThat(two.array()).containsExactly(5, 6);
      assertThatThrownBy(() -> link.readFully(ByteBuffer.allocate(1)))
          .isInstanceOf(EOFException.class);
      assertThatThrownBy(() -> link.skip(1)).isInstanceOf(EOFException.class);
    }
  }

  @Test
  void gatheringWriteSendsEveryBufferInOrder() throws Exception {
    SocketChannel[] p = pair();
    try (SocketChannel mine = p[0];
        SocketChannel peer = p[1]) {
      ChannelLink link = new ChannelLink(mine, new byte[0]);
      ByteBuffer head = ByteBuffer.allocateDirect(3).put(new byte[] {9, 8, 7}).flip();
      ByteBuffer data = ByteBuffer.allocate(4).put(new byte[] {1, 2, 3, 4}).flip();
      link.write(head, data);
      assertThat(head.hasRemaining() || data.hasRemaining()).isFalse();
      ByteBuffer got = ByteBuffer.allocate(7);
      while (got.hasRemaining()) {
        peer.read(got);
      }
      assertThat(got.array()).containsExactly(9, 8, 7, 1, 2, 3, 4);
      link.close();
      assertThat(mine.isOpen()).isFalse();
    }
  }
}
