package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.duet.node.config.ConfigException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code duet} command: runs a site ({@code site run}), a demo, and the admin verbs that call a
 * site's REST API. Exit codes: 0 done, 1 the API (or the site) refused or failed, 2 bad usage or
 * configuration.
 */
@Command(
    name = "duet",
    mixinStandardHelpOptions = true,
    version = "duet 0.1.0",
    description =
        "Duet: active/active block storage. Runs sites and administers them through their REST"
            + " API.",
    subcommands = {
      SiteCommand.class,
      MediatorCommand.class,
      DemoCommand.class,
      VolumeCommand.class,
      HostCommand.class,
      MapCommand.class,
      UnmapCommand.class,
      MappingCommand.class,
      PortalCommand.class,
      NbdCommand.class,
      PeerCommand.class,
      CgCommand.class,
      TargetCommand.class,
      AluaCommand.class,
      SessionCommand.class,
      StatusCommand.class,
      EventsCommand.class
    })
public final class DuetCli implements Runnable {
  static final String API_DEFAULT = "http://127.0.0.1:7080";
  static final int EXIT_API = 1;
  static final int EXIT_USAGE = 2;

  @Option(
      names = "--api",
      scope = ScopeType.INHERIT,
      paramLabel = "URL",
      description = "Site API base URL (env DUET_API, default " + API_DEFAULT + ")")
  String api;

  @Option(
      names = "--token",
      scope = ScopeType.INHERIT,
      paramLabel = "TOKEN",
      description = "API token (env DUET_TOKEN, or read from --data-dir)")
  String token;

  @Option(
      names = "--data-dir",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description =
          "A site's data directory: its api-token is read from there; for demo, where the demo"
              + " keeps its data")
  Path dataDir;

  @Option(
      names = "--json",
      scope = ScopeType.INHERIT,
      description = "Print raw JSON instead of tables")
  boolean json;

  private final Map<String, String> env;
  private final PrintWriter out;
  private final PrintWriter err;
  private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public DuetCli() {
    this(
        System.getenv(),
        new PrintWriter(System.out, true, StandardCharsets.UTF_8),
        new PrintWriter(System.err, true, StandardCharsets.UTF_8));
  }

  DuetCli(Map<String, String> env, PrintWriter out, PrintWriter err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    // The iSCSI layer logs through System.Logger (java.util.logging by default): send it to
    // Logback so every log line has one format and goes to stderr, never stdout.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    System.exit(run(new DuetCli(), args));
  }

  /** Parses and runs {@code args}; returns the exit code. */
  static int run(DuetCli cli, String... args) {
    CommandLine cmd = new CommandLine(cli);
    cmd.setOut(cli.out);
    cmd.setErr(cli.err);
    cmd.setParameterExceptionHandler(
        (ex, a) -> {
          CommandLine c = ex.getCommandLine();
          cli.err.println(
              "duet: "
                  + ex.getMessage()
                  + " (see '"
                  + c.getCommandSpec().qualifiedName()
                  + " --help')");
          cli.err.flush();
          return EXIT_USAGE;
        });
    cmd.setExecutionExceptionHandler(
        (ex, c, parsed) -> {
          cli.err.println("duet: " + message(ex));
          cli.err.flush();
          return ex instanceof UsageError || ex instanceof ConfigException ? EXIT_USAGE : EXIT_API;
        });
    return cmd.execute(args);
  }

  private static String message(Exception ex) {
    if (ex instanceof NoSuchFileException n) {
      return "no such file: " + n.getFile();
    }
    String m = ex.getMessage();
    return m == null || m.isBlank() ? ex.toString() : m;
  }

  @Override
  public void run() {
    // 'duet' alone: show what it can do.
    new CommandLine(this).usage(out);
  }

  PrintWriter out() {
    return out;
  }

  PrintWriter err() {
    return err;
  }

  ObjectMapper mapper() {
    return mapper;
  }

  boolean json() {
    return json;
  }

  Path dataDir() {
    return dataDir;
  }

  /**
   * A client for the API named by --api / DUET_API (or the api-url file of --data-dir),
   * authenticated by --token / --data-dir / DUET_TOKEN.
   */
  ApiClient client() throws IOException {
    Path siteDir = dataDir == null ? null : siteDirectory(dataDir);
    String url = api;
    if (url == null && siteDir != null && Files.exists(siteDir.resolve("api-url"))) {
      url = Files.readString(siteDir.resolve("api-url"), StandardCharsets.US_ASCII).strip();
    }
    if (url == null) {
      url = env.getOrDefault("DUET_API", API_DEFAULT);
    }
    return new ApiClient(url, resolveToken(siteDir), mapper);
  }

  /**
   * The site data directory meant by {@code --data-dir}: the directory itself when it holds an
   * api-token, else its only subdirectory that does, or its {@code site-a} ({@code duet demo
   * --data-dir} keeps its sites in {@code DIR/site-a} and {@code DIR/site-b}).
   */
  private static Path siteDirectory(Path dir) throws IOException {
    if (Files.exists(dir.resolve("api-token")) || !Files.isDirectory(dir)) {
      return dir;
    }
    try (var children = Files.list(dir)) {
      List<Path> sites = children.filter(c -> Files.exists(c.resolve("api-token"))).toList();
      if (sites.size() == 1) {
        return sites.get(0);
      }
      Path demoSiteA = dir.resolve(DemoCommand.SITE);
      return sites.contains(demoSiteA) ? demoSiteA : dir;
    }
  }

  private String resolveToken(Path siteDir) throws IOException {
    if (token != null && !token.isBlank()) {
      return token.strip();
    }
    if (siteDir != null) {
      Path file = siteDir.resolve("api-token");
      if (!Files.exists(file)) {
        throw new UsageError("no API token at " + file + " (is that a site's data directory?)");
      }
      return Files.readString(file, StandardCharsets.US_ASCII).strip();
    }
    String fromEnv = env.get("DUET_TOKEN");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.strip();
    }
    throw new UsageError("no API token: use --token, DUET_TOKEN, or --data-dir of the site");
  }

  /** Prints {@code node} as indented JSON. */
  void printJson(JsonNode node) throws IOException {
    out.println(mapper.writeValueAsString(node));
    out.flush();
  }
}
