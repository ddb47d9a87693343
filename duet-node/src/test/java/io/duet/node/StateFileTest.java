package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged state file stops the site with a message naming the file, never with a guess. */
class StateFileTest {
  @TempDir Path dir;

  @Test
  void garbageStateFileIsRefusedClearly() throws IOException {
    Path file = dir.resolve(Node.STATE_FILE);
    Random random = new Random(99);
    for (int i = 0; i < 50; i++) {
      byte[] junk = new byte[random.nextInt(300)];
      random.nextBytes(junk);
      Files.write(file, junk);
      assertThatThrownBy(() -> StateStore.open(file, Json.mapper(), "ACTIVE_OPTIMIZED"))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(Node.STATE_FILE);
    }
  }

  @Test
  void wellFramedButWrongJsonIsRefusedClearly() throws IOException {
    Path file = dir.resolve(Node.STATE_FILE);
    for (String body :
        new String[] {
          "{",
          "[]",
          "{\"version\":1}",
          "{\"version\":2,\"siteUuid\":\"u\",\"aluaState\":\"STANDBY\"}",
          "{\"version\":1,\"siteUuid\":\"u\",\"aluaState\":\"STANDBY\",\"extra\":1}"
        }) {
      AtomicFile.write(file, body.getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> StateStore.open(file, Json.mapper(), "ACTIVE_OPTIMIZED"))
          .as(body)
          .isInstanceOf(IOException.class)
          .hasMessageContaining(Node.STATE_FILE);
    }
  }

  @Test
  void freshStateIsSavedAndReloaded() throws IOException {
    Path file = dir.resolve(Node.STATE_FILE);
    StateStore a = StateStore.open(file, Json.mapper(), "ACTIVE_OPTIMIZED");
    a.update(s -> s.withAluaState("STANDBY"));
    StateStore b = StateStore.open(file, Json.mapper(), "ACTIVE_OPTIMIZED");
    assertThat(b.get()).isEqualTo(a.get());
    assertThat(b.get().aluaState()).isEqualTo("STANDBY");
  }
}
