package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.duet.node.config.HostPort;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NBD exports through the REST API, their persistence, access control and the volume guard. */
class NbdExportsTest {
  @TempDir Path dir;
  TestSite site;

  @BeforeEach
  void start() throws Exception {
    site = new TestSite(dir);
    site.node.close();
    site.node = Node.start(site.config().withNbd(List.of(new HostPort("127.0.0.1", 0))));
    site.ok("POST", "/api/v1/volumes", "{\"name\":\"v1\",\"size\":\"4MiB\"}");
  }

  @AfterEach
  void stop() {
    site.close();
  }

  private int nbdPort() {
    return site.node.nbdListeners().get(0).port();
  }

  @Test
  void exportListShowAndUnexport() throws Exception {
    JsonNode e = site.ok("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\"}");
    assertThat(e.path("name").asText()).isEqualTo("v1");
    assertThat(e.path("allow").toString()).contains("127.0.0.0/8").contains("::1/128");
    assertThat(e.path("urls").get(0).asText()).isEqualTo("nbd://127.0.0.1:" + nbdPort() + "/v1");
    site.ok(
        "POST",
        "/api/v1/nbd/exports",
        "{\"volume\":\"v1\",\"name\":\"v1-ro\",\"readOnly\":true,\"allow\":[\"10.0.0.0/8\"]}");
    assertThat(site.ok("GET", "/api/v1/nbd/exports", null)).hasSize(2);
    assertThat(site.ok("GET", "/api/v1/nbd/exports/v1-ro", null).path("readOnly").asBoolean())
        .isTrue();
    assertThat(site.ok("GET", "/api/v1/status", null).path("nbd").toString())
        .contains("/v1\"")
        .contains("/v1-ro\"");
    assertThat(site.node.nbdUrls()).hasSize(2);
    site.ok("DELETE", "/api/v1/nbd/exports/v1-ro", null);
    assertThat(site.call("GET", "/api/v1/nbd/exports/v1-ro", null).status()).isEqualTo(404);
    assertThat(site.call("DELETE", "/api/v1/nbd/exports/v1-ro", null).status()).isEqualTo(404);
  }

  @Test
  void badRequestsAreRefusedWithTheRightStatus() throws Exception {
    site.ok("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\"}");
    assertThat(site.call("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\"}").status())
        .isEqualTo(409);
    assertThat(site.call("POST", "/api/v1/nbd/exports", "{\"volume\":\"nope\"}").status())
        .isEqualTo(404);
    assertThat(
            site.call("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\",\"name\":\"a b\"}")
                .status())
        .isEqualTo(400);
    TestSite.Reply badCidr =
        site.call(
            "POST",
            "/api/v1/nbd/exports",
            "{\"volume\":\"v1\",\"name\":\"x\",\"allow\":[\"10.0.0.0/33\"]}");
    assertThat(badCidr.status()).isEqualTo(400);
    assertThat(badCidr.body().path("detail").asText()).contains("prefix length");
    assertThat(site.call("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\",\"x\":1}").status())
        .isEqualTo(400);
  }

  @Test
  void anExportedVolumeIsDeletedOnlyWithForce() throws Exception {
    site.ok("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\"}");
    TestSite.Reply refused = site.call("DELETE", "/api/v1/volumes/v1", null);
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.body().path("detail").asText()).contains("NBD");
    site.ok("DELETE", "/api/v1/volumes/v1?force=true", null);
    assertThat(site.ok("GET", "/api/v1/nbd/exports", null)).isEmpty();
  }

  @Test
  void exportsSurviveARestart() throws Exception {
    site.ok("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\",\"name\":\"kept\"}");
    site.node.close();
    site.node = Node.start(site.config().withNbd(List.of(new HostPort("127.0.0.1", 0))));
    assertThat(site.ok("GET", "/api/v1/nbd/exports", null).get(0).path("name").asText())
        .isEqualTo("kept");
    assertThat(site.node.nbdUrls()).singleElement().asString().endsWith("/kept");
  }

  @Test
  void clientsOutsideTheAllowedNetworksSeeNothing() throws Exception {
    site.ok("POST", "/api/v1/nbd/exports", "{\"volume\":\"v1\",\"allow\":[\"192.0.2.0/24\"]}");
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), nbdPort())) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      in.readNBytes(18);
      out.writeInt(3);
      out.writeLong(0x49484156454F5054L);
      out.writeInt(3); // LIST
      out.writeInt(0);
      out.flush();
      in.readLong();
      in.readInt();
      assertThat(in.readInt()).isEqualTo(1); // straight to ACK: no export listed
    }
  }

  @Test
  void cidrParsingAndMatching() throws Exception {
    Cidr net = Cidr.parse("192.0.2.0/24");
    assertThat(net.contains(InetAddress.getByName("192.0.2.77"))).isTrue();
    assertThat(net.contains(InetAddress.getByName("192.0.3.1"))).isFalse();
    assertThat(net.contains(InetAddress.getByName("::1"))).isFalse();
    assertThat(Cidr.parse("::1/128").contains(InetAddress.getByName("::1"))).isTrue();
    assertThat(Cidr.parse("10.1.2.3").contains(InetAddress.getByName("10.1.2.3"))).isTrue();
    assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("8.8.8.8"))).isTrue();
    assertThat(Cidr.parse("10.1.2.3/9").contains(InetAddress.getByName("10.127.0.1"))).isTrue();
    for (String bad : List.of("", "host.example", "10.0.0.0/33", "10.0.0.0/x", "::1/129", "/8")) {
      assertThatThrownBy(() -> Cidr.parse(bad)).isInstanceOf(AdminException.class);
    }
  }
}
