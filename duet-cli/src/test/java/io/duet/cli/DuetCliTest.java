package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage handling and output formatting, against an in-process fake of the REST API. */
class DuetCliTest {
  HttpServer fake;
  String api;
  final List<String> requests = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startFake() throws IOException {
    fake = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    fake.createContext(
        "/",
        exchange -> {
          String auth = exchange.getRequestHeaders().getFirst("Authorization");
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          String key = exchange.getRequestMethod() + " " + exchange.getRequestURI();
          requests.add(key + " " + auth + " " + body);
          int status;
          String answer;
          if (!"Bearer t0k3n".equals(auth)) {
            status = 401;
            answer = "{\"error\":\"unauthorized\",\"detail\":\"missing or wrong API token\"}";
          } else {
            switch (key) {
              case "GET /api/v1/volumes" -> {
                status = 200;
                answer =
                    "[{\"name\":\"db\",\"uuid\":\"u-1\",\"sizeBytes\":1073741824,\"blockSize\":512,\"naa\":\"naa.6001\",\"mappings\":[1]},"
                        + "{\"name\":\"a-much-longer-name\",\"uuid\":\"u-2\",\"sizeBytes\":4096,\"blockSize\":4096,\"naa\":\"naa.6002\",\"mappings\":[]}]";
              }
              case "POST /api/v1/volumes" -> {
                status = 409;
                answer = "{\"error\":\"conflict\",\"detail\":\"volume 'db' exists already\"}";
              }
              default -> {
                status = 404;
                answer = "{\"error\":\"not found\",\"detail\":\"no such endpoint\"}";
              }
            }
          }
          byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(status, bytes.length);
          try (OutputStream os = exchange.getResponseBody()) {
            os.write(bytes);
          }
        });
    fake.start();
    api = "http://127.0.0.1:" + fake.getAddress().getPort();
  }

  @AfterEach
  void stopFake() {
    fake.stop(0);
  }

  @Test
  void usageErrorsExitTwoWithOneLine() {
    for (String[] args :
        List.of(
            new String[] {"volume", "create", "x"},
            new String[] {"volume"},
            new String[] {"volume", "explode"},
            new String[] {"--frobnicate"},
            new String[] {"map", "vol"},
            new String[] {
              "volume", "create", "x", "--size", "1GiB", "--block-size", "1000", "--token", "t"
            },
            new String[] {"volume", "create", "x", "--size", "lots", "--token", "t"},
            new String[] {"unmap", "--token", "t"},
            new String[] {"site", "run"})) {
      CliRun.assertUsageError(Map.of(), args);
    }
    assertThat(requests).isEmpty();
  }

  @Test
  void missingTokenIsAUsageError() {
    CliRun r = CliRun.run("volume", "list", "--api", api);
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("no API token");
  }

  @Test
  void helpAndVersion() {
    CliRun help = CliRun.run("--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out()).contains("volume", "host", "map", "demo", "site");
    assertThat(CliRun.run("volume", "create", "--help").out()).contains("--size", "--block-size");
  }

  @Test
  void listPrintsAnAlignedTable() {
    CliRun r = CliRun.run(Map.of("DUET_API", api, "DUET_TOKEN", "t0k3n"), "volume", "list");
    assertThat(r.exit()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).startsWith("NAME").contains("SIZE", "BLOCK", "UUID");
    assertThat(lines.get(1)).startsWith("db ").contains("1 GiB", "512", "u-1");
    assertThat(lines.get(2)).startsWith("a-much-longer-name").contains("4 KiB", "4096", "u-2");
    // Columns line up: every row has its SIZE column at the header's offset.
    int sizeColumn = lines.get(0).indexOf("SIZE");
    assertThat(lines.get(1).substring(sizeColumn)).startsWith("1 GiB");
    assertThat(lines.get(2).substring(sizeColumn)).startsWith("4 KiB");
  }

  @Test
  void jsonPrintsTheRawAnswer() {
    CliRun r = CliRun.run("--api", api, "--token", "t0k3n", "--json", "volume", "list");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("\"name\" : \"db\"", "\"uuid\" : \"u-2\"");
  }

  @Test
  void apiErrorsExitOneWithTheDetail() {
    CliRun r =
        CliRun.run("volume", "create", "db", "--size", "1GiB", "--api", api, "--token", "t0k3n");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("duet: volume 'db' exists already (HTTP 409)");
    assertThat(requests)
        .singleElement()
        .asString()
        .contains("POST /api/v1/volumes Bearer t0k3n")
        .contains("\"size\":1073741824");
    CliRun wrong = CliRun.run("volume", "list", "--api", api, "--token", "nope");
    assertThat(wrong.exit()).isEqualTo(1);
    assertThat(wrong.err()).contains("HTTP 401");
  }

  @Test
  void tokenFromDataDir(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("api-token"), "t0k3n\n");
    CliRun r = CliRun.run("volume", "list", "--api", api, "--data-dir", dir.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(
            CliRun.run("volume", "list", "--api", api, "--data-dir", dir.resolve("nope").toString())
                .exit())
        .isEqualTo(2);
  }

  @Test
  void unreachableApiExitsOne() throws IOException {
    int port;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    CliRun r = CliRun.run("status", "--api", "http://127.0.0.1:" + port, "--token", "x");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("cannot reach");
  }

  @Test
  void badConfigExitsTwo(@TempDir Path dir) throws IOException {
    Path cfg = dir.resolve("site.yaml");
    Files.writeString(cfg, "name: a\ndataDir: d\nportGroupId: zero\n");
    CliRun r = CliRun.run("site", "run", "--config", cfg.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err().strip()).contains("field 'portGroupId'").doesNotContain("\n");
    assertThat(CliRun.run("site", "run", "--config", dir.resolve("none.yaml").toString()).exit())
        .isEqualTo(2);
  }
}
