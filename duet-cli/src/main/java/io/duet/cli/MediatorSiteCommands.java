package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.node.config.HostPort;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code duet mediator add|show|remove}: the mediator a site uses, through the site's API. Each
 * site is configured on its own. The password is read from a file or standard input, never taken on
 * the command line (where {@code ps} and shell histories would show it).
 */
final class MediatorSiteCommands {
  /** A CA certificate is a few KiB; refuse to send anything far larger. */
  static final long MAX_CA_CERT_BYTES = 64 << 10;

  private MediatorSiteCommands() {}

  @Command(
      name = "add",
      description =
          "Use a mediator at this site (run it at both sites): checks that it answers and accepts"
              + " the user, then every consistency group uses it for automatic failover. The"
              + " password comes from --password-file or standard input.",
      mixinStandardHelpOptions = true)
  static final class Add extends ApiCommand {
    @Option(
        names = "--address",
        required = true,
        paramLabel = "HOST:PORT",
        description = "the mediator's HTTPS address")
    String address;

    @Option(
        names = "--ca-cert",
        required = true,
        paramLabel = "FILE",
        description = "the mediator's CA certificate (ca.crt in its data directory)")
    Path caCert;

    @Option(
        names = "--user",
        required = true,
        paramLabel = "NAME",
        description = "the mediator user this site logs in as")
    String user;

    @Option(
        names = "--password-file",
        paramLabel = "FILE",
        description = "a file whose first line is the password (default: standard input)")
    Path passwordFile;

    @Override
    public Integer call() throws IOException {
      try {
        HostPort hp = HostPort.parse(address);
        if (hp.port() == 0) {
          throw new IllegalArgumentException("port 0 is not a mediator's port");
        }
      } catch (IllegalArgumentException e) {
        throw new UsageError("--address: " + e.getMessage());
      }
      if (user.isBlank()) {
        throw new UsageError("--user: empty user name");
      }
      String pem = caCert(caCert);
      String password =
          passwordFile != null ? passwordFromFile(passwordFile) : passwordFromStdin(System.in);
      ObjectNode body =
          cli()
              .mapper()
              .createObjectNode()
              .put("address", address)
              .put("caCert", pem)
              .put("user", user)
              .put("password", password);
      return show(
          api().put("/mediator", body),
          n -> {
            out().println("mediator " + n.path("url").asText() + " configured at this site");
            print(out(), n);
            out()
                .println(
                    "configure the other site too: duet mediator add --address "
                        + address
                        + " --ca-cert ... --user ...");
          });
    }
  }

  @Command(
      name = "show",
      description = "Show the mediator this site uses and whether it answers.",
      mixinStandardHelpOptions = true)
  static final class Show extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(api().get("/mediator"), n -> print(out(), n));
    }
  }

  @Command(
      name = "remove",
      description =
          "Stop using the mediator at this site: automatic failover is off (a lost leader then"
              + " needs 'duet cg failover --force').",
      mixinStandardHelpOptions = true)
  static final class Remove extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      api().delete("/mediator");
      return done("mediator removed at this site; automatic failover is off");
    }
  }

  static void print(PrintWriter out, JsonNode n) {
    if (!n.path("configured").asBoolean()) {
      out.println("no mediator configured (add one with: duet mediator add)");
      out.flush();
      return;
    }
    Table t = new Table("FIELD", "VALUE");
    t.row("address", n.path("address").asText())
        .row("url", n.path("url").asText())
        .row("user", n.path("user").asText())
        .row("ca", n.path("caCertSubject").asText())
        .row("ca sha-256", n.path("caCertSha256").asText())
        .row("connected", connected(n));
    t.print(out);
  }

  /** "yes (last answer at T)", or "no: the last error". */
  static String connected(JsonNode n) {
    if (n.path("connected").asBoolean()) {
      String last = n.path("lastContact").asText();
      return last.isEmpty() ? "yes" : "yes (last answer " + last + ")";
    }
    String err = n.path("lastError").asText();
    return err.isEmpty() ? "no" : "no: " + err;
  }

  static String caCert(Path file) throws IOException {
    try {
      if (Files.size(file) > MAX_CA_CERT_BYTES) {
        throw new UsageError(
            "--ca-cert: "
                + file
                + " is larger than "
                + MAX_CA_CERT_BYTES
                + " bytes: not a CA cert");
      }
      String pem = Files.readString(file, StandardCharsets.US_ASCII);
      if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
        throw new UsageError(
            "--ca-cert: "
                + file
                + " is not a PEM certificate (give the mediator's ca.crt from its data directory)");
      }
      return pem;
    } catch (NoSuchFileException e) {
      throw new UsageError("--ca-cert: no such file: " + file);
    } catch (java.nio.charset.MalformedInputException e) {
      throw new UsageError("--ca-cert: " + file + " is not a PEM text file");
    } catch (IOException e) {
      throw new UsageError("--ca-cert: cannot read " + file + ": " + e.getMessage());
    }
  }

  static String passwordFromFile(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new UsageError("--password-file: no such file: " + file);
    } catch (IOException e) {
      throw new UsageError("--password-file: cannot read " + file + ": " + e.getMessage());
    }
    String first = text.lines().findFirst().orElse("");
    if (first.isEmpty()) {
      throw new UsageError("--password-file: " + file + " is empty");
    }
    return first;
  }

  /** Prompts on a terminal (without echo); otherwise reads the first line of standard input. */
  static String passwordFromStdin(InputStream in) throws IOException {
    Console console = System.console();
    String password;
    if (console != null && console.isTerminal()) {
      char[] typed = console.readPassword("mediator password: ");
      password = typed == null ? null : new String(typed);
    } else {
      password = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
    }
    if (password == null || password.isEmpty()) {
      throw new UsageError(
          "no password: give --password-file FILE or the password on standard input");
    }
    return password;
  }
}
