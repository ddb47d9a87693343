package io.duet.cli;

import io.duet.node.Node;
import io.duet.node.config.ConfigException;
import io.duet.node.config.SiteConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code duet site run --config FILE}. */
@Command(
    name = "site",
    description = "Run a site.",
    mixinStandardHelpOptions = true,
    subcommands = {SiteCommand.Run.class})
final class SiteCommand extends GroupCommand {

  /**
   * Starts the site and runs until SIGTERM/SIGINT. Once its portals and API are up it prints one
   * line {@code {"event":"ready","sites":[...]}} on stdout, then one JSON line per event; logs go
   * to stderr.
   */
  @Command(
      name = "run",
      description = "Run a site from its config file until stopped.",
      mixinStandardHelpOptions = true)
  static final class Run implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--config",
        required = true,
        paramLabel = "FILE",
        description = "the site's site.yaml")
    Path config;

    @Option(
        names = "--stop-on-stdin-eof",
        description =
            "stop the site when standard input closes (so a parent process such as duet demo"
                + " takes the site with it even when it is killed)")
    boolean stopOnStdinEof;

    @Override
    public Integer call() throws ConfigException, IOException, InterruptedException {
      DuetCli cli = (DuetCli) spec.root().userObject();
      SiteConfig cfg = SiteConfig.load(config);
      Node node;
      try {
        node = Node.start(cfg);
      } catch (IOException e) {
        throw new IOException("cannot start site " + cfg.name() + ": " + e.getMessage(), e);
      }
      Running running = new Running(cli.out());
      running.line(running.ready(node));
      running.streamEvents(node);
      if (stopOnStdinEof) {
        Running.exitOnEndOfInput(System.in);
      }
      Running.runUntilStopped(node, null);
      return 0;
    }
  }
}
