package io.duet.sync.peering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PeerAddressTest {
  @Test
  void parsesHostPortForms() {
    InetSocketAddress a = PeerAddress.parse("site-b.example.com:7443");
    assertThat(a.getHostString()).isEqualTo("site-b.example.com");
    assertThat(a.getPort()).isEqualTo(7443);
    assertThat(a.isUnresolved()).isTrue();
    assertThat(PeerAddress.parse(" 10.1.2.3:1 ").getHostString()).isEqualTo("10.1.2.3");
    assertThat(PeerAddress.parse("[fe80::1]:65535").getHostString()).isEqualTo("fe80::1");
  }

  @Test
  void refusesBadAddressesClearly() {
    for (String bad :
        new String[] {
          "",
          "host",
          ":7443",
          "host:",
          "host:0",
          "host:65536",
          "host:x",
          "a:b:1",
          "[::1]",
          "[]:1",
          "h st:1",
          "[::1]x1"
        }) {
      assertThatThrownBy(() -> PeerAddress.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("address");
    }
    assertThatThrownBy(() -> PeerAddress.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void randomInputGivesOnlyIllegalArgument() {
    Random random = new Random(5);
    String chars = "ab:[]0123456789 .-\u0000\u00e9";
    for (int i = 0; i < 20_000; i++) {
      StringBuilder s = new StringBuilder();
      for (int k = random.nextInt(12); k > 0; k--) {
        s.append(chars.charAt(random.nextInt(chars.length())));
      }
      try {
        InetSocketAddress a = PeerAddress.parse(s.toString());
        assertThat(a.getPort()).isBetween(1, 65_535);
      } catch (IllegalArgumentException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
  }
}
