package io.duet.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs the CLI in this JVM with captured stdout/stderr and a given environment. */
record CliRun(int exit, String out, String err) {
  static CliRun run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        DuetCli.run(new DuetCli(env, new PrintWriter(out, true), new PrintWriter(err, true)), args);
    return new CliRun(code, out.toString(), err.toString());
  }

  /** Runs {@code args} and checks they are a usage error: exit 2, one "duet: " line, no output. */
  static void assertUsageError(Map<String, String> env, String... args) {
    CliRun r = run(env, args);
    String what = String.join(" ", args);
    org.assertj.core.api.Assertions.assertThat(r.exit()).as(what).isEqualTo(2);
    org.assertj.core.api.Assertions.assertThat(r.err().strip().lines()).as(what).hasSize(1);
    org.assertj.core.api.Assertions.assertThat(r.err()).as(what).startsWith("duet: ");
    org.assertj.core.api.Assertions.assertThat(r.out()).as(what).isEmpty();
  }

  static CliRun run(String... args) {
    return run(Map.of(), args);
  }
}
