package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.testkit.IscsiTestCu.Outcome;
import io.duet.testkit.IscsiTestCu.TestResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The conformance driver reads libiscsi's verbose output correctly (sample from a real run). */
class IscsiTestCuParseTest {
  private static List<String> sample() throws Exception {
    try (var in = IscsiTestCuParseTest.class.getResourceAsStream("/iscsi-test-cu-sample.txt")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  @Test
  void readsPassedSkippedAndFailedTests() throws Exception {
    List<TestResult> results = IscsiTestCu.parse(sample());
    assertThat(results)
        .extracting(TestResult::name)
        .startsWith("CompareAndWrite.Simple", "CompareAndWrite.DpoFua");
    assertThat(results)
        .filteredOn(t -> t.outcome() == Outcome.FAILED)
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.name()).isEqualTo("GetLBAStatus.BeyondEol");
              assertThat(t.reason()).contains("LBA_OUT_OF_RANGE");
            });
    assertThat(results)
        .filteredOn(t -> t.outcome() == Outcome.PASSED)
        .extracting(TestResult::name)
        .containsExactly("GetLBAStatus.Simple");
    assertThat(results)
        .filteredOn(t -> t.name().equals("CompareAndWrite.InvalidDataOutSize"))
        .singleElement()
        .satisfies(
            t ->
                assertThat(t.reason())
                    .isEqualTo("Logical unit is fully provisioned. Skipping test"));
  }

  @Test
  void aTestWithoutAnEndMarkerIsNotCounted() {
    List<TestResult> results =
        IscsiTestCu.parse(List.of("Suite: A", "  Test: X ...", "    Send TUR"));
    assertThat(results).isEmpty();
  }
}
