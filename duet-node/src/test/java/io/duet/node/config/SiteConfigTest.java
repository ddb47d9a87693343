package io.duet.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SiteConfigTest {
  static final Path BASE = Path.of("/etc/duet");

  private static SiteConfig parse(String yaml) throws ConfigException {
    return SiteConfig.parse(yaml, BASE, "site.yaml");
  }

  private static void rejects(String yaml, String... fragments) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(ConfigException.class)
        .message()
        .contains(fragments);
  }

  @Test
  void fullConfig() throws ConfigException {
    SiteConfig c =
        parse(
            """
            name: site-b
            dataDir: data/b
            portals: ["192.0.2.10:3260", "[2001:db8::1]:3261"]
            api: 0.0.0.0:8080
            portGroupId: 2
            relativeTargetPortId: 2
            portalGroupTag: 2
            targetPrefix: iqn.2026-11.com.example:storage
            """);
    assertThat(c.name()).isEqualTo("site-b");
    assertThat(c.dataDir()).isEqualTo(Path.of("/etc/duet/data/b"));
    assertThat(c.portals())
        .containsExactly(new HostPort("192.0.2.10", 3260), new HostPort("2001:db8::1", 3261));
    assertThat(c.api()).isEqualTo(new HostPort("0.0.0.0", 8080));
    assertThat(c.portGroupId()).isEqualTo(2);
    assertThat(c.relativeTargetPortId()).isEqualTo(2);
    assertThat(c.portalGroupTag()).isEqualTo(2);
    assertThat(c.targetPrefix()).isEqualTo("iqn.2026-11.com.example:storage");
  }

  @Test
  void defaults() throws ConfigException {
    SiteConfig c = parse("name: site-a\ndataDir: /var/lib/duet\n");
    assertThat(c).isEqualTo(SiteConfig.defaults("site-a", Path.of("/var/lib/duet")));
    assertThat(c.api()).isEqualTo(new HostPort("127.0.0.1", 7080));
    assertThat(c.portals()).containsExactly(new HostPort("127.0.0.1", 3260));
    assertThat(c.targetPrefix()).isEqualTo("iqn.2026-11.io.duet:site-a");
    assertThat(c.portGroupId()).isEqualTo(1);
    assertThat(c.relativeTargetPortId()).isEqualTo(1);
  }

  @Test
  void badFieldsAreNamed() {
    rejects("dataDir: /x\n", "field 'name'", "required");
    rejects("name: Site_A\ndataDir: /x\n", "field 'name'");
    rejects("name: a\n", "field 'dataDir'", "required");
    rejects("name: a\ndataDir: [1]\n", "field 'dataDir'");
    rejects("name: a\ndataDir: /x\nportals: 127.0.0.1:3260\n", "field 'portals'", "list");
    rejects("name: a\ndataDir: /x\nportals: [\"127.0.0.1\"]\n", "field 'portals[0]'", "host:port");
    rejects(
        "name: a\ndataDir: /x\nportals: [\"127.0.0.1:3260\", \"h:99999\"]\n",
        "field 'portals[1]'",
        "0..65535");
    rejects(
        "name: a\ndataDir: /x\nportals: [\"0.0.0.0:3260\"]\n", "field 'portals[0]'", "wildcard");
    rejects("name: a\ndataDir: /x\nportals: [\"::1:3260\"]\n", "field 'portals[0]'", "brackets");
    rejects("name: a\ndataDir: /x\napi: 7080\n", "field 'api'");
    rejects("name: a\ndataDir: /x\nportGroupId: 0\n", "field 'portGroupId'", "1..65535");
    rejects("name: a\ndataDir: /x\nrelativeTargetPortId: abc\n", "field 'relativeTargetPortId'");
    rejects("name: a\ndataDir: /x\nportalGroupTag: 70000\n", "field 'portalGroupTag'");
    rejects("name: a\ndataDir: /x\ntargetPrefix: mytarget\n", "field 'targetPrefix'");
    rejects("name: a\ndataDir: /x\nportal: [\"1.2.3.4:5\"]\n", "field 'portal'", "unknown field");
  }

  @Test
  void badYaml() {
    rejects("", "empty");
    rejects("name: [unclosed\n", "not valid YAML", "line");
    rejects("- just\n- a list\n", "mapping of fields");
    rejects("name: a\n  dataDir: b\n: :\n", "site.yaml");
    rejects("\t\tname: a", "site.yaml");
  }

  @Test
  void loadsFilesAndResolvesRelativeDataDir(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("site.yaml");
    Files.writeString(file, "name: a\ndataDir: data\n");
    assertThat(SiteConfig.load(file).dataDir()).isEqualTo(dir.resolve("data"));
    assertThatThrownBy(() -> SiteConfig.load(dir.resolve("missing.yaml")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot read");
  }

  @Test
  void randomAndMutatedInputOnlyEverGivesConfigException() {
    Random random = new Random(20261123L);
    String valid =
        "name: site-a\n"
            + "dataDir: /x\n"
            + "portals: [\"127.0.0.1:3260\"]\n"
            + "api: 127.0.0.1:7080\n"
            + "portGroupId: 1\n";
    String alphabet = "abc:-[]{}\"'\n\t #&*!|>%@`0123456789.,?";
    for (int i = 0; i < 2000; i++) {
      StringBuilder b = new StringBuilder(valid);
      int edits = 1 + random.nextInt(6);
      for (int e = 0; e < edits; e++) {
        int at = random.nextInt(b.length() + 1);
        switch (random.nextInt(3)) {
          case 0 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
          case 1 -> {
            if (at < b.length()) b.deleteCharAt(at);
          }
          default -> {
            if (at < b.length()) b.setCharAt(at, (char) random.nextInt(128));
          }
        }
      }
      String text = i % 10 == 0 ? randomText(random) : b.toString();
      try {
        SiteConfig c = parse(text);
        assertThat(c.name()).isNotBlank();
      } catch (ConfigException expected) {
        assertThat(expected.getMessage()).startsWith("site.yaml");
      }
    }
  }

  private static String randomText(Random random) {
    char[] c = new char[random.nextInt(200)];
    for (int i = 0; i < c.length; i++) {
      c[i] = (char) random.nextInt(0x250);
    }
    return new String(c);
  }

  @Test
  void hostPortForms() {
    assertThat(HostPort.parse("[::1]:3260")).isEqualTo(new HostPort("::1", 3260));
    assertThat(HostPort.parse("[::1]:3260").toString()).isEqualTo("[::1]:3260");
    assertThat(HostPort.parse("example.com:0").port()).isZero();
    for (String bad : List.of("", ":80", "host:", "host:x", "[::1]", "[::1]80", "a b:1", "h:-1")) {
      assertThatThrownBy(() -> HostPort.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
