package io.duet.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ReplicationConfigTest {
  private static final Path BASE = Path.of("/etc/duet");

  @Test
  void replicationIsOptionalAndParsed() throws Exception {
    SiteConfig none = SiteConfig.parse("name: a\ndataDir: d\n", BASE, "t");
    assertThat(none.replication()).isEmpty();
    SiteConfig some =
        SiteConfig.parse("name: a\ndataDir: d\nreplication: 192.0.2.1:7443\n", BASE, "t");
    assertThat(some.replication()).contains(new HostPort("192.0.2.1", 7443));
    // Every with* copy keeps it.
    assertThat(
            some.withApi(new HostPort("127.0.0.1", 1)).withNbd(java.util.List.of()).replication())
        .contains(new HostPort("192.0.2.1", 7443));
  }

  @Test
  void badReplicationAddressNamesTheField() {
    for (String bad : new String[] {"x", "1.2.3.4:99999", "[1", "{a: 1}", "[1, 2]"}) {
      assertThatThrownBy(
              () -> SiteConfig.parse("name: a\ndataDir: d\nreplication: " + bad + "\n", BASE, "t"))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("replication");
    }
  }
}
