package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.testkit.IscsiTestCu.Outcome;
import io.duet.testkit.IscsiTestCu.TestResult;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * libiscsi's conformance suite against a Duet site process: every family, 0 failures, and only the
 * skips the README explains; then the ReadOnly suite against a read-only mapping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IscsiConformanceIT {
  /**
   * The skips Duet accepts, each matched against libiscsi's reason: what no disk-like target does
   * (removable media, SANITIZE without its flag), the two-URL multipath tests, the write-protect
   * tests, which {@link #readOnlySuitePassesOnReadOnlyMapping} runs on a read-only mapping instead,
   * and the tests for devices with several logical blocks per physical block (512e disks): a Duet
   * volume's physical block is its logical block.
   */
  private static final List<Pattern> ALLOWED_SKIPS =
      List.of(
          Pattern.compile("(?i)not removable"),
          Pattern.compile("(?i)sanitize"),
          Pattern.compile("(?i)multipath"),
          Pattern.compile("(?i)not write-protected"),
          Pattern.compile("LBPPB < 2"));

  private SiteProcess site;
  private String url;
  private String readOnlyUrl;

  @BeforeAll
  void startSite() throws Exception {
    Path work = Files.createTempDirectory(Path.of("target"), "conformance");
    site = SiteProcess.start(work, "site-a");
    Admin admin = new Admin(site.api());
    admin.createVolume("cu", "1GiB", 512);
    admin.map("cu", "*", 0, null, false);
    admin.createVolume("ro", "64MiB", 512);
    admin.createTarget("iqn.2026-11.io.duet:site-a.ro");
    admin.createHost("libiscsi", null, null, Admin.LIBISCSI_1, Admin.LIBISCSI_2);
    admin.map("ro", "libiscsi", 0, "iqn.2026-11.io.duet:site-a.ro", true);
    InetSocketAddress p = site.portal();
    String base = "iscsi://" + p.getHostString() + ":" + p.getPort() + "/";
    url = base + admin.defaultTarget() + "/0";
    readOnlyUrl = base + "iqn.2026-11.io.duet:site-a.ro/0";
  }

  @AfterAll
  void stopSite() throws Exception {
    if (site != null) {
      site.close();
    }
  }

  @Test
  void allFamiliesPassWithOnlyExplainedSkips() throws Exception {
    IscsiTestCu.Run run =
        IscsiTestCu.run(List.of(url), null, Path.of("target", "iscsi-test-cu-all.log"), 1800);
    System.out.println("iscsi-test-cu: " + run.summary());
    run.with(Outcome.SKIPPED)
        .forEach(t -> System.out.println("  skipped " + t.name() + ": " + t.reason()));
    assertThat(run.tests()).as("tests parsed from %s", run.output()).hasSizeGreaterThan(500);
    assertThat(run.with(Outcome.FAILED)).as("failed tests (output in %s)", run.output()).isEmpty();
    assertThat(unexplainedSkips(run)).as("skips the README does not explain").isEmpty();
  }

  /** The skipped tests whose reason is not one of {@link #ALLOWED_SKIPS}. */
  static List<TestResult> unexplainedSkips(IscsiTestCu.Run run) {
    return run.with(Outcome.SKIPPED).stream()
        .filter(
            t ->
                t.reason() == null
                    || ALLOWED_SKIPS.stream().noneMatch(p -> p.matcher(t.reason()).find()))
        .toList();
  }

  @Test
  void readOnlySuitePassesOnReadOnlyMapping() throws Exception {
    IscsiTestCu.Run run =
        IscsiTestCu.run(
            List.of(readOnlyUrl),
            "ALL.ReadOnly",
            Path.of("target", "iscsi-test-cu-readonly.log"),
            600);
    System.out.println("iscsi-test-cu ReadOnly: " + run.summary());
    assertThat(run.tests()).as("ReadOnly tests parsed from %s", run.output()).isNotEmpty();
    assertThat(run.with(Outcome.FAILED)).as("failed (output in %s)", run.output()).isEmpty();
    assertThat(run.with(Outcome.PASSED)).as("ReadOnly tests that really ran").isNotEmpty();
  }
}
