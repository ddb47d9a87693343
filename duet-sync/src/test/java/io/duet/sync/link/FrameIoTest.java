package io.duet.sync.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class FrameIoTest {
  @Test
  void roundTripAndLimits() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    FrameIo.write(out, new byte[] {1, 2, 3});
    FrameIo.write(out, FrameIo.KEEPALIVE);
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    assertThat(FrameIo.read(in, 3)).containsExactly(1, 2, 3);
    assertThat(FrameIo.read(in, 3)).isEmpty();
    assertThatThrownBy(() -> FrameIo.read(in, 3)).isInstanceOf(EOFException.class);

    DataInputStream tooBig = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    assertThatThrownBy(() -> FrameIo.read(tooBig, 2))
        .isInstanceOf(LinkProtocolException.class)
        .hasMessageContaining("exceeds");
  }

  @Test
  void randomStreamsGiveProtocolErrorsOrEofOnly() {
    Random random = new Random(Long.getLong("duet.seed", 17L));
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[random.nextInt(64)];
      random.nextBytes(b);
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
      try {
        while (true) {
          byte[] f = FrameIo.read(in, 1024);
          assertThat(f.length).isLessThanOrEqualTo(1024);
        }
      } catch (IOException e) {
        assertThat(e).isInstanceOfAny(EOFException.class, LinkProtocolException.class);
      }
      try {
        LinkHello.decode(b);
      } catch (LinkProtocolException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
    }
    LinkHello h = new LinkHello(new UUID(1, 2), new UUID(3, 4));
    try {
      assertThat(LinkHello.decode(h.encode())).isEqualTo(h);
    } catch (LinkProtocolException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void backoffDoublesUpToTheCapAndResets() {
    Backoff b = new Backoff(100, 1_000);
    assertThat(new long[] {b.next(), b.next(), b.next(), b.next(), b.next(), b.next()})
        .containsExactly(100, 200, 400, 800, 1_000, 1_000);
    b.reset();
    assertThat(b.next()).isEqualTo(100);
  }
}
