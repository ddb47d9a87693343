package io.duet.iscsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PduReaderTest {
  /** A gathering channel over a byte array, so the writer's output can be read back. */
  private static final class Sink implements java.nio.channels.GatheringByteChannel {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final WritableByteChannel ch = Channels.newChannel(bytes);

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      long n = 0;
      for (int i = offset; i < offset + length; i++) {
        n += ch.write(srcs[i]);
      }
      return n;
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
      return write(srcs, 0, srcs.length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return ch.write(src);
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  private static PduReader reader(byte[] bytes, int max) {
    return new PduReader(Channels.newChannel(new ByteArrayInputStream(bytes)), max);
  }

  @Test
  void writerAndReaderRoundTripWithDigests() throws Exception {
    Sink sink = new Sink();
    PduWriter w = new PduWriter(sink);
    w.lock().lock();
    try {
      w.configure(true, true);
      Bhs h = w.header();
      h.u8(0, Bhs.NOP_IN);
      h.i32(16, 42);
      w.send(ByteBuffer.wrap("hello".getBytes()));
    } finally {
      w.lock().unlock();
    }
    byte[] wire = sink.bytes.toByteArray();
    assertThat(wire).hasSize(48 + 4 + 8 + 4);
    PduReader r = reader(wire, 8192);
    r.configure(true, true, 8192);
    Bhs in = new Bhs();
    assertThat(r.readHeader(in)).isTrue();
    assertThat(in.itt()).isEqualTo(42);
    ByteBuffer data = ByteBuffer.allocate(5);
    r.readData(data);
    assertThat(new String(data.array())).isEqualTo("hello");

    wire[48 + 4 + 1] ^= 1; // flip a data bit: data digest error, stream stays in step
    PduReader bad = reader(wire, 8192);
    bad.configure(true, true, 8192);
    bad.readHeader(in);
    assertThatThrownBy(() -> bad.readData(ByteBuffer.allocate(5)))
        .isInstanceOfSatisfying(
            PduException.class,
            e -> {
              assertThat(e.rejectReason()).isEqualTo(PduException.DATA_DIGEST_ERROR);
              assertThat(e.fatal()).isFalse();
            });
    wire[3] ^= 1; // a header bit: fatal
    PduReader badHeader = reader(wire, 8192);
    badHeader.configure(true, true, 8192);
    assertThatThrownBy(() -> badHeader.readHeader(in))
        .isInstanceOfSatisfying(PduException.class, e -> assertThat(e.fatal()).isTrue());
  }

  @Test
  void oversizedDataSegmentIsRefusedBeforeReading() {
    Bhs h = new Bhs();
    h.dataSegmentLength(0xffffff);
    assertThatThrownBy(() -> reader(h.bytes, 8192).readHeader(new Bhs()))
        .isInstanceOf(PduException.class)
        .hasMessageContaining("exceeds");
  }

  @Test
  void randomStreamsEndInClearErrors() {
    Random random = new Random(1234);
    for (int i = 0; i < 3000; i++) {
      byte[] wire = new byte[random.nextInt(2000)];
      random.nextBytes(wire);
      if (wire.length > 8 && random.nextBoolean()) {
        wire[4] = 0; // no AHS
        wire[5] = 0;
        wire[6] = (byte) random.nextInt(4);
      }
      PduReader r = reader(wire, 1024);
      r.configure(random.nextBoolean(), random.nextBoolean(), 1024);
      Bhs in = new Bhs();
      try {
        while (r.readHeader(in)) {
          assertThat(in.dataSegmentLength()).isLessThanOrEqualTo(1024);
          r.readData(ByteBuffer.allocate(Math.min(64, in.dataSegmentLength())));
        }
      } catch (PduException e) {
        assertThat(e.getMessage()).isNotBlank();
      } catch (IOException e) {
        assertThat(e).isInstanceOf(java.io.EOFException.class);
      }
    }
  }
}
