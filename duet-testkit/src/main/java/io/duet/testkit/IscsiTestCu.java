package io.duet.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs libiscsi's conformance suite {@code iscsi-test-cu} against one or more iSCSI URLs and reads
 * its verbose output back into per-test outcomes, so a test can assert "0 failed" and list exactly
 * which tests were skipped and why.
 */
public final class IscsiTestCu {
  /** How one conformance test ended. */
  public enum Outcome {
    PASSED,
    SKIPPED,
    FAILED
  }

  /**
   * One test: {@code Suite.Test}, its outcome and, for skipped or failed tests, the first
   * explanatory line libiscsi printed.
   */
  public record TestResult(String name, Outcome outcome, String reason) {}

  /** The whole run: every test in order, plus the raw output file. */
  public record Run(List<TestResult> tests, Path output, int exitCode) {
    public List<TestResult> with(Outcome outcome) {
      return tests.stream().filter(t -> t.outcome == outcome).toList();
    }

    public String summary() {
      return String.format(
          "%d tests: %d passed, %d failed, %d skipped",
          tests.size(),
          with(Outcome.PASSED).size(),
          with(Outcome.FAILED).size(),
          with(Outcome.SKIPPED).size());
    }
  }

  private static final Pattern SUITE = Pattern.compile("^Suite: (\\S+)");
  private static final Pattern TEST = Pattern.compile("^\\s+Test: (\\S+) \\.\\.\\.");

  private IscsiTestCu() {}

  /**
   * Runs {@code iscsi-test-cu -d -V [-t TESTS] URL...} and parses its output.
   *
   * @param tests a test spec ({@code ALL}, {@code ALL.ReadOnly}, {@code ALL.Read10.*}) or null
   * @param output where the full output is written, for the failure message and CI logs
   */
  public static Run run(List<String> urls, String tests, Path output, long timeoutSeconds)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("iscsi-test-cu", "-d", "-V"));
    if (tests != null) {
      cmd.add("-t");
      cmd.add(tests);
    }
    cmd.addAll(urls);
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(
          "iscsi-test-cu did not finish within " + timeoutSeconds + " s; output in " + output);
    }
    return new Run(parse(Files.readAllLines(output)), output, p.exitValue());
  }

  /** Parses iscsi-test-cu's verbose CUnit output. */
  public static List<TestResult> parse(List<String> lines) {
    // The default run covers the families ALL, SCSI, LINUX and iSCSI, which share suites, so a
    // test name can appear several times; every run of it counts.
    List<TestResult> results = new ArrayList<>();
    String suite = "?";
    String test = null;
    String skipReason = null;
    String failReason = null;
    for (String line : lines) {
      Matcher m = SUITE.matcher(line);
      if (m.find()) {
        suite = m.group(1);
        continue;
      }
      m = TEST.matcher(line);
      if (m.find()) {
        test = suite + "." + m.group(1);
        skipReason = null;
        failReason = null;
      }
      if (test == null) {
        continue;
      }
      int skip = line.indexOf("[SKIPPED]");
      if (skip >= 0 && skipReason == null) {
        skipReason = line.substring(skip + 9).trim();
      }
      int fail = line.indexOf("[FAILED]");
      if (fail >= 0 && failReason == null) {
        failReason = line.substring(fail + 8).trim();
      }
      String trimmed = line.stripLeading();
      if (line.startsWith("passed") || trimmed.startsWith("passed") && line.contains("Test:")) {
        Outcome o = skipReason != null ? Outcome.SKIPPED : Outcome.PASSED;
        results.add(new TestResult(test, o, skipReason));
        test = null;
      } else if (line.startsWith("FAILED") || line.endsWith("FAILED") && line.contains("Test:")) {
        results.add(
            new TestResult(test, Outcome.FAILED, failReason == null ? "see output" : failReason));
        test = null;
      }
    }
    return results;
  }
}
