package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteSizeTest {
  @Test
  void acceptedForms() {
    assertThat(ByteSize.parse("4096")).isEqualTo(4096);
    assertThat(ByteSize.parse("10GiB")).isEqualTo(10L << 30);
    assertThat(ByteSize.parse("512 MiB")).isEqualTo(512L << 20);
    assertThat(ByteSize.parse("1.5TiB")).isEqualTo(3L << 39);
    assertThat(ByteSize.parse("4k")).isEqualTo(4096);
    assertThat(ByteSize.parse("1G")).isEqualTo(1L << 30);
    assertThat(ByteSize.parse("1GB")).isEqualTo(1_000_000_000L);
    assertThat(ByteSize.parse("100b")).isEqualTo(100);
  }

  @Test
  void rejectedForms() {
    for (String bad :
        List.of("", " ", "GiB", "-1", "1.3B", "1XB", "1 gi", "1ib", "ten", "99999999PiB", "1e9")) {
      assertThatThrownBy(() -> ByteSize.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void format() {
    assertThat(ByteSize.format(1L << 30)).isEqualTo("1 GiB");
    assertThat(ByteSize.format(1536L << 20)).isEqualTo("1.5 GiB");
    assertThat(ByteSize.format(100)).isEqualTo("100 B");
  }

  @Test
  void randomInputNeverEscapesUnchecked() {
    Random random = new Random(7);
    String alphabet = "0123456789.kKmMgGtTpPiIbB -+eE";
    for (int i = 0; i < 5000; i++) {
      StringBuilder b = new StringBuilder();
      int n = random.nextInt(12);
      for (int j = 0; j < n; j++) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      try {
        assertThat(ByteSize.parse(b.toString())).isNotNegative();
      } catch (IllegalArgumentException expected) {
        assertThat(expected.getMessage()).contains("size");
      }
    }
  }
}
