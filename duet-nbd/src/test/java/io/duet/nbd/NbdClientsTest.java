package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server against real clients: libnbd's nbdinfo/nbdcopy, qemu-img/qemu-io and fio. */
class NbdClientsTest {
  static final long SIZE = 64L << 20;

  @TempDir Path dir;
  private VolumeStore store;
  private LocalVolume volume;
  private NbdServer server;
  private String uri;
  private int port;

  @BeforeEach
  void start() throws Exception {
    store = VolumeStore.open(dir.resolve("store"));
    volume = store.create("vol", SIZE, 512);
    LocalVolume ro = store.create("ro", 1L << 20, 4096);
    server =
        new NbdServer(
            new TestExports().add("vol", volume, false).add("ro", ro, true),
            NbdSettings.defaults());
    port = server.listen(new InetSocketAddress("127.0.0.1", 0)).getPort();
    uri = "nbd://127.0.0.1:" + port + "/vol";
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    store.close();
  }

  private Path randomFile(String name, long bytes, long seed) throws IOException {
    byte[] data = new byte[(int) bytes];
    new Random(seed).nextBytes(data);
    Path f = dir.resolve(name);
    Files.write(f, data);
    return f;
  }

  @Test
  void nbdinfoShowsSizeFlagsAndExports() throws Exception {
    assumeTrue(Tools.installed("nbdinfo"));
    String out = Tools.ok("nbdinfo", "--json", uri);
    assertThat(out)
        .contains("\"export-size\": " + SIZE)
        .contains("\"can_multi_conn\": true")
        .contains("\"can_fast_zero\": true")
        .contains("\"block_size_maximum\": 33554432")
        .contains("base:allocation");
    assertThat(Tools.ok("nbdinfo", "--json", "nbd://127.0.0.1:" + port + "/ro"))
        .contains("\"is_read_only\": true");
    assertThat(Tools.ok("nbdinfo", "--list", "nbd://127.0.0.1:" + port))
        .contains("export=\"vol\"")
        .contains("export=\"ro\"");
  }

  @Test
  void nbdcopyInAndOutKeepsTheBytes() throws Exception {
    assumeTrue(Tools.installed("nbdcopy"));
    Path in = randomFile("in.img", SIZE, 1);
    Tools.ok("nbdcopy", "--connections=4", in.toString(), uri);
    Path out = dir.resolve("out.img");
    Tools.ok("nbdcopy", "--connections=4", uri, out.toString());
    assertThat(Files.mismatch(in, out)).isEqualTo(-1);
  }

  @Test
  void qemuImgConvertCompareAndMapShowHolesAfterTrim() throws Exception {
    assumeTrue(Tools.installed("qemu-img") && Tools.installed("qemu-io"));
    Path in = randomFile("in.img", SIZE, 2);
    Tools.ok("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in.toString(), uri);
    assertThat(Tools.ok("qemu-img", "compare", "-f", "raw", "-F", "raw", in.toString(), uri))
        .contains("identical");
    Tools.ok("qemu-io", "-f", "raw", "-c", "discard 16M 8M", uri);
    String map = Tools.ok("qemu-img", "map", "--output=json", "-f", "raw", uri);
    assertThat(map).contains("\"start\": 16777216, \"length\": 8388608").contains("\"zero\": true");
    assertThat(Tools.ok("nbdinfo", "--map", uri)).contains("hole,zero");
    Path back = dir.resolve("back.img");
    Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "raw", uri, back.toString());
    byte[] expected = Files.readAllBytes(in);
    java.util.Arrays.fill(expected, 16 << 20, 24 << 20, (byte) 0);
    assertThat(Files.mismatch(back, writeAll("expected.img", expected))).isEqualTo(-1);
  }

  private Path writeAll(String name, byte[] data) throws IOException {
    return Files.write(dir.resolve(name), data);
  }

  @Test
  void fioRandomWritesOverSeveralConnectionsVerify() throws Exception {
    assumeTrue(Tools.installed("fio"));
    Tools.Result r =
        Tools.run(
            List.of(
                "fio",
                "--name=nbd-verify",
                "--ioengine=nbd",
                "--uri=" + uri,
                "--rw=randwrite",
                "--bs=4k",
                "--size=8m",
                "--offset_increment=8m",
                "--numjobs=4",
                "--iodepth=16",
                "--verify=crc32c",
                "--verify_state_save=0",
                "--do_verify=1",
                "--group_reporting"));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).doesNotContain("verify failed").contains("nbd-verify");
  }

  @Test
  void mutualTlsWithNbdinfo() throws Exception {
    assumeTrue(Tools.installed("nbdinfo") && Tools.installed("openssl"));
    Path pki = Files.createDirectories(dir.resolve("pki"));
    TestCertificates.create(pki);
    var ctx =
        NbdTls.fromPem(
            pki.resolve("server-cert.pem"),
            pki.resolve("server-key.pem"),
            Optional.of(pki.resolve("ca-cert.pem")));
    try (NbdServer tls =
        new NbdServer(
            new TestExports().add("vol", volume, false),
            NbdSettings.defaults().withTls(ctx, true, true))) {
      int tlsPort = tls.listen(new InetSocketAddress("127.0.0.1", 0)).getPort();
      String nbds = "nbds://127.0.0.1:" + tlsPort + "/vol";
      // libnbd presents client-cert.pem/client-key.pem from the directory and checks the server
      // against ca-cert.pem.
      String out = Tools.ok("nbdinfo", nbds + "?tls-certificates=" + pki);
      assertThat(out).contains("TLS").contains("export-size: " + SIZE);
      // Without a client certificate the handshake fails.
      Path caOnly = Files.createDirectories(dir.resolve("ca-only"));
      Files.copy(pki.resolve("ca-cert.pem"), caOnly.resolve("ca-cert.pem"));
      assertThat(Tools.run(List.of("nbdinfo", nbds + "?tls-certificates=" + caOnly)).exit())
          .isNotZero();
      // Plain NBD to a TLS-only server is refused.
      Tools.Result plain = Tools.run(List.of("nbdinfo", "nbd://127.0.0.1:" + tlsPort + "/vol"));
      assertThat(plain.exit()).isNotZero();
      assertThat(plain.output()).containsIgnoringCase("tls");
    }
  }
}
