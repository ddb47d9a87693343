package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Option and request decoders against valid, truncated, mutated and random input. */
class CodecTest {
  private static final long SEED = 0x5eed_2026L;

  @Test
  void decodesAnInfoRequest() throws Exception {
    byte[] data =
        ByteBuffer.allocate(13)
            .putInt(3)
            .put("vol".getBytes())
            .putShort((short) 2)
            .putShort((short) Nbd.INFO_NAME)
            .putShort((short) Nbd.INFO_BLOCK_SIZE)
            .array();
    OptionCodec.InfoRequest r = OptionCodec.decodeInfo(data);
    assertThat(r.exportName()).isEqualTo("vol");
    assertThat(r.items()).containsExactly(Nbd.INFO_NAME, Nbd.INFO_BLOCK_SIZE);
  }

  @Test
  void decodesAMetaContextRequest() throws Exception {
    OptionCodec.MetaContextRequest r =
        OptionCodec.decodeMetaContext(RawClient.metaData("vol", "base:allocation", "x-a:b"));
    assertThat(r.exportName()).isEqualTo("vol");
    assertThat(r.queries()).containsExactly("base:allocation", "x-a:b");
  }

  @Test
  void rejectsLengthsThatLie() {
    byte[] hugeName = ByteBuffer.allocate(6).putInt(Integer.MAX_VALUE).array();
    assertThatThrownBy(() -> OptionCodec.decodeInfo(hugeName))
        .isInstanceOf(MalformedException.class)
        .hasMessageContaining("export name");
    byte[] manyQueries = ByteBuffer.allocate(8).putInt(0).putInt(-1).array();
    assertThatThrownBy(() -> OptionCodec.decodeMetaContext(manyQueries))
        .isInstanceOf(MalformedException.class)
        .hasMessageContaining("query count");
    byte[] badUtf8 = {(byte) 0xc3, (byte) 0x28};
    assertThatThrownBy(() -> OptionCodec.decodeExportName(badUtf8))
        .isInstanceOf(MalformedException.class)
        .hasMessageContaining("UTF-8");
    byte[] trailing =
        ByteBuffer.allocate(9).putInt(0).putShort((short) 1).putShort((short) 0).array();
    assertThatThrownBy(() -> OptionCodec.decodeInfo(trailing))
        .isInstanceOf(MalformedException.class);
  }

  @Test
  void randomAndMutatedOptionDataGiveAResultOrMalformedOnly() {
    Random random = new Random(SEED);
    byte[] valid = RawClient.metaData("export", "base:allocation");
    for (int i = 0; i < 20_000; i++) {
      byte[] data;
      if (random.nextBoolean()) {
        data = new byte[random.nextInt(64)];
        random.nextBytes(data);
      } else {
        data = java.util.Arrays.copyOf(valid, Math.max(0, valid.length + random.nextInt(9) - 4));
        for (int flips = random.nextInt(4); flips >= 0; flips--) {
          if (data.length > 0) {
            data[random.nextInt(data.length)] ^= (byte) (1 << random.nextInt(8));
          }
        }
      }
      decodeAll(data);
    }
  }

  private static void decodeAll(byte[] data) {
    try {
      OptionCodec.decodeInfo(data);
    } catch (MalformedException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
    try {
      OptionCodec.decodeMetaContext(data);
    } catch (MalformedException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
    try {
      OptionCodec.decodeExportName(data);
    } catch (MalformedException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }

  @Test
  void requestHeaderRoundTripsAndRejectsBadMagic() throws Exception {
    Random random = new Random(SEED);
    for (int i = 0; i < 10_000; i++) {
      byte[] header = new byte[Nbd.REQUEST_HEADER_BYTES];
      random.nextBytes(header);
      boolean good = random.nextBoolean();
      if (good) {
        ByteBuffer.wrap(header).putInt(Nbd.REQUEST_MAGIC);
      }
      try {
        Request r = Request.decode(ByteBuffer.wrap(header));
        ByteBuffer b = ByteBuffer.wrap(header);
        b.getInt();
        assertThat(r.flags()).isEqualTo(Short.toUnsignedInt(b.getShort()));
        assertThat(r.type()).isEqualTo(Short.toUnsignedInt(b.getShort()));
        assertThat(r.cookie()).isEqualTo(b.getLong());
        assertThat(r.offset()).isEqualTo(b.getLong());
        assertThat(r.length()).isEqualTo(Integer.toUnsignedLong(b.getInt())).isNotNegative();
      } catch (MalformedException e) {
        assertThat(good).isFalse();
        assertThat(e.getMessage()).contains("magic");
      }
    }
    assertThatThrownBy(() -> Request.decode(ByteBuffer.allocate(5)))
        .isInstanceOf(MalformedException.class);
  }

  @Test
  void rangeCheckHandlesHugeUnsignedOffsets() {
    assertThat(new Request(0, 0, 0, -512, 512).within(1 << 20)).isFalse();
    assertThat(new Request(0, 0, 0, (1 << 20) - 512, 512).within(1 << 20)).isTrue();
    assertThat(new Request(0, 0, 0, (1 << 20) - 512, 513).within(1 << 20)).isFalse();
    assertThat(new Request(0, 0, 0, Long.MAX_VALUE, 0xffffffffL).within(1 << 20)).isFalse();
  }
}
