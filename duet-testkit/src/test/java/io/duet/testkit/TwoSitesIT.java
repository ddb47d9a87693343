package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.testkit.proxy.Direction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The two-site harness itself: the sites pair through the fault proxy and the only replication link
 * runs through it, so a blackhole takes it down at both sites and healing brings it back; a killed
 * site comes back with its identity and the link redials by itself.
 */
class TwoSitesIT {
  @Test
  void pairedThroughTheProxyWhichCutsAndHealsTheOnlyLink() throws Exception {
    try (TwoSites sites =
        TwoSites.start(Files.createTempDirectory(Path.of("target"), "two-sites"))) {
      JsonNode peerAtA = sites.a().api().get("/api/v1/peers").get(0);
      assertThat(peerAtA.path("name").asText()).isEqualTo(TwoSites.B);
      assertThat(peerAtA.path("address").asText()).isEqualTo("127.0.0.1:" + sites.link().port());
      JsonNode peerAtB = sites.b().api().get("/api/v1/peers").get(0);
      assertThat(peerAtB.path("name").asText()).isEqualTo(TwoSites.A);
      assertThat(peerAtB.path("address").asText())
          .as("B can never dial around the proxy")
          .isEmpty();
      assertThat(sites.link().currentConnections()).isPositive();
      assertThat(sites.iscsiUrl(sites.a(), 0)).contains(":site-a/0");
      assertThat(sites.iscsiUrl(sites.b(), 0)).contains(":site-b/0");

      sites.link().blackhole(Direction.UPSTREAM, Direction.DOWNSTREAM);
      TwoSites.await(
          "link down at both sites",
          Duration.ofSeconds(30),
          () -> linkState(sites.a()).equals("down") && linkState(sites.b()).equals("down"));
      sites.link().heal();
      sites.awaitLinkUp();

      String uuidB = sites.b().api().get("/api/v1/status").path("uuid").asText();
      sites.kill9(sites.b());
      TwoSites.await(
          "A sees B gone", Duration.ofSeconds(30), () -> linkState(sites.a()).equals("down"));
      sites.restart(sites.b());
      sites.awaitLinkUp();
      assertThat(sites.b().api().get("/api/v1/status").path("uuid").asText()).isEqualTo(uuidB);
    }
  }

  private static String linkState(SiteProcess site) throws java.io.IOException {
    return site.api()
        .get("/api/v1/peers")
        .get(0)
        .path("link")
        .asText()
        .toLowerCase(java.util.Locale.ROOT);
  }
}
