package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.mediator.LocalMediator;
import io.duet.mediator.MediatorConfig;
import io.duet.mediator.MediatorServer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code duet mediator restored}: after its data directory came back from a backup, every record
 * waits for both sites to report their epochs before it decides anything; refused while the
 * mediator runs.
 */
class MediatorRestoredCliTest {
  @TempDir Path dir;

  @Test
  void aRestoredDirectoryDecidesNothingUntilBothSitesReport() throws Exception {
    Path data = dir.resolve("m");
    UUID group = UUID.randomUUID();
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    LocalMediator before = LocalMediator.open(data, 5000, 2000, System::nanoTime, Instant::now);
    before.register(group, a, b, a, 1);
    before.heartbeat(group, a, 1, a, true);
    before.heartbeat(group, b, 1, a, true);
    assertThat(before.view(group).awaiting()).isEmpty();

    try (MediatorServer running =
        MediatorServer.start(MediatorConfig.defaults(data).withListen("127.0.0.1", 0))) {
      CliRun refused = CliRun.run(Map.of(), "mediator", "restored", "--data-dir", data + "");
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("stop the mediator");
      assertThat(running.url()).startsWith("https://");
    }
    CliRun restored = CliRun.run(Map.of(), "mediator", "restored", "--data-dir", data + "");
    assertThat(restored.exit()).as(restored.err()).isZero();
    assertThat(restored.out()).contains("1 record now wait for both sites to report");

    LocalMediator after = LocalMediator.open(data, 5000, 2000, System::nanoTime, Instant::now);
    assertThat(after.view(group).awaiting()).containsExactlyInAnyOrder(a, b);
    assertThat(after.outOfSync(group, a, 1).granted()).isFalse();
  }

  @Test
  void withoutADataDirectoryItIsAUsageError() {
    CliRun.assertUsageError(Map.of(), "mediator", "restored");
  }
}
