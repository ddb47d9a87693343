package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.mediator.MediatorConfig;
import io.duet.mediator.MediatorServer;
import io.duet.node.Node;
import io.duet.node.config.HostPort;
import io.duet.node.config.SiteConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code duet mediator add|show|remove} against a real site and a real mediator in this JVM: bad
 * options are usage errors before anything is sent, the password comes from a file, and the site
 * shows the mediator in {@code mediator show} and {@code status}.
 */
class MediatorCliTest {
  @TempDir Path dir;
  Node node;
  MediatorServer mediator;
  Map<String, String> env;
  String address;
  Path passwordFile;

  @BeforeEach
  void start() throws Exception {
    node =
        Node.start(
            SiteConfig.defaults("site-a", dir.resolve("a"))
                .withPortals(List.of(new HostPort("127.0.0.1", 0)))
                .withApi(new HostPort("127.0.0.1", 0)));
    mediator =
        MediatorServer.start(MediatorConfig.defaults(dir.resolve("m")).withListen("127.0.0.1", 0));
    URI url = URI.create(mediator.url());
    address = url.getHost() + ":" + url.getPort();
    passwordFile = mediator.initialPasswordFile();
    env = Map.of("DUET_API", node.apiUrl(), "DUET_TOKEN", node.token());
  }

  @AfterEach
  void stop() {
    node.close();
    mediator.close();
  }

  CliRun run(String... args) {
    return CliRun.run(env, args);
  }

  String ca() {
    return mediator.caCertificateFile().toString();
  }

  @Test
  void badOptionsAreUsageErrors() throws Exception {
    Path notPem = Files.writeString(dir.resolve("ca.txt"), "not a certificate\n");
    Path empty = Files.writeString(dir.resolve("empty"), "");
    String pw = passwordFile.toString();
    String[][] bad = {
      {"--address", "nohost", "--ca-cert", ca(), "--user", "duet", "--password-file", pw},
      {"--address", "127.0.0.1:0", "--ca-cert", ca(), "--user", "duet", "--password-file", pw},
      {
        "--address",
        address,
        "--ca-cert",
        "/no/such/ca.crt",
        "--user",
        "duet",
        "--password-file",
        pw
      },
      {
        "--address",
        address,
        "--ca-cert",
        notPem.toString(),
        "--user",
        "duet",
        "--password-file",
        pw
      },
      {"--address", address, "--ca-cert", ca(), "--user", " ", "--password-file", pw},
      {"--address", address, "--ca-cert", ca(), "--user", "duet", "--password-file", "/no/pw"},
      {
        "--address",
        address,
        "--ca-cert",
        ca(),
        "--user",
        "duet",
        "--password-file",
        empty.toString()
      },
      {"--address", address, "--ca-cert", ca(), "--password-file", pw},
      {"--address", address, "--ca-cert", ca(), "--user", "duet", "--password", "secret"},
    };
    for (String[] args : bad) {
      String[] all = new String[args.length + 2];
      all[0] = "mediator";
      all[1] = "add";
      System.arraycopy(args, 0, all, 2, args.length);
      CliRun.assertUsageError(env, all);
    }
    assertThat(run("mediator", "show").out()).contains("no mediator configured");
  }

  @Test
  void addShowStatusRemove() throws Exception {
    String password = Files.readString(passwordFile).strip();
    Path wrong = Files.writeString(dir.resolve("wrong"), "not-it\n");
    CliRun refused =
        run(
            "mediator",
            "add",
            "--address",
            address,
            "--ca-cert",
            ca(),
            "--user",
            "duet",
            "--password-file",
            wrong.toString());
    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.err()).contains("refused user 'duet'");

    CliRun added =
        run(
            "mediator",
            "add",
            "--address",
            address,
            "--ca-cert",
            ca(),
            "--user",
            "duet",
            "--password-file",
            passwordFile.toString());
    assertThat(added.exit()).as(added.err()).isZero();
    assertThat(added.out()).contains("configured at this site", address);
    assertThat(added.out()).doesNotContain(password);

    CliRun show = run("mediator", "show");
    assertThat(show.out()).contains(address, "duet", "connected   yes");
    CliRun json = run("--json", "mediator", "show");
    assertThat(json.out()).contains("\"configured\" : true").doesNotContain(password);
    assertThat(run("status").out()).containsPattern("mediator +" + address + " \\(connected: yes");

    assertThat(run("mediator", "remove").exit()).isZero();
    assertThat(run("mediator", "show").out()).contains("no mediator configured");
    CliRun again = run("mediator", "remove");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("no mediator is configured");
  }
}
