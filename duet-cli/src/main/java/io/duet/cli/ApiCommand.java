package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A verb that talks to a site's API: gives access to the global options and output helpers. */
abstract class ApiCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  DuetCli cli() {
    return (DuetCli) spec.root().userObject();
  }

  ApiClient api() throws IOException {
    return cli().client();
  }

  PrintWriter out() {
    return cli().out();
  }

  /** Prints {@code node} raw with --json, otherwise through {@code human}. */
  int show(JsonNode node, Printer human) throws IOException {
    if (cli().json()) {
      cli().printJson(node);
    } else {
      human.print(node);
      out().flush();
    }
    return 0;
  }

  /** Prints a one-line confirmation, or {@code {"ok":true,...}} JSON with --json. */
  int done(String message) throws IOException {
    if (cli().json()) {
      cli().printJson(cli().mapper().createObjectNode().put("ok", true).put("message", message));
    } else {
      out().println(message);
      out().flush();
    }
    return 0;
  }

  static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? "-" : v.asText();
  }

  /** Human rendering of an API answer. */
  @FunctionalInterface
  interface Printer {
    void print(JsonNode node) throws IOException;
  }
}
