package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * CHAP and the target's ACL, checked with libiscsi's {@code iscsi-inq} against a site process: the
 * right secret logs in (one-way and mutual), a wrong secret and an unknown initiator are refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChapIT {
  private static final String HOST_IQN = "iqn.2026-11.io.duet.test:chap-host";
  private static final String MUTUAL_IQN = "iqn.2026-11.io.duet.test:mutual-host";
  private SiteProcess site;
  private String portal;
  private String target;

  @BeforeAll
  void start() throws Exception {
    site = SiteProcess.start(Files.createTempDirectory(Path.of("target"), "chap"), "site-a");
    DuetApi api = site.api();
    Admin admin = new Admin(api);
    admin.createVolume("secure", "16MiB", 512);
    admin.createHost("chap-host", "chapuser", "chap-secret-12", HOST_IQN);
    api.post(
        "/api/v1/hosts",
        "{\"name\":\"mutual-host\",\"iqns\":[\""
            + MUTUAL_IQN
            + "\"],\"chapUser\":\"muser\","
            + "\"chapSecret\":\"initiator-secret1\",\"mutualUser\":\"target-a\",\"mutualSecret\":\"target-secret-1\"}");
    admin.map("secure", "chap-host", 0, null, false);
    admin.map("secure", "mutual-host", 0, null, false);
    target = admin.defaultTarget();
    InetSocketAddress p = site.portal();
    portal = p.getHostString() + ":" + p.getPort();
  }

  @AfterAll
  void stop() throws Exception {
    if (site != null) {
      site.close();
    }
  }

  private record Result(int exit, String output) {}

  private static Result iscsiInq(String initiator, String url, List<String> env)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder("iscsi-inq", "-i", initiator, url).redirectErrorStream(true);
    for (String kv : env) {
      int eq = kv.indexOf('=');
      pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  @Test
  void rightSecretLogsIn() throws Exception {
    Result r =
        iscsiInq(
            HOST_IQN, "iscsi://chapuser%chap-secret-12@" + portal + "/" + target + "/0", List.of());
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("DIRECT_ACCESS");
  }

  @Test
  void wrongSecretIsRefused() throws Exception {
    Result r =
        iscsiInq(
            HOST_IQN, "iscsi://chapuser%wrong-secret-9@" + portal + "/" + target + "/0", List.of());
    assertThat(r.exit()).as(r.output()).isNotZero();
    assertThat(r.output()).doesNotContain("DIRECT_ACCESS");
  }

  @Test
  void missingSecretIsRefused() throws Exception {
    Result r = iscsiInq(HOST_IQN, "iscsi://" + portal + "/" + target + "/0", List.of());
    assertThat(r.exit()).as(r.output()).isNotZero();
  }

  @Test
  void unknownInitiatorIsRefused() throws Exception {
    Result r =
        iscsiInq(
            "iqn.2026-11.io.duet.test:stranger",
            "iscsi://" + portal + "/" + target + "/0",
            List.of());
    assertThat(r.exit()).as(r.output()).isNotZero();
    assertThat(r.output()).doesNotContain("DIRECT_ACCESS");
  }

  @Test
  void mutualChapLogsInWhenTheTargetKnowsItsSecret() throws Exception {
    String url = "iscsi://muser%initiator-secret1@" + portal + "/" + target + "/0";
    Result ok =
        iscsiInq(
            MUTUAL_IQN,
            url,
            List.of(
                "LIBISCSI_CHAP_TARGET_USERNAME=target-a",
                "LIBISCSI_CHAP_TARGET_PASSWORD=target-secret-1"));
    assertThat(ok.exit()).as(ok.output()).isZero();
    Result wrongTarget =
        iscsiInq(
            MUTUAL_IQN,
            url,
            List.of(
                "LIBISCSI_CHAP_TARGET_USERNAME=target-a",
                "LIBISCSI_CHAP_TARGET_PASSWORD=not-the-target1"));
    assertThat(wrongTarget.exit())
        .as("initiator must refuse a target that fails mutual CHAP: " + wrongTarget.output())
        .isNotZero();
  }
}
