package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.testkit.IscsiTestCu.Outcome;
import io.duet.testkit.IscsiTestCu.TestResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * libiscsi's conformance suite against a volume replicated active/active between two site
 * processes: the MultipathIO suite with one path to each site (iscsi-test-cu takes the second path
 * as a second URL), and the whole suite against each site alone with the same explained skips as
 * {@link IscsiConformanceIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultipathIT {
  static final List<String> MULTIPATH_TESTS =
      List.of(
          "MultipathIO.Simple",
          "MultipathIO.Reset",
          "MultipathIO.CompareAndWrite",
          "MultipathIO.CompareAndWriteAsync");

  TwoSites sites;
  String urlA;
  String urlB;

  @BeforeAll
  void replicatedLun() throws Exception {
    sites = TwoSites.start(Files.createTempDirectory(Path.of("target"), "multipath"));
    sites.createVolume("cu", "1GiB");
    sites.createCg("mp", List.of("cu"), "1GiB");
    sites.createHost("libiscsi", "all", Admin.LIBISCSI_1, Admin.LIBISCSI_2);
    sites.mapEverywhere("cu", 0);
    urlA = sites.iscsiUrl(sites.a(), 0);
    urlB = sites.iscsiUrl(sites.b(), 0);
  }

  @AfterAll
  void stop() throws Exception {
    if (sites != null) {
      sites.close();
    }
  }

  @Test
  void multipathSuiteWithOnePathToEachSite() throws Exception {
    IscsiTestCu.Run run =
        IscsiTestCu.run(
            List.of(urlA, urlB),
            "ALL.MultipathIO",
            Path.of("target", "iscsi-test-cu-multipath.log"),
            300);
    System.out.println("iscsi-test-cu MultipathIO across sites: " + run.summary());
    assertThat(run.with(Outcome.FAILED)).as("failed (output in %s)", run.output()).isEmpty();
    List<String> passed = run.with(Outcome.PASSED).stream().map(TestResult::name).toList();
    assertThat(passed).as("passed (output in %s)", run.output()).containsAll(MULTIPATH_TESTS);
  }

  @Test
  void wholeSuiteAtSiteA() throws Exception {
    wholeSuite(urlA, "a");
  }

  @Test
  void wholeSuiteAtSiteB() throws Exception {
    wholeSuite(urlB, "b");
  }

  private static void wholeSuite(String url, String site) throws Exception {
    IscsiTestCu.Run run =
        IscsiTestCu.run(
            List.of(url),
            null,
            Path.of("target", "iscsi-test-cu-replicated-" + site + ".log"),
            1800);
    System.out.println("iscsi-test-cu at replicated site " + site + ": " + run.summary());
    assertThat(run.tests()).as("tests parsed from %s", run.output()).hasSizeGreaterThan(500);
    assertThat(run.with(Outcome.FAILED)).as("failed tests (output in %s)", run.output()).isEmpty();
    assertThat(IscsiConformanceIT.unexplainedSkips(run))
        .as("skips the README does not explain (output in %s)", run.output())
        .isEmpty();
  }
}
