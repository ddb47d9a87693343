package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server against real clients: libnbd's nbdinfo/nbdcopy, qemu-img and fio. */
class NbdClientsTest {
  @TempDir Path dir;
  private VolumeStore store;
  private LocalVolume volume;
  private NbdServer server;
  private String uri;
  private int port;

  @BeforeEach
  void start() throws Exception {
    store = VolumeStore.open(dir.resolve("store"));
    volume = store.create("vol", 64L << 20, 512);
    LocalVolume ro = store.create("ro", 1L << 20, 4096);
    server = new NbdServer(new TestExports().add("vol", volume, false).add("ro", ro, true),
        NbdSettings.defaults());
    port = server.listen(new InetSocketAddress("127.0.0.1", 0)).getPort();
    uri = "nbd://127.0.0.1:" + port + "/vol";
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    store.close();
  }

  @Test
  void nbdinfoShowsSizeAndFlags() throws Exception {
    assumeTrue(Tools.installed("nbdinfo"));
    String out = Tools.ok("nbdinfo", "--json", uri);
    System.out.println(out);
    assertThat(out).contains("\"export-size\": " + (64L << 20));
  }
}
