package io.duet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeFileTest {
  @TempDir Path dir;

  @Test
  void failuresCarryErrnoAndTheFile() throws Exception {
    Path f = dir.resolve("f");
    Files.createFile(f);
    try (NativeFile file = NativeFile.open(f)) {
      file.ftruncate(1 << 20);
      assertThat(Files.size(f)).isEqualTo(1 << 20);
      // Linux refuses a punch that might change the size: EOPNOTSUPP, which callers treat as
      // "not supported here" and fall back from.
      assertThatThrownBy(() -> file.fallocate(NativeFile.FALLOC_FL_PUNCH_HOLE, 0, 4096))
          .isInstanceOfSatisfying(
              NativeIoException.class, e -> assertThat(e.unsupported()).isTrue())
          .hasMessageContaining("EOPNOTSUPP")
          .hasMessageContaining(f.toString());
      assertThatThrownBy(() -> file.fallocate(0, 0, -1))
          .isInstanceOfSatisfying(NativeIoException.class, e -> assertThat(e.errno()).isEqualTo(22))
          .hasMessageContaining("EINVAL");
      assertThatThrownBy(() -> file.ftruncate(-1)).isInstanceOf(NativeIoException.class);
      assertThat(file.seek(0, NativeFile.SEEK_DATA)).isEqualTo(-1); // all hole: ENXIO
      assertThat(file.seek(0, NativeFile.SEEK_HOLE)).isZero();
      assertThat(file.seek(2 << 20, NativeFile.SEEK_HOLE)).isEqualTo(-1); // past EOF
    }
  }

  @Test
  void missingFileAndUseAfterClose() throws Exception {
    assertThatThrownBy(() -> NativeFile.open(dir.resolve("absent")))
        .isInstanceOf(NativeIoException.class)
        .hasMessageContaining("ENOENT");
    Path f = dir.resolve("f");
    Files.createFile(f);
    NativeFile file = NativeFile.open(f);
    file.close();
    file.close();
    assertThatThrownBy(() -> file.seek(0, NativeFile.SEEK_DATA))
        .isInstanceOf(ClosedChannelException.class);
  }

  @Test
  void virtualThreadCallersGetTheSameResultsAndErrors() throws Exception {
    Path f = dir.resolve("f");
    Files.createFile(f);
    try (NativeFile file = NativeFile.open(f);
        var exec = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      file.ftruncate(1 << 20);
      exec.submit(
              () -> {
                file.fallocate(0, 0, 65536);
                return null;
              })
          .get();
      // reserved as unwritten extents: visible in the block count, not to SEEK_DATA
      assertThat(LocalVolumeTest.allocatedSectors(f)).isGreaterThanOrEqualTo(65536 / 512);
      var failed =
          exec.submit(
              () -> {
                Thread.currentThread().interrupt();
                try {
                  file.fallocate(0, 0, -1);
                  return null;
                } finally {
                  assertThat(Thread.interrupted()).isTrue(); // interrupt status kept
                }
              });
      assertThatThrownBy(failed::get)
          .hasCauseInstanceOf(NativeIoException.class)
          .hasMessageContaining("EINVAL");
    }
  }
}
