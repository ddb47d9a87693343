package io.duet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code duet cg ...} and {@code duet host ... --site} against an in-process fake of the API. */
class CgCliTest {
  static final String VIEW =
      """
      {"name":"cg1","id":"0b3c","policy":"active-active","peer":"site-b","peerSiteId":"u-b",
       "role":"LEADER","leader":"site-a","leaderSiteId":"u-a","epoch":3,
       "syncState":"%s","link":"UP","availability":"SERVING",
       "resync":{"bytesDone":%d,"bytesTotal":1073741824,"etaSeconds":%d,"percent":%s},
       "autoResync":true,"autoRecover":true,"resyncRate":209715200,
       "volumes":[{"name":"vol1","naa":"6da7e75001","serial":"s-1","sizeBytes":1073741824}]}
      """;

  HttpServer fake;
  final List<String> requests = new CopyOnWriteArrayList<>();
  final Map<String, String> answers = new ConcurrentHashMap<>();
  final Map<String, Integer> statuses = new ConcurrentHashMap<>();
  final AtomicInteger polls = new AtomicInteger();
  Map<String, String> env;

  static String view(String state, long done, long eta, double percent) {
    return VIEW.formatted(state, done, eta, Double.toString(percent));
  }

  @BeforeEach
  void startFake() throws IOException {
    fake = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    fake.createContext(
        "/",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          String key = exchange.getRequestMethod() + " " + exchange.getRequestURI();
          requests.add(key + " " + body);
          String answer = answers.get(key);
          int status = statuses.getOrDefault(key, 200);
          if (key.equals("GET /api/v1/cgs/watched")) {
            // Resyncing for two polls, then in sync.
            int n = polls.incrementAndGet();
            answer =
                n < 3
                    ? view("RESYNCING", n * 268435456L, 10, n * 25.0)
                    : view("IN_SYNC", 1073741824L, 0, 100.0);
          }
          if (answer == null) {
            status = 404;
            answer = "{\"error\":\"no consistency group named x\"}";
          }
          byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(status, status == 204 ? -1 : bytes.length);
          try (OutputStream os = exchange.getResponseBody()) {
            if (status != 204) {
              os.write(bytes);
            }
          }
        });
    fake.start();
    env =
        Map.of(
            "DUET_API", "http://127.0.0.1:" + fake.getAddress().getPort(), "DUET_TOKEN", "t0k3n");
  }

  @AfterEach
  void stopFake() {
    fake.stop(0);
  }

  @Test
  void argumentErrorsExitTwoWithOneLineAndNoRequest() {
    for (String[] args :
        List.of(
            new String[] {"cg"},
            new String[] {"cg", "frobnicate"},
            new String[] {"cg", "create", "x"},
            new String[] {"cg", "create", "x", "--policy", "active-active", "--peer", "b"},
            create("--policy", "async"),
            create("--leader", "middle"),
            create("--resync-rate", "lots"),
            create("--resync-rate", "0"),
            create("--volumes", "v,,w"),
            create("--volumes", "v,v"),
            new String[] {"cg", "show"},
            new String[] {"cg", "show", "x", "--watch", "--interval-ms", "0"},
            new String[] {"cg", "add-volume", "x"},
            new String[] {"cg", "failover", "x"},
            new String[] {"cg", "set", "x"},
            new String[] {"cg", "set", "x", "--auto-resync", "maybe"},
            new String[] {"cg", "set", "x", "--resync-rate", "-5MiB"},
            new String[] {"cg", "verify"},
            new String[] {"host", "update", "h"},
            new String[] {"host", "update", "h", "--site", " "},
            new String[] {"host", "create", "h", "--iqn", "iqn.x", "--site", ""})) {
      CliRun.assertUsageError(env, args);
    }
    assertThat(requests).isEmpty();
  }

  /** {@code cg create x} with valid options, where {@code override} replaces or adds some. */
  static String[] create(String... override) {
    Map<String, String> options = new java.util.LinkedHashMap<>();
    options.put("--policy", "active-active");
    options.put("--peer", "b");
    options.put("--volumes", "v");
    for (int i = 0; i < override.length; i += 2) {
      options.put(override[i], override[i + 1]);
    }
    List<String> args = new java.util.ArrayList<>(List.of("cg", "create", "x"));
    options.forEach(
        (k, v) -> {
          args.add(k);
          args.add(v);
        });
    return args.toArray(String[]::new);
  }

  @Test
  void failoverWithoutForceExplainsTheRisk() {
    CliRun r = CliRun.run(env, "cg", "failover", "cg1");
    assertThat(r.err()).contains("--force", "lose", "switchover");
  }

  @Test
  void createSendsTheContractBodyAndPrintsTheGroup() {
    answers.put("POST /api/v1/cgs", view("RESYNCING", 0, -1, 0.0));
    statuses.put("POST /api/v1/cgs", 201);
    CliRun r =
        CliRun.run(
            env,
            "cg",
            "create",
            "cg1",
            "--policy",
            "active-active",
            "--peer",
            "site-b",
            "--volumes",
            "vol1,vol2",
            "--resync-rate",
            "200MiB/s",
            "--no-auto-recover");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(requests)
        .containsExactly(
            "POST /api/v1/cgs {\"name\":\"cg1\",\"policy\":\"active-active\",\"peer\":\"site-b\","
                + "\"leader\":\"local\",\"autoResync\":true,\"autoRecover\":false,"
                + "\"volumes\":[\"vol1\",\"vol2\"],\"resyncRate\":\"200MiB\"}");
    assertThat(r.out())
        .contains("consistency group cg1 created with site-b", "duet cg show cg1 --watch")
        .contains("NAME", "RESYNCING", "vol1");
  }

  @Test
  void listAndShow() {
    answers.put("GET /api/v1/cgs", "[" + view("RESYNCING", 536870912L, 5, 50.0) + "]");
    answers.put("GET /api/v1/cgs/cg1", view("RESYNCING", 536870912L, 5, 50.0));
    CliRun list = CliRun.run(env, "cg", "list");
    assertThat(list.exit()).as(list.err()).isZero();
    List<String> lines = list.out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("NAME").contains("ROLE", "SYNC", "LINK", "RESYNC");
    assertThat(lines.get(1)).contains("cg1", "LEADER", "site-a", "RESYNCING", "50.0% ETA 0:00:05");

    CliRun show = CliRun.run(env, "cg", "show", "cg1");
    assertThat(show.exit()).as(show.err()).isZero();
    // 512 MiB left in 5 s is 107.4 MB/s.
    assertThat(show.out())
        .contains("leader", "site-a (epoch 3)", "200 MiB/s", "6da7e75001")
        .contains("resync [###############---------------]  50.0%  107.4 MB/s  ETA 0:00:05");

    CliRun json = CliRun.run(env, "--json", "cg", "show", "cg1");
    assertThat(json.out()).contains("\"syncState\" : \"RESYNCING\"");
  }

  @Test
  void watchPollsUntilInSync() {
    CliRun r = CliRun.run(env, "cg", "show", "watched", "--watch", "--interval-ms", "5");
    assertThat(r.exit()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).contains("RESYNCING", " 25.0%", "ETA 0:00:10");
    // The rate between polls is measured, so it is a number, not "--".
    assertThat(lines.get(1)).contains(" 50.0%").containsPattern("[0-9.]+ MB/s");
    assertThat(lines.get(2)).contains("IN_SYNC").doesNotContain("%");
    assertThat(polls.get()).isEqualTo(3);

    polls.set(0);
    CliRun json =
        CliRun.run(env, "--json", "cg", "show", "watched", "--watch", "--interval-ms", "1");
    assertThat(json.out().lines().toList())
        .hasSize(3)
        .allSatisfy(l -> assertThat(l).startsWith("{\"name\":\"cg1\""));
  }

  @Test
  void verifyReportsDifferencesAndExitsOneUnlessRepaired() {
    answers.put(
        "POST /api/v1/cgs/cg1/verify",
        "{\"regionsCompared\":16384,\"differingRegions\":[{\"volume\":\"vol1\",\"offset\":65536,"
            + "\"length\":65536}],\"repaired\":false}");
    CliRun r = CliRun.run(env, "cg", "verify", "cg1");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out())
        .contains("16384 regions compared, 1 differ", "vol1", "65536", "64 KiB")
        .contains("duet cg verify cg1 --repair");
    assertThat(requests.getLast()).endsWith("{\"repair\":false}");

    answers.put(
        "POST /api/v1/cgs/cg1/verify",
        "{\"regionsCompared\":16384,\"differingRegions\":[],\"repaired\":false}");
    CliRun clean = CliRun.run(env, "cg", "verify", "cg1", "--repair");
    assertThat(clean.exit()).as(clean.err()).isZero();
    assertThat(clean.out()).contains("0 differ");
    assertThat(requests.getLast()).endsWith("{\"repair\":true}");
  }

  @Test
  void failoverWarnsLoudlyAndSendsForce() {
    answers.put("POST /api/v1/cgs/cg1/failover", view("OUT_OF_SYNC", 0, -1, 100.0));
    CliRun r = CliRun.run(env, "cg", "failover", "cg1", "--force", "--reason", "site-b burned");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).contains("WARNING", "LOST");
    assertThat(r.out()).contains("forced failover done: site-a leads cg1 at epoch 3");
    assertThat(requests.getLast()).endsWith("{\"force\":true,\"reason\":\"site-b burned\"}");
  }

  @Test
  void switchoverResyncSetAddVolumeDelete() {
    answers.put("POST /api/v1/cgs/cg1/switchover", view("IN_SYNC", 0, 0, 100.0));
    answers.put("POST /api/v1/cgs/cg1/resync", "");
    statuses.put("POST /api/v1/cgs/cg1/resync", 202);
    answers.put("PATCH /api/v1/cgs/cg1", view("IN_SYNC", 0, 0, 100.0));
    answers.put("POST /api/v1/cgs/cg1/volumes", view("RESYNCING", 0, -1, 0.0));
    answers.put("DELETE /api/v1/cgs/cg1", "");
    statuses.put("DELETE /api/v1/cgs/cg1", 204);

    assertThat(CliRun.run(env, "cg", "switchover", "cg1").out()).contains("site-a now leads cg1");
    assertThat(CliRun.run(env, "cg", "resync", "cg1").out()).contains("resync of cg1 started");
    CliRun set =
        CliRun.run(env, "cg", "set", "cg1", "--auto-resync", "off", "--resync-rate", "100MiB");
    assertThat(set.exit()).as(set.err()).isZero();
    assertThat(requests.getLast())
        .isEqualTo("PATCH /api/v1/cgs/cg1 {\"autoResync\":false,\"resyncRate\":\"100MiB\"}");
    assertThat(CliRun.run(env, "cg", "add-volume", "cg1", "vol3").out())
        .contains("volume vol3 added to cg1");
    assertThat(requests.getLast()).isEqualTo("POST /api/v1/cgs/cg1/volumes {\"volume\":\"vol3\"}");
    CliRun deleted = CliRun.run(env, "--json", "cg", "delete", "cg1");
    assertThat(deleted.exit()).as(deleted.err()).isZero();
    assertThat(deleted.out()).contains("\"ok\" : true");
  }

  @Test
  void apiRefusalsShowTheServersErrorText() {
    answers.put("POST /api/v1/cgs/cg1/switchover", "{\"error\":\"cg1 is not in sync\"}");
    statuses.put("POST /api/v1/cgs/cg1/switchover", 409);
    CliRun r = CliRun.run(env, "cg", "switchover", "cg1");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("duet: cg1 is not in sync (HTTP 409)");
    CliRun missing = CliRun.run(env, "cg", "show", "nope");
    assertThat(missing.err()).contains("no consistency group named x (HTTP 404)");
  }

  @Test
  void statusListsTheGroups() {
    answers.put(
        "GET /api/v1/status",
        "{\"site\":\"site-a\",\"cgs\":[{\"name\":\"cg1\",\"role\":\"LEADER\","
            + "\"syncState\":\"RESYNCING\",\"availability\":\"SERVING\",\"link\":\"UP\","
            + "\"resync\":{\"bytesDone\":1,\"bytesTotal\":4,\"etaSeconds\":3,\"percent\":25.0}}]}");
    CliRun r = CliRun.run(env, "status");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("groups", "cg1 (LEADER, RESYNCING 25.0%, link UP, SERVING)");
  }

  @Test
  void hostSiteOnCreateAndUpdate() {
    String host =
        "{\"name\":\"h1\",\"iqns\":[\"iqn.a\"],\"site\":\"site-b\",\"chap\":false,\"mutualChap\":false}";
    answers.put("POST /api/v1/hosts", host);
    answers.put("PATCH /api/v1/hosts/h1", host);
    CliRun created = CliRun.run(env, "host", "create", "h1", "--iqn", "iqn.a", "--site", "site-b");
    assertThat(created.exit()).as(created.err()).isZero();
    assertThat(requests.getLast())
        .isEqualTo("POST /api/v1/hosts {\"name\":\"h1\",\"iqns\":[\"iqn.a\"],\"site\":\"site-b\"}");
    CliRun updated = CliRun.run(env, "host", "update", "h1", "--site", "site-b");
    assertThat(updated.exit()).as(updated.err()).isZero();
    assertThat(requests.getLast()).isEqualTo("PATCH /api/v1/hosts/h1 {\"site\":\"site-b\"}");
    assertThat(updated.out().lines().toList().get(0)).contains("SITE");
    assertThat(updated.out()).contains("site-b");
  }
}
