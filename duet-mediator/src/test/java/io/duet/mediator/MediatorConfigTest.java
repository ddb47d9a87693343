package io.duet.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MediatorConfigTest {
  static final Path BASE = Path.of("/etc/duet");

  @Test
  void readsEverySetting() throws IOException {
    MediatorConfig c =
        MediatorConfig.parse(
            """
            dataDir: data
            listen: "[::1]:9443"
            tlsNames: [mediator.example.com, 192.0.2.7]
            clientCas: [sites.crt]
            leaseMs: 4000
            graceMs: 1500
            maxFailedLogins: 4
            lockoutMs: 30000
            """,
            BASE,
            "m.yaml");
    assertThat(c.dataDir()).isEqualTo(BASE.resolve("data"));
    assertThat(c.host()).isEqualTo("::1");
    assertThat(c.port()).isEqualTo(9443);
    assertThat(c.tlsNames()).containsExactly("mediator.example.com", "192.0.2.7");
    assertThat(c.clientCas()).containsExactly(BASE.resolve("sites.crt"));
    assertThat(c.leaseMs()).isEqualTo(4000);
    assertThat(c.maxFailedLogins()).isEqualTo(4);
  }

  @Test
  void defaultsAndClearErrors() throws IOException {
    MediatorConfig c = MediatorConfig.parse("dataDir: /var/lib/m\n", BASE, "m.yaml");
    assertThat(c.port()).isEqualTo(MediatorConfig.PORT_DEFAULT);
    assertThat(c.leaseMs()).isEqualTo(MediatorConfig.LEASE_MS_DEFAULT);
    assertThatThrownBy(() -> MediatorConfig.parse("listen: 1.2.3.4:1\n", BASE, "m.yaml"))
        .hasMessageContaining("'dataDir' is required");
    assertThatThrownBy(() -> MediatorConfig.parse("dataDir: d\nlease: 3\n", BASE, "m.yaml"))
        .hasMessageContaining("unknown setting 'lease'");
    assertThatThrownBy(() -> MediatorConfig.parse("dataDir: d\nleaseMs: 5\n", BASE, "m.yaml"))
        .hasMessageContaining("leaseMs");
    assertThatThrownBy(() -> MediatorConfig.parse("dataDir: d\nlisten: nope\n", BASE, "m.yaml"))
        .hasMessageContaining("host:port");
  }

  @Test
  void randomInputGivesAnIOExceptionAndNothingElse() {
    Random random = new Random(11);
    String alphabet = "dataDir:listen leaseMs[]{}\"'\n -:0123456789abc#&*!|>";
    for (int i = 0; i < 3000; i++) {
      StringBuilder b = new StringBuilder(i % 3 == 0 ? "dataDir: d\n" : "");
      int n = random.nextInt(60);
      for (int k = 0; k < n; k++) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      try {
        MediatorConfig.parse(b.toString(), BASE, "fuzz.yaml");
      } catch (IOException e) {
        assertThat(e).hasMessageStartingWith("fuzz.yaml");
      }
    }
  }
}
