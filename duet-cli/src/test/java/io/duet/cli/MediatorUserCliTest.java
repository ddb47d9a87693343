package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.mediator.MediatorConfig;
import io.duet.mediator.MediatorServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code duet mediator user NAME --site UUID | --unbind}: which site a mediator user acts for,
 * changed in the data directory of a stopped mediator; refused, with the reason, while it runs.
 */
class MediatorUserCliTest {
  @TempDir Path dir;

  CliRun run(String... args) {
    return CliRun.run(Map.of(), args);
  }

  @Test
  void bindAndUnbindOnlyWithTheMediatorStopped() throws Exception {
    Path data = dir.resolve("m");
    String site = UUID.randomUUID().toString();
    try (MediatorServer running =
        MediatorServer.start(MediatorConfig.defaults(data).withListen("127.0.0.1", 0))) {
      CliRun refused = run("mediator", "user", "site-a", "--site", site, "--data-dir", data + "");
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("stop the mediator");
      assertThat(running.url()).startsWith("https://");
    }
    CliRun bound = run("mediator", "user", "site-a", "--site", site, "--data-dir", data + "");
    assertThat(bound.exit()).as(bound.err()).isZero();
    assertThat(bound.out()).contains("user 'site-a' acts for site " + site);

    CliRun taken = run("mediator", "user", "site-b", "--site", site, "--data-dir", data.toString());
    assertThat(taken.exit()).isEqualTo(1);
    assertThat(taken.err()).contains("is bound to user 'site-a'");

    CliRun freed = run("mediator", "user", "site-a", "--unbind", "--data-dir", data.toString());
    assertThat(freed.exit()).as(freed.err()).isZero();
    assertThat(freed.out()).contains("no longer acts for site " + site);
    assertThat(run("mediator", "user", "site-a", "--unbind", "--data-dir", data.toString()).out())
        .contains("acted for no site");

    String subject = "CN=site-b";
    CliRun cert =
        run(
            "mediator",
            "user",
            subject,
            "--certificate",
            "--site",
            site,
            "--data-dir",
            data.toString());
    assertThat(cert.exit()).as(cert.err()).isZero();
    assertThat(cert.out()).contains("client certificate 'CN=site-b' acts for site " + site);
  }

  @Test
  void badCombinationsAreUsageErrors() {
    String d = dir.toString();
    String site = UUID.randomUUID().toString();
    CliRun.assertUsageError(
        Map.of(), "mediator", "user", "x", "--site", site, "--unbind", "--data-dir", d);
    CliRun.assertUsageError(Map.of(), "mediator", "user", "x", "--certificate", "--data-dir", d);
    CliRun.assertUsageError(
        Map.of(), "mediator", "user", "x", "--site", "not-a-uuid", "--data-dir", d);
    CliRun.assertUsageError(Map.of(), "mediator", "user", "x", "--unbind");
  }
}
