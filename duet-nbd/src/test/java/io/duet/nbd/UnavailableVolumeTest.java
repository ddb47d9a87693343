package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.ForwardingVolume;
import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import io.duet.store.VolumeUnavailableException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A volume this site must not serve: EIO per request, the connection stays, one log per turn. */
class UnavailableVolumeTest {
  @TempDir Path dir;
  private VolumeStore store;
  private Switchable volume;
  private NbdServer server;
  private int port;

  /**
   * A volume that throws VolumeUnavailableException while switched off, as a stale replica does.
   */
  static final class Switchable extends ForwardingVolume {
    volatile boolean off;

    Switchable(LocalVolume delegate) {
      super(delegate);
    }

    private void check() throws VolumeUnavailableException {
      if (off) {
        throw new VolumeUnavailableException("site is stale");
      }
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      check();
      super.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
      check();
      super.write(offset, src, fua);
    }

    @Override
    public void flush() throws IOException {
      check();
      super.flush();
    }
  }

  @BeforeEach
  void start() throws Exception {
    store = VolumeStore.open(dir);
    volume = new Switchable(store.create("vol", 1 << 20, 512));
    server = new NbdServer(new TestExports().add("vol", volume, false), NbdSettings.defaults());
    port = server.listen(new InetSocketAddress("127.0.0.1", 0)).getPort();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    store.close();
  }

  @Test
  void requestsGetEioAndTheConnectionServesAgainOnceAvailable() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", false)) {
      volume.off = true;
      c.request(0, Nbd.CMD_WRITE, 1, 0, 512, new byte[512]);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EIO);
      c.request(0, Nbd.CMD_READ, 2, 0, 512, null);
      assertThat(c.reply(512).error()).isEqualTo(Nbd.EIO);
      c.request(0, Nbd.CMD_FLUSH, 3, 0, 0, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EIO);

      volume.off = false;
      byte[] data = new byte[512];
      data[7] = 42;
      c.request(0, Nbd.CMD_WRITE, 4, 0, 512, data);
      assertThat(c.reply(0).error()).isZero();
      c.request(0, Nbd.CMD_READ, 5, 0, 512, null);
      RawClient.Reply r = c.reply(512);
      assertThat(r.error()).isZero();
      assertThat(r.payload()).isEqualTo(data);
    }
  }

  @Test
  void eachTurnIsLoggedOnceWhateverTheNumberOfRequests() {
    AvailabilityLog log = new AvailabilityLog();
    var e = new VolumeUnavailableException("stale");
    assertThat(log.served(volume, "vol")).isFalse();
    assertThat(log.unavailable(volume, "vol", e)).isTrue();
    for (int i = 0; i < 100; i++) {
      assertThat(log.unavailable(volume, "vol", e)).isFalse();
    }
    assertThat(log.served(volume, "vol")).isTrue();
    assertThat(log.served(volume, "vol")).isFalse();
    assertThat(log.unavailable(volume, "vol", e)).isTrue();
  }

  @Test
  void volumesTurnIndependently() {
    AvailabilityLog log = new AvailabilityLog();
    var other = new Switchable(store.get("vol").orElseThrow());
    var e = new VolumeUnavailableException("stale");
    assertThat(log.unavailable(volume, "vol", e)).isTrue();
    assertThat(log.unavailable(other, "other", e)).isTrue();
    assertThat(log.served(other, "other")).isTrue();
    assertThat(log.unavailable(volume, "vol", e)).isFalse();
  }
}
