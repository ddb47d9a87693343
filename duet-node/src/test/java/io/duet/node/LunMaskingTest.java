package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.iscsi.TargetCatalog;
import io.duet.scsi.LunMap;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LunMaskingTest {
  static final String IQN_A = "iqn.1994-05.com.redhat:host-a";
  static final String IQN_B = "iqn.1994-05.com.redhat:host-b";
  static final String STRANGER = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test";
  static final String TARGET = "iqn.2026-11.io.duet:site-a";

  @TempDir Path dir;
  TestSite site;
  TargetCatalog catalog;

  @BeforeEach
  void start() throws IOException {
    site = new TestSite(dir);
    catalog = site.node.catalog();
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"va\",\"size\":\"1MiB\"}");
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"vb\",\"size\":\"1MiB\"}");
    site.ok("POST", "/api/v1/hosts", "{\"name\":\"a\",\"iqns\":[\"" + IQN_A + "\"]}");
    site.ok(
        "POST",
        "/api/v1/hosts",
        "{\"name\":\"b\",\"iqns\":[\""
            + IQN_B
            + "\"],\"chapUser\":\"b-user\",\"chapSecret\":\"secret-of-b-123\"}");
    site.ok("POST", "/api/v1/mappings", "{\"volume\":\"va\",\"host\":\"a\",\"lun\":0}");
    site.ok("POST", "/api/v1/mappings", "{\"volume\":\"vb\",\"host\":\"b\",\"lun\":0}");
  }

  @AfterEach
  void stop() {
    site.close();
  }

  private LunMap luns(String initiator) {
    return catalog.target(TARGET).orElseThrow().lunsFor(initiator).orElseThrow();
  }

  private static String volumeAt(LunMap map, int lun) {
    return map.unit(lun) == null ? null : map.unit(lun).volume().identity().name();
  }

  @Test
  void eachHostSeesOnlyItsOwnLuns() {
    assertThat(volumeAt(luns(IQN_A), 0)).isEqualTo("va");
    assertThat(volumeAt(luns(IQN_B), 0)).isEqualTo("vb");
    // Initiator names compare case-insensitively.
    assertThat(volumeAt(luns(IQN_A.toUpperCase(java.util.Locale.ROOT)), 0)).isEqualTo("va");
    assertThat(luns(IQN_A).unit(1)).isNull();
  }

  @Test
  void strangerIsRefusedUntilAnyHostMappingExists() throws IOException {
    assertThat(catalog.target(TARGET).orElseThrow().lunsFor(STRANGER)).isEmpty();
    assertThat(catalog.discover(STRANGER)).isEmpty();
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"shared\",\"size\":\"1MiB\"}");
    site.ok("POST", "/api/v1/mappings", "{\"volume\":\"shared\",\"host\":\"*\",\"lun\":4}");
    assertThat(volumeAt(luns(STRANGER), 4)).isEqualTo("shared");
    assertThat(volumeAt(luns(IQN_A), 4)).isEqualTo("shared");
    assertThat(catalog.discover(STRANGER))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.name()).isEqualTo(TARGET);
              assertThat(t.portals())
                  .singleElement()
                  .satisfies(
                      p -> {
                        assertThat(p.host()).isEqualTo("127.0.0.1");
                        assertThat(p.port()).isEqualTo(site.node.portals().get(0).port());
                        assertThat(p.portalGroupTag()).isEqualTo(1);
                      });
            });
  }

  @Test
  void mapsAreLiveAcrossMappingChanges() throws IOException {
    LunMap a = luns(IQN_A);
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"more\",\"size\":\"1MiB\"}");
    long id =
        site.ok(
                "POST",
                "/api/v1/mappings",
                "{\"volume\":\"more\",\"host\":\"a\",\"lun\":2,\"readOnly\":true}")
            .path("id")
            .asLong();
    assertThat(luns(IQN_A)).isSameAs(a);
    assertThat(volumeAt(a, 2)).isEqualTo("more");
    site.ok("DELETE", "/api/v1/mappings/" + id, null);
    assertThat(a.unit(2)).isNull();
    site.ok("DELETE", "/api/v1/hosts/a?force=true", null);
    assertThat(a.unit(0)).isNull();
    assertThat(catalog.target(TARGET).orElseThrow().lunsFor(IQN_A)).isEmpty();
  }

  @Test
  void targetsPortsAndCredentials() {
    assertThat(catalog.target("iqn.2026-11.io.duet:nope")).isEmpty();
    TargetCatalog.Target t = catalog.target(TARGET).orElseThrow();
    assertThat(t.port().name()).isEqualTo(TARGET + ",t,0x0001");
    assertThat(t.port().relativeId()).isEqualTo(1);
    assertThat(t.port().portGroupId()).isEqualTo(1);
    assertThat(catalog.credentials(IQN_A)).isEmpty();
    TargetCatalog.ChapCredentials chap = catalog.credentials(IQN_B).orElseThrow();
    assertThat(chap.user()).isEqualTo("b-user");
    assertThat(new String(chap.secret(), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("secret-of-b-123");
    assertThat(chap.mutual()).isFalse();
    assertThat(catalog.discover(IQN_A))
        .extracting(TargetCatalog.DiscoveredTarget::name)
        .containsExactly(TARGET);
  }

  @Test
  void resizeAndDeleteReachTheUnits() throws IOException {
    LunMap a = luns(IQN_A);
    site.ok("PATCH", "/api/v1/volumes/va", "{\"size\":\"2MiB\"}");
    assertThat(a.unit(0).volume().sizeBytes()).isEqualTo(2L << 20);
    site.ok("DELETE", "/api/v1/volumes/va?force=true", null);
    assertThat(a.unit(0)).isNull();
  }
}
