package io.duet.node.cg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import io.duet.store.VolumeUnavailableException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotServedVolumeTest {
  @TempDir Path dir;

  @Test
  void keepsIdentityAndRefusesEveryIo() throws Exception {
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume local = store.create("v", 1 << 20, 512);
      NotServedVolume v = new NotServedVolume(local, "group g is not running at site-a");
      assertThat(v.identity()).isEqualTo(local.identity());
      assertThat(v.sizeBytes()).isEqualTo(1 << 20);
      ByteBuffer b = ByteBuffer.allocate(512);
      assertThatThrownBy(() -> v.read(0, b))
          .isInstanceOf(VolumeUnavailableException.class)
          .hasMessageContaining("not running");
      assertThatThrownBy(() -> v.write(0, b, false)).isInstanceOf(VolumeUnavailableException.class);
      assertThatThrownBy(() -> v.writeAtomic(0, b, true))
          .isInstanceOf(VolumeUnavailableException.class);
      assertThatThrownBy(v::flush).isInstanceOf(VolumeUnavailableException.class);
      assertThatThrownBy(() -> v.unmap(0, 512)).isInstanceOf(VolumeUnavailableException.class);
      assertThatThrownBy(() -> v.writeZeroes(0, 512, true))
          .isInstanceOf(VolumeUnavailableException.class);
      assertThatThrownBy(() -> v.compareAndWrite(0, b, b, false))
          .isInstanceOf(VolumeUnavailableException.class);
      assertThatThrownBy(() -> v.allocation(0, 512)).isInstanceOf(VolumeUnavailableException.class);
    }
  }
}
