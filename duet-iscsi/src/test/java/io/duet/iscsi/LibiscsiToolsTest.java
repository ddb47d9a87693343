package io.duet.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.iscsi.TargetCatalog.ChapCredentials;
import io.duet.scsi.AluaGroups;
import io.duet.scsi.AluaState;
import io.duet.scsi.LogicalUnit;
import io.duet.scsi.LunMap;
import io.duet.scsi.PersistentState;
import io.duet.scsi.ScsiSite;
import io.duet.scsi.TargetPort;
import io.duet.store.VolumeStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libiscsi's command-line tools (Debian libiscsi-bin) against the target in-process over real
 * logical units. Skipped, with a message, when a tool is not installed.
 */
class LibiscsiToolsTest {
  private static final String IQN = "iqn.2026-11.io.duet:tools";
  private static final String INQ = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq";

  @TempDir Path dir;
  private VolumeStore store;
  private IscsiServer server;
  private int port;
  private final Map<String, ChapCredentials> chap = new ConcurrentHashMap<>();
  private volatile List<String> acl;

  /** When set, sessions see the volume through this read-only mapping instead. */
  private volatile LunMap readOnlyMap;

  private LunMap readOnlyCandidate;

  /** When set, discovery lists only the portal this test listens on (iscsi-ls logs in to each). */
  private volatile boolean onlyLocalPortal;

  private record Run(int exit, String output) {}

  @BeforeEach
  void start() throws Exception {
    store = VolumeStore.open(dir);
    var volume = store.create("v0", 16L * 1024 * 1024, 512);
    ScsiSite site =
        new ScsiSite(
            new AluaGroups(
                List.of(new AluaGroups.PortGroup(1, AluaState.ACTIVE_OPTIMIZED, List.of(1)))));
    LunMap map = new LunMap();
    TreeMap<Integer, LunMap.Binding> b = new TreeMap<>();
    b.put(0, new LunMap.Binding(new LogicalUnit(volume, site, PersistentState.NONE), false));
    map.replace(b);
    var roVolume = store.create("v1", 16L * 1024 * 1024, 512);
    LunMap ro = new LunMap();
    TreeMap<Integer, LunMap.Binding> rb = new TreeMap<>();
    rb.put(0, new LunMap.Binding(new LogicalUnit(roVolume, site, PersistentState.NONE), true));
    ro.replace(rb);
    readOnlyCandidate = ro;
    TargetPort tp = new TargetPort(IQN + ",t,0x1", IQN, 1, 1);
    TargetCatalog.Target target =
        new TargetCatalog.Target() {
          @Override
          public String name() {
            return IQN;
          }

          @Override
          public TargetPort port() {
            return tp;
          }

          @Override
          public Optional<LunMap> lunsFor(String initiator) {
            List<String> a = acl;
            LunMap shown = readOnlyMap != null ? readOnlyMap : map;
            return a == null || a.contains(initiator) ? Optional.of(shown) : Optional.empty();
          }
        };
    TargetCatalog catalog =
        new TargetCatalog() {
          @Override
          public List<DiscoveredTarget> discover(String initiator) {
            if (onlyLocalPortal) {
              return List.of(new DiscoveredTarget(IQN, List.of(new Portal("127.0.0.1", port, 1))));
            }
            return List.of(
                new DiscoveredTarget(
                    IQN,
                    List.of(
                        new Portal("127.0.0.1", port, 1),
                        new Portal("192.0.2.10", 3260, 2),
                        new Portal("2001:db8::7", 3260, 2))));
          }

          @Override
          public Optional<Target> target(String name) {
            return IQN.equals(name) ? Optional.of(target) : Optional.empty();
          }

          @Override
          public Optional<ChapCredentials> credentials(String initiator) {
            return Optional.ofNullable(chap.get(initiator));
          }
        };
    server = new IscsiServer(catalog);
    port = server.listen(new InetSocketAddress("127.0.0.1", 0), 1).getPort();
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
    store.close();
  }

  private static void assumeTool(String tool) {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin", tool)),
        tool + " is not installed (apt-get install libiscsi-bin); skipping");
  }

  private static Run run(Map<String, String> env, String... command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private String url(String credentials) {
    return "iscsi://" + credentials + "127.0.0.1:" + port + "/" + IQN + "/0";
  }

  @Test
  void discoveryListsEveryPortal() throws Exception {
    assumeTool("iscsi-ls");
    Run r = run(Map.of(), "iscsi-ls", "iscsi://127.0.0.1:" + port);
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output())
        .contains("Target:" + IQN + " Portal:127.0.0.1:" + port + ",1")
        .contains("Portal:192.0.2.10:3260,2")
        .contains("Portal:[2001:db8::7]:3260,2");
  }

  @Test
  void inquiryWithoutAuthentication() throws Exception {
    assumeTool("iscsi-inq");
    Run r = run(Map.of(), "iscsi-inq", url(""));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("Peripheral Device Type:DIRECT_ACCESS");
  }

  @Test
  void headerDigestCrc32c() throws Exception {
    assumeTool("iscsi-inq");
    Run r = run(Map.of(), "iscsi-inq", url("") + "?header_digest=crc32c");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("Peripheral Device Type:DIRECT_ACCESS");
  }

  @Test
  void chapRightSecretLogsInWrongSecretIsRefused() throws Exception {
    assumeTool("iscsi-inq");
    chap.put(INQ, new ChapCredentials("alice", utf8("alice-secret-1"), null, null));
    Run ok = run(Map.of(), "iscsi-inq", url("alice%alice-secret-1@"));
    assertThat(ok.exit()).as(ok.output()).isZero();
    Run wrong = run(Map.of(), "iscsi-inq", url("alice%not-the-secret@"));
    assertThat(wrong.exit()).isNotZero();
    assertThat(wrong.output()).contains("Authentication failure");
    Run none = run(Map.of(), "iscsi-inq", url(""));
    assertThat(none.exit()).isNotZero();
    assertThat(none.output()).contains("Authentication failure");
  }

  @Test
  void mutualChap() throws Exception {
    assumeTool("iscsi-inq");
    chap.put(
        INQ, new ChapCredentials("bob", utf8("bob-secret-123"), "duet", utf8("duet-secret-9")));
    Run ok =
        run(
            Map.of(
                "LIBISCSI_CHAP_TARGET_USERNAME",
                "duet",
                "LIBISCSI_CHAP_TARGET_PASSWORD",
                "duet-secret-9"),
            "iscsi-inq",
            url("bob%bob-secret-123@"));
    assertThat(ok.exit()).as(ok.output()).isZero();
    Run impostor =
        run(
            Map.of(
                "LIBISCSI_CHAP_TARGET_USERNAME",
                "duet",
                "LIBISCSI_CHAP_TARGET_PASSWORD",
                "other-secret-1"),
            "iscsi-inq",
            url("bob%bob-secret-123@"));
    assertThat(impostor.exit()).isNotZero();
  }

  @Test
  void unknownInitiatorIsRefused() throws Exception {
    assumeTool("iscsi-inq");
    acl = List.of("iqn.2026-11.io.duet:someone-else");
    Run r = run(Map.of(), "iscsi-inq", url(""));
    assertThat(r.exit()).isNotZero();
    assertThat(r.output()).contains("Authorization failure");
  }

  @Test
  void iscsiFamilyOfTheConformanceSuitePasses() throws Exception {
    assumeTool("iscsi-test-cu");
    assertSuitePasses(run(Map.of(), "iscsi-test-cu", "-d", "-t", "iSCSI", url("")));
  }

  @Test
  void readOnlyFamilyOfTheConformanceSuitePassesOnAReadOnlyMapping() throws Exception {
    assumeTool("iscsi-test-cu");
    readOnlyMap = readOnlyCandidate;
    Run r = run(Map.of(), "iscsi-test-cu", "-d", "-t", "ALL.ReadOnly", url(""));
    assertSuitePasses(r);
    assertThat(r.output()).as(r.output()).contains("ReadOnlySBC ...passed");
  }

  @Test
  void listingLunsSurvivesTheUnitAttentionOfLogin() throws Exception {
    assumeTool("iscsi-ls");
    onlyLocalPortal = true;
    // iscsi-ls -s logs in and sends TEST UNIT READY to each LUN, retrying only on 29/00.
    Run r = run(Map.of(), "iscsi-ls", "-s", "iscsi://127.0.0.1:" + port);
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).as(r.output()).contains("Lun:0").contains("Type:DIRECT_ACCESS");
  }

  /** CUnit's summary: at least one test ran and none failed. */
  private static void assertSuitePasses(Run r) {
    List<String> summary = new ArrayList<>();
    for (String line : r.output().split("\n")) {
      if (line.trim().startsWith("tests") || line.contains("FAILED")) {
        summary.add(line.trim());
      }
    }
    assertThat(summary).as(r.output()).isNotEmpty();
    assertThat(summary.stream().filter(l -> l.contains("FAILED") && !l.contains("[FAILED]")))
        .as(r.output())
        .isEmpty();
    String[] counts =
        summary.stream().filter(l -> l.startsWith("tests")).findFirst().orElseThrow().split("\\s+");
    assertThat(Integer.parseInt(counts[2])).as(r.output()).isPositive(); // Ran column
    assertThat(counts[4]).as(r.output()).isEqualTo("0"); // Failed column
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
