package io.duet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.mediator.MediatorConfig;
import io.duet.mediator.MediatorServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code duet mediator run}, {@code duet mediator user} and {@code duet mediator restored}: the
 * third-site mediator process; {@code duet mediator add|show|remove}: the mediator a site uses
 * ({@link MediatorSiteCommands}).
 */
@Command(
    name = "mediator",
    description =
        "Run the mediator (the third-site witness) or manage its users; add, show or remove the"
            + " mediator a site uses.",
    mixinStandardHelpOptions = true,
    subcommands = {
      MediatorCommand.Run.class,
      MediatorCommand.User.class,
      MediatorCommand.Restored.class,
      MediatorSiteCommands.Add.class,
      MediatorSiteCommands.Show.class,
      MediatorSiteCommands.Remove.class
    })
final class MediatorCommand extends GroupCommand {

  /**
   * Starts the mediator and runs until SIGTERM/SIGINT. Once it listens it prints one line {@code
   * {"event":"ready","mediator":{"api":URL,"caCert":FILE,...}}} on stdout; logs go to stderr.
   */
  @Command(
      name = "run",
      description =
          "Run the mediator from --config FILE, or from --data-dir DIR [--listen HOST:PORT].",
      mixinStandardHelpOptions = true)
  static final class Run implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "the mediator.yaml")
    Path config;

    @Option(
        names = "--listen",
        paramLabel = "HOST:PORT",
        description = "HTTPS address (overrides the config; default 127.0.0.1:7090, port 0 = any)")
    String listen;

    @Option(
        names = "--stop-on-stdin-eof",
        description = "stop when standard input closes (for a parent process such as duet demo)")
    boolean stopOnStdinEof;

    @Override
    public Integer call() throws IOException, InterruptedException {
      DuetCli cli = (DuetCli) spec.root().userObject();
      MediatorConfig cfg = config(cli);
      MediatorServer server;
      try {
        server = MediatorServer.start(cfg);
      } catch (IOException | RuntimeException e) {
        throw new IOException("cannot start the mediator: " + e.getMessage(), e);
      }
      Running running = new Running(cli.out());
      ObjectNode ready = cli.mapper().createObjectNode().put("event", "ready");
      ObjectNode m =
          ready
              .putObject("mediator")
              .put("api", server.url())
              .put("caCert", server.caCertificateFile().toString())
              .put("dataDir", cfg.dataDir().toString());
      // Only when the mediator created its first user (it had none): users made with 'duet
      // mediator user' before the first start replace it.
      if (Files.exists(server.initialPasswordFile())) {
        m.put("user", MediatorServer.INITIAL_USER)
            .put("passwordFile", server.initialPasswordFile().toString());
      }
      running.line(ready);
      if (stopOnStdinEof) {
        Running.exitOnEndOfInput(System.in);
      }
      Running.runUntilStopped(server::close, null);
      return 0;
    }

    private MediatorConfig config(DuetCli cli) throws IOException {
      MediatorConfig cfg;
      if (config != null) {
        try {
          cfg = MediatorConfig.load(config);
        } catch (IOException e) {
          throw new UsageError(e.getMessage());
        }
      } else if (cli.dataDir() != null) {
        cfg = MediatorConfig.defaults(cli.dataDir());
      } else {
        throw new UsageError("give --config FILE or --data-dir DIR");
      }
      if (listen != null) {
        int colon = listen.lastIndexOf(':');
        try {
          cfg =
              cfg.withListen(
                  listen.substring(0, colon).replace("[", "").replace("]", ""),
                  Integer.parseInt(listen.substring(colon + 1)));
        } catch (RuntimeException e) {
          throw new UsageError("--listen must be HOST:PORT, got '" + listen + "'");
        }
      }
      return cfg;
    }
  }

  /** The command line's root, which must name the mediator's --data-dir for this command. */
  private static DuetCli withDataDir(CommandSpec spec) {
    DuetCli cli = (DuetCli) spec.root().userObject();
    if (cli.dataDir() == null) {
      throw new UsageError("give the mediator's --data-dir DIR");
    }
    return cli;
  }

  /**
   * After the data directory was restored from a backup: see {@link
   * MediatorServer#restoredFromBackup}.
   */
  @Command(
      name = "restored",
      description = {
        "Tell a stopped mediator's --data-dir DIR that it was restored from a backup, before it"
            + " runs again.",
        "Its records may lag what the sites did since: each decides nothing until both of its"
            + " sites have reported their epochs, so a site that missed a takeover is never made"
            + " the survivor."
      },
      mixinStandardHelpOptions = true)
  static final class Restored implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      DuetCli cli = withDataDir(spec);
      int n = MediatorServer.restoredFromBackup(cli.dataDir());
      cli.out()
          .println(
              n
                  + " record"
                  + (n == 1 ? "" : "s")
                  + " now wait for both sites to report their epochs before deciding anything");
      return 0;
    }
  }

  /**
   * Sets a user's password (read from stdin) in a mediator's data directory, or binds or frees the
   * site a user (or client certificate) acts for. Passwords may change while the mediator runs (it
   * reads them at its next start); bindings only while it is stopped, since the running mediator
   * owns them (it refuses the change otherwise, instead of undoing it later).
   */
  @Command(
      name = "user",
      description = {
        "Create a mediator user or change its password (read from standard input), in --data-dir"
            + " DIR; restart the mediator afterwards.",
        "A user acts for one site only: the site its first request names, or the one given with"
            + " --site. With the mediator stopped, --unbind frees it (e.g. to use it at another"
            + " site) and --site binds it ahead of its first request."
      },
      mixinStandardHelpOptions = true)
  static final class User implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        index = "0",
        paramLabel = "NAME",
        description = "the user name (with --certificate: a client certificate's subject)")
    String name;

    @Option(
        names = "--site",
        paramLabel = "UUID",
        description = "bind NAME to this site (its uuid, as 'duet status' at that site shows it)")
    UUID site;

    @Option(names = "--unbind", description = "free NAME from the site it acts for")
    boolean unbind;

    @Option(
        names = "--certificate",
        description =
            "NAME is the subject of a client certificate, as the mediator's refusal quotes it"
                + " (with --site or --unbind)")
    boolean certificate;

    @Override
    public Integer call() throws IOException {
      DuetCli cli = withDataDir(spec);
      if (site != null && unbind) {
        throw new UsageError("give --site UUID or --unbind, not both");
      }
      String who = (certificate ? "client certificate '" : "user '") + name + "'";
      if (unbind) {
        Optional<UUID> was = MediatorServer.unbind(cli.dataDir(), name, certificate);
        cli.out()
            .println(
                was.map(
                        s ->
                            who
                                + " no longer acts for site "
                                + s
                                + "; its next request binds it to the site it names")
                    .orElse(who + " acted for no site"));
        return 0;
      }
      if (site != null) {
        MediatorServer.bind(cli.dataDir(), name, certificate, site);
        cli.out().println(who + " acts for site " + site);
        return 0;
      }
      if (certificate) {
        throw new UsageError(
            "--certificate goes with --site or --unbind (certificates have no password)");
      }
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String password = in.readLine();
      if (password == null || password.isEmpty()) {
        throw new UsageError("no password on standard input");
      }
      MediatorServer.setPassword(cli.dataDir(), name, password.toCharArray());
      cli.out().println("user " + name + " set");
      return 0;
    }
  }
}
