package io.duet.sync.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.proto.Message.*;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  private static final UUID CG = new UUID(7, 9);
  private static final long SEED = Long.getLong("duet.seed", 20240611L);

  static List<Message> samples() {
    UUID a = new UUID(1, 2);
    UUID b = new UUID(3, 4);
    return List.of(
        new Hello(a, b, 3, 9, 0, true),
        new DirtyRegions(1, new long[] {0, 5, 99}),
        new DirtyDone(),
        new OrderedWrite(42, 0, 4096, 4, WriteKind.WRITE, true, 0, new byte[] {1, 2, 3, 4}),
        new OrderedWrite(43, 1, 0, 1 << 20, WriteKind.UNMAP, false, 17, new byte[0]),
        new ForwardedWrite(5, 2, 512, 2, WriteKind.WRITE_ATOMIC, false, new byte[] {9, 8}),
        new WriteApplied(42),
        new WriteCommitted(42),
        new RequestRefused(5, Refusal.NOT_LEADER),
        new FlushRequest(6, 0),
        new Flushed(6, true),
        new CompareAndWriteRequest(7, 0, 0, true, new byte[] {1}, new byte[] {2}),
        new CompareAndWriteMismatch(7, 12),
        new Heartbeat(123456789L, -5, true),
        new ResyncData(0, 3, new byte[] {5, 5, 5}),
        new ResyncAck(0, 3),
        new ResyncDone(),
        new DigestRequest(8, 0, 10, 100),
        new DigestResponse(8, 0, 10, new long[] {1, -1}),
        new Handoff(b),
        new EpochNotice(a, "fenced: epoch 4 > 3"),
        new SharedRequest(9, 1, new byte[] {1, 2}),
        new SharedOrdered(10, 0, 9, new byte[] {1, 2}, new byte[] {0, 0, 0, 7}),
        new SharedOrdered(11, 1, 0, new byte[0], new byte[0]),
        new SharedApplied(10),
        new SharedSnapshot(0, new byte[] {4, 4, 4}),
        new WritesApplied(new long[] {3, 1, 2}),
        new WritesCommitted(new long[] {7}));
  }

  @Test
  void everyMessageRoundTrips() throws Exception {
    for (Message m : samples()) {
      Frame decoded = FrameCodec.decode(FrameCodec.encode(new Frame(CG, 11, m)));
      assertThat(decoded.groupId()).isEqualTo(CG);
      assertThat(decoded.epoch()).isEqualTo(11);
      assertThat(decoded.message()).usingRecursiveComparison().isEqualTo(m);
    }
  }

  @Test
  void damagedFramesGiveTypedErrors() {
    byte[] good = FrameCodec.encode(new Frame(CG, 1, new WriteApplied(1)));
    byte[] flipped = good.clone();
    flipped[20] ^= 1;
    assertThatThrownBy(() -> FrameCodec.decode(flipped))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("CRC32C");
    assertThatThrownBy(() -> FrameCodec.decode(new byte[3]))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("truncated");
    byte[] badType = good.clone();
    badType[3] = 99;
    fixCrc(badType);
    assertThatThrownBy(() -> FrameCodec.decode(badType))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("unknown message type");
  }

  @Test
  void hugeLengthFieldsAreRejectedWithoutAllocating() {
    // A ResyncData claiming 2^31-1 data bytes inside a tiny frame.
    byte[] frame = FrameCodec.encode(new Frame(CG, 1, new ResyncData(0, 0, new byte[4])));
    ByteBuffer.wrap(frame).putInt(FrameCodec.HEADER_BYTES + 12, Integer.MAX_VALUE);
    fixCrc(frame);
    assertThatThrownBy(() -> FrameCodec.decode(frame))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("data length");
  }

  @Test
  void aUnitStateCommandWithAShortResultIsRejected() {
    byte[] frame =
        FrameCodec.encode(
            new Frame(CG, 1, new SharedOrdered(1, 0, 0, new byte[] {1}, new byte[] {2, 3})));
    // The result's length field claims one byte more than the frame holds.
    int resultLength = FrameCodec.HEADER_BYTES + 8 + 4 + 8 + 4 + 1;
    ByteBuffer.wrap(frame).putInt(resultLength, 3);
    fixCrc(frame);
    assertThatThrownBy(() -> FrameCodec.decode(frame))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("data length");
    byte[] negative = FrameCodec.encode(new Frame(CG, 1, new SharedSnapshot(0, new byte[] {1})));
    ByteBuffer.wrap(negative).putInt(FrameCodec.HEADER_BYTES, -1);
    fixCrc(negative);
    assertThatThrownBy(() -> FrameCodec.decode(negative))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("negative");
  }

  @Test
  void fuzzedInputNeverEscapesAsAnotherException() {
    Random random = new Random(SEED);
    List<byte[]> valid = new ArrayList<>();
    for (Message m : samples()) {
      valid.add(FrameCodec.encode(new Frame(CG, 3, m)));
    }
    int decodedOk = 0;
    for (int i = 0; i < 200_000; i++) {
      byte[] input;
      int mode = random.nextInt(4);
      if (mode == 0) {
        input = new byte[random.nextInt(80)];
        random.nextBytes(input);
      } else {
        byte[] base = valid.get(random.nextInt(valid.size())).clone();
        int flips = 1 + random.nextInt(4);
        for (int f = 0; f < flips; f++) {
          base[random.nextInt(base.length)] = (byte) random.nextInt(256);
        }
        if (mode >= 2 && base.length >= FrameCodec.HEADER_BYTES + FrameCodec.TRAILER_BYTES) {
          // Past the CRC and length checks, so the payload parser itself is exercised.
          ByteBuffer.wrap(base).putShort(0, FrameCodec.MAGIC).put(2, FrameCodec.VERSION);
          if (mode == 3) {
            base = java.util.Arrays.copyOf(base, Math.max(0, base.length - random.nextInt(9)));
            if (base.length >= FrameCodec.HEADER_BYTES + FrameCodec.TRAILER_BYTES) {
              ByteBuffer.wrap(base)
                  .putInt(28, base.length - FrameCodec.HEADER_BYTES - FrameCodec.TRAILER_BYTES);
            }
          }
          fixCrc(base);
        }
        input = base;
      }
      try {
        FrameCodec.decode(input);
        decodedOk++;
      } catch (FrameException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
    assertThat(decodedOk).as("some mutations stay valid (seed %d)", SEED).isGreaterThan(0);
  }

  private static void fixCrc(byte[] frame) {
    if (frame.length < FrameCodec.TRAILER_BYTES) {
      return;
    }
    CRC32C crc = new CRC32C();
    crc.update(frame, 0, frame.length - FrameCodec.TRAILER_BYTES);
    ByteBuffer.wrap(frame).putInt(frame.length - FrameCodec.TRAILER_BYTES, (int) crc.getValue());
  }
}
