package io.duet.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code nbd} and {@code nbdTls} fields of site.yaml. */
class NbdConfigTest {
  private static final Path BASE = Path.of("/etc/duet");

  private static SiteConfig parse(String yaml) throws ConfigException {
    return SiteConfig.parse("name: s\ndataDir: d\n" + yaml, BASE, "site.yaml");
  }

  private static void rejects(String yaml, String... fragments) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageContainingAll(fragments);
  }

  @Test
  void noNbdByDefault() throws ConfigException {
    SiteConfig c = parse("");
    assertThat(c.nbd()).isEmpty();
    assertThat(c.nbdTls()).isEmpty();
  }

  @Test
  void listenersAndPemTls() throws ConfigException {
    SiteConfig c =
        parse(
            "nbd: [\"127.0.0.1:10809\", \"[::1]:0\"]\n"
                + "nbdTls: {certificate: tls/cert.pem, key: /k.pem, clientCa: ca.pem,"
                + " required: true}\n");
    assertThat(c.nbd())
        .containsExactly(new HostPort("127.0.0.1", 10809), HostPort.parse("[::1]:0"));
    NbdTlsConfig t = c.nbdTls().orElseThrow();
    assertThat(t.certificate()).contains(Path.of("/etc/duet/tls/cert.pem"));
    assertThat(t.key()).contains(Path.of("/k.pem"));
    assertThat(t.clientCa()).contains(Path.of("/etc/duet/ca.pem"));
    assertThat(t.keystore()).isEmpty();
    assertThat(t.required()).isTrue();
    assertThat(c.withNbd(List.of()).nbdTls()).isEqualTo(c.nbdTls());
  }

  @Test
  void keystoreTls() throws ConfigException {
    NbdTlsConfig t =
        parse("nbdTls: {keystore: s.p12, keystorePassword: pw}\n").nbdTls().orElseThrow();
    assertThat(t.keystore()).contains(Path.of("/etc/duet/s.p12"));
    assertThat(t.keystorePassword()).isEqualTo("pw");
    assertThat(t.required()).isFalse();
  }

  @Test
  void badNbdFieldsAreNamed() {
    rejects("nbd: 127.0.0.1:10809\n", "'nbd'", "list");
    rejects("nbd: [\"nonsense\"]\n", "nbd[0]");
    rejects("nbd: [\"127.0.0.1:1\", \"127.0.0.1:1\"]\n", "nbd[1]", "duplicate");
    rejects("nbdTls: yes\n", "nbdTls", "mapping");
    rejects("nbdTls: {certificate: c.pem}\n", "nbdTls", "together");
    rejects("nbdTls: {certificate: c.pem, key: k.pem, keystore: s.p12}\n", "either");
    rejects("nbdTls: {keystore: s.p12, required: maybe}\n", "nbdTls.required");
    rejects("nbdTls: {keystore: s.p12, colour: red}\n", "nbdTls.colour", "unknown");
  }
}
