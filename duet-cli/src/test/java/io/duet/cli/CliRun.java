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

  static CliRun run(String... args) {
    return run(Map.of(), args);
  }
}
