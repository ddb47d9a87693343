package io.duet.iscsi;

import static io.duet.iscsi.TestInitiator.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.duet.iscsi.TargetCatalog.ChapCredentials;
import io.duet.iscsi.TestInitiator.Pdu;
import io.duet.scsi.ScsiResult;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The target in-process against a raw test initiator and a fake SCSI layer. */
class IscsiServerTest {
  private final FakeCatalog catalog = new FakeCatalog();
  private final MemoryLuns luns = new MemoryLuns(64);
  private final AtomicLong clock = new AtomicLong();
  private IscsiServer server;
  private InetSocketAddress address;

  @BeforeEach
  void start() throws Exception {
    IscsiSettings settings = IscsiSettings.DEFAULTS.withNopIn(1000, 1000).withClock(clock::get);
    server =
        new IscsiServer(
            catalog,
            settings,
            (t, initiator) -> catalog.allowed(initiator) ? Optional.of(luns) : Optional.empty(),
            new Random(5));
    address = server.listen(new InetSocketAddress("127.0.0.1", 0), 1);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private TestInitiator loggedIn(String... keys) throws Exception {
    TestInitiator c = new TestInitiator(address);
    Pdu r = c.loginNormal(FakeCatalog.TARGET, keys);
    assertThat(r.bhs().u16(36)).isZero();
    return c;
  }

  @Test
  void loginReturnsTsihTpgtAndDeclarations() throws Exception {
    try (TestInitiator c = new TestInitiator(address)) {
      Pdu r =
          c.loginNormal(
              FakeCatalog.TARGET,
              "HeaderDigest=None",
              "ImmediateData=Yes",
              "InitialR2T=No",
              "MaxBurstLength=16776192",
              "X-com.example.Foo=1");
      assertThat(r.opcode()).isEqualTo(Bhs.LOGIN_RESPONSE);
      assertThat(r.bhs().u16(36)).isZero();
      assertThat(r.bhs().flags() & 0x80).isEqualTo(0x80);
      assertThat(r.bhs().u16(14)).isNotZero();
      Map<String, String> keys = r.keys();
      assertThat(keys)
          .containsEntry("TargetPortalGroupTag", "1")
          .containsEntry("ImmediateData", "Yes")
          .containsEntry("InitialR2T", "No")
          .containsEntry("MaxBurstLength", "1048576")
          .containsEntry("X-com.example.Foo", "NotUnderstood")
          .containsKey("MaxRecvDataSegmentLength");
      assertThat(luns.attached).hasSize(1);
      assertThat(luns.attached.get(0).initiatorPort())
          .isEqualTo(TestInitiator.NAME + ",i,0x400001370000");
      assertThat(server.sessions()).hasSize(1);
    }
  }

  @Test
  void loginFailuresCarryTheRightStatus() throws Exception {
    assertThat(
            loginStatus(
                text(
                    "InitiatorName=" + TestInitiator.NAME,
                    "SessionType=Normal",
                    "TargetName=iqn.nope")))
        .isEqualTo(0x0203);
    assertThat(loginStatus(text("SessionType=Normal", "TargetName=" + FakeCatalog.TARGET)))
        .isEqualTo(0x0207);
    assertThat(loginStatus(text("InitiatorName=" + TestInitiator.NAME, "SessionType=Normal")))
        .isEqualTo(0x0207);
    assertThat(
            loginStatus(
                text(
                    "InitiatorName=" + TestInitiator.NAME,
                    "TargetName=" + FakeCatalog.TARGET,
                    "TargetName=" + FakeCatalog.TARGET)))
        .isEqualTo(0x0200);
    catalog.acl = List.of("iqn.someone-else");
    assertThat(
            loginStatus(
                text("InitiatorName=" + TestInitiator.NAME, "TargetName=" + FakeCatalog.TARGET)))
        .isEqualTo(0x0202);
    catalog.acl = null;
    catalog.chap.put(
        TestInitiator.NAME,
        new ChapCredentials("u", "secret-12345".getBytes(StandardCharsets.UTF_8), null, null));
    // Skipping the security stage when CHAP is required.
    assertThat(
            loginStatus(
                text("InitiatorName=" + TestInitiator.NAME, "TargetName=" + FakeCatalog.TARGET)))
        .isEqualTo(0x0201);
  }

  private int loginStatus(byte[] keys) throws Exception {
    try (TestInitiator c = new TestInitiator(address)) {
      Pdu r = c.login(true, 1, 3, 0x400001370001L, keys);
      int status = r.bhs().u16(36);
      if (status != 0) {
        assertThat(c.closedByTarget()).isTrue();
      }
      return status;
    }
  }

  @Test
  void chapOneWayAndMutualLogin() throws Exception {
    byte[] secret = "secret-12345".getBytes(StandardCharsets.UTF_8);
    byte[] targetSecret = "target-secret-9".getBytes(StandardCharsets.UTF_8);
    catalog.chap.put(TestInitiator.NAME, new ChapCredentials("u", secret, "tgt", targetSecret));
    try (TestInitiator c = new TestInitiator(address)) {
      Pdu r =
          c.login(
              false,
              0,
              0,
              1,
              text(
                  "InitiatorName=" + TestInitiator.NAME,
                  "SessionType=Normal",
                  "TargetName=" + FakeCatalog.TARGET,
                  "AuthMethod=CHAP,None"));
      assertThat(r.keys()).containsEntry("AuthMethod", "CHAP");
      r = c.login(false, 0, 0, 1, text("CHAP_A=5"));
      Map<String, String> k = r.keys();
      byte[] challenge = Chap.decodeBinary(k.get("CHAP_C"));
      byte[] response =
          Chap.digest(Chap.Algorithm.MD5, Integer.parseInt(k.get("CHAP_I")), secret, challenge);
      r =
          c.login(
              true,
              0,
              1,
              1,
              text(
                  "CHAP_N=u",
                  "CHAP_R=0x" + HexFormat.of().formatHex(response),
                  "CHAP_I=3",
                  "CHAP_C=0xa1a2a3a4a5a6a7a8a9aa"));
      assertThat(r.bhs().u16(36)).isZero();
      assertThat(r.keys())
          .containsEntry("CHAP_N", "tgt")
          .containsEntry(
              "CHAP_R",
              "0x"
                  + HexFormat.of()
                      .formatHex(
                          Chap.digest(
                              Chap.Algorithm.MD5,
                              3,
                              targetSecret,
                              HexFormat.of().parseHex("a1a2a3a4a5a6a7a8a9aa"))));
      r = c.login(true, 1, 3, 1, text("MaxRecvDataSegmentLength=8192"));
      assertThat(r.bhs().u16(36)).isZero();
      assertThat(r.bhs().u16(14)).isNotZero();
    }
    try (TestInitiator c = new TestInitiator(address)) {
      c.login(
          false,
          0,
          0,
          1,
          text(
              "InitiatorName=" + TestInitiator.NAME,
              "SessionType=Normal",
              "TargetName=" + FakeCatalog.TARGET,
              "AuthMethod=CHAP"));
      c.login(false, 0, 0, 1, text("CHAP_A=5"));
      Pdu r = c.login(true, 0, 1, 1, text("CHAP_N=u", "CHAP_R=0x00112233445566778899aabbccddeeff"));
      assertThat(r.bhs().u16(36)).isEqualTo(0x0201);
      assertThat(c.closedByTarget()).isTrue();
    }
  }

  @Test
  void writeWithImmediateDataAndR2tThenReadSplitAtMaxRecvDataSegmentLength() throws Exception {
    try (TestInitiator c = loggedIn("MaxRecvDataSegmentLength=1024")) {
      byte[] data = new byte[4 * 512];
      new Random(1).nextBytes(data);
      byte[] first = java.util.Arrays.copyOf(data, 512);
      int itt = c.command(0, TestInitiator.cdb10(0x2a, 8, 4), false, true, data.length, first);
      Pdu r2t = c.receive();
      assertThat(r2t.opcode()).isEqualTo(Bhs.R2T);
      assertThat(r2t.bhs().i32(40)).isEqualTo(512);
      assertThat(r2t.bhs().i32(44)).isEqualTo(1536);
      int ttt = r2t.bhs().i32(20);
      c.dataOut(itt, ttt, 0, 512, java.util.Arrays.copyOfRange(data, 512, 1024), false);
      c.dataOut(itt, ttt, 1, 1024, java.util.Arrays.copyOfRange(data, 1024, 2048), true);
      Pdu rsp = c.receive();
      assertThat(rsp.opcode()).isEqualTo(Bhs.SCSI_RESPONSE);
      assertThat(rsp.bhs().u8(3)).isZero();
      assertThat(java.util.Arrays.copyOfRange(luns.disk, 8 * 512, 12 * 512)).isEqualTo(data);

      c.command(0, TestInitiator.cdb10(0x28, 8, 4), true, false, 3000, new byte[0]);
      List<Pdu> dataIn = new ArrayList<>();
      Pdu p;
      do {
        p = c.receive();
        dataIn.add(p);
      } while ((p.bhs().flags() & 0x01) == 0);
      assertThat(dataIn).hasSize(2);
      assertThat(dataIn.get(0).data()).hasSize(1024);
      assertThat(dataIn.get(1).bhs().i32(40)).isEqualTo(1024);
      assertThat(dataIn.get(1).bhs().flags() & 0x82).isEqualTo(0x82); // F and underflow
      assertThat(dataIn.get(1).bhs().i32(44)).isEqualTo(3000 - 2048);
      assertThat(java.util.Arrays.copyOfRange(data, 1024, 2048)).isEqualTo(dataIn.get(1).data());
    }
  }

  @Test
  void shortDataOutOfNonWriteCommandsReachesTheLogicalUnit() throws Exception {
    try (TestInitiator c = loggedIn()) {
      // No Data-Out at all (libiscsi's WRITE SAME with UNMAP and no buffer): the LU still answers,
      // so a read-only LU reports DATA PROTECT rather than the transport a shortfall.
      c.command(
          0, TestInitiator.cdb10(MemoryLuns.WRITE_SAME_10, 0, 1), false, false, 0, new byte[0]);
      Pdu none = c.receive();
      assertThat(none.opcode()).isEqualTo(Bhs.SCSI_RESPONSE);
      assertThat(none.bhs().u8(3)).isEqualTo(ScsiResult.CHECK_CONDITION);
      assertThat(senseKeyAscAscq(none)).isEqualTo(0x072700);
      // Part of the block: the LU gets exactly what came; the response reports the overflow.
      c.command(
          0,
          TestInitiator.cdb10(MemoryLuns.WRITE_SAME_10, 0, 1),
          false,
          true,
          100,
          TestInitiator.repeat(0x5a, 100));
      Pdu some = c.receive();
      assertThat(senseKeyAscAscq(some)).isEqualTo(0x072700);
      assertThat(some.bhs().flags() & 0x06).isEqualTo(0x04); // residual overflow
      assertThat(some.bhs().i32(44)).isEqualTo(MemoryLuns.BLOCK - 100);
      assertThat(luns.writeSameDataOut).containsExactly(0, 100);
    }
  }

  @Test
  void shortWriteIsTruncatedToTheBlocksThatCame() throws Exception {
    try (TestInitiator c = loggedIn()) {
      byte[] one = TestInitiator.repeat(0x33, 512);
      c.command(0, TestInitiator.cdb10(0x2a, 4, 2), false, true, 512, one);
      Pdu rsp = c.receive();
      assertThat(rsp.bhs().u8(3)).isZero();
      assertThat(rsp.bhs().flags() & 0x06).isEqualTo(0x04);
      assertThat(rsp.bhs().i32(44)).isEqualTo(512);
      byte[] written = luns.cdbs.get(luns.cdbs.size() - 1);
      assertThat(written[8]).isEqualTo((byte) 1); // transfer length cut to one block
      assertThat(java.util.Arrays.copyOfRange(luns.disk, 4 * 512, 5 * 512)).isEqualTo(one);
    }
  }

  @Test
  void targetWarmResetResetsEveryUnitOnce() throws Exception {
    try (TestInitiator c = loggedIn()) {
      Bhs reset =
          TestInitiator.header(Bhs.TASK_MGMT_REQUEST, 0x80 | TaskManagement.TARGET_WARM_RESET);
      reset.u8(0, 0x40 | Bhs.TASK_MGMT_REQUEST);
      reset.i32(16, 0x77);
      c.send(reset, new byte[0]);
      assertThat(c.receive().bhs().u8(2)).isEqualTo(TaskManagement.FUNCTION_COMPLETE);
      assertThat(luns.resets).containsExactly(0);
    }
  }

  /** Sense key, ASC and ASCQ of a SCSI Response as 0xKKAAQQ. */
  private static int senseKeyAscAscq(Pdu rsp) {
    byte[] d = rsp.data();
    assertThat(d.length).isGreaterThanOrEqualTo(2 + 14);
    return (d[2 + 2] & 0x0f) << 16 | (d[2 + 12] & 0xff) << 8 | (d[2 + 13] & 0xff);
  }

  @Test
  void unknownCdbIsCheckConditionAndUnknownOpcodeIsReject() throws Exception {
    try (TestInitiator c = loggedIn()) {
      byte[] cdb = new byte[16];
      cdb[0] = (byte) 0xee;
      c.command(0, cdb, false, false, 0, new byte[0]);
      Pdu rsp = c.receive();
      assertThat(rsp.bhs().u8(3)).isEqualTo(0x02);
      assertThat(rsp.data()[2 + 12]).isEqualTo((byte) 0x20);
      c.send(TestInitiator.header(0x1c, 0x80), new byte[0]);
      Pdu reject = c.receive();
      assertThat(reject.opcode()).isEqualTo(Bhs.REJECT);
      assertThat(reject.bhs().u8(2)).isEqualTo(PduException.COMMAND_NOT_SUPPORTED);
      assertThat(nopPing(c, "still alive")).isEqualTo("still alive");
    }
  }

  private static String nopPing(TestInitiator c, String payload) throws Exception {
    Bhs nop = TestInitiator.header(Bhs.NOP_OUT, 0x80);
    nop.u8(0, 0x40 | Bhs.NOP_OUT);
    nop.i32(16, 0x77);
    nop.i32(20, Bhs.RESERVED_TAG);
    nop.i32(24, c.cmdSn);
    c.send(nop, payload.getBytes(StandardCharsets.UTF_8));
    Pdu in = c.receive();
    assertThat(in.opcode()).isEqualTo(Bhs.NOP_IN);
    assertThat(in.bhs().itt()).isEqualTo(0x77);
    return new String(in.data(), StandardCharsets.UTF_8);
  }

  @Test
  void commandsOutsideTheCmdSnWindowAreDropped() throws Exception {
    try (TestInitiator c = loggedIn()) {
      int good = c.cmdSn;
      c.cmdSn = good + 100_000;
      c.command(0, new byte[16], false, false, 0, new byte[0]);
      c.cmdSn = good;
      int itt = c.command(0, new byte[16], false, false, 0, new byte[0]);
      Pdu rsp = c.receive();
      assertThat(rsp.bhs().itt()).isEqualTo(itt);
      assertThat(rsp.bhs().i32(28)).isEqualTo(good + 1); // ExpCmdSN
    }
  }

  @Test
  void abortTaskSuppressesTheResponse() throws Exception {
    try (TestInitiator c = loggedIn()) {
      byte[] cdb = new byte[16];
      cdb[0] = (byte) MemoryLuns.SLOW_OPCODE;
      int slowItt = c.command(0, cdb, false, false, 0, new byte[0]);
      luns.slowStarted.await();
      Bhs tmf = TestInitiator.header(Bhs.TASK_MGMT_REQUEST, 0x80 | TaskManagement.ABORT_TASK);
      tmf.u8(0, 0x40 | Bhs.TASK_MGMT_REQUEST);
      tmf.i32(16, 0x999);
      tmf.i32(20, slowItt);
      tmf.i32(24, c.cmdSn);
      c.send(tmf, new byte[0]);
      // The TMF waits for the running command; release it once the abort is recorded.
      CommandPath path = server.liveSessions().get(0).connection.commands();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (path.task(slowItt) != null && path.task(slowItt).phase != Task.Phase.ABORTED) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.onSpinWait();
      }
      luns.release();
      Pdu rsp = c.receive();
      assertThat(rsp.opcode()).isEqualTo(Bhs.TASK_MGMT_RESPONSE);
      assertThat(rsp.bhs().u8(2)).isEqualTo(TaskManagement.FUNCTION_COMPLETE);
      assertThat(nopPing(c, "x")).isEqualTo("x"); // and no SCSI Response came before it

      Bhs reset =
          TestInitiator.header(Bhs.TASK_MGMT_REQUEST, 0x80 | TaskManagement.LOGICAL_UNIT_RESET);
      reset.u8(0, 0x40 | Bhs.TASK_MGMT_REQUEST);
      reset.i32(16, 0x99a);
      c.send(reset, new byte[0]);
      assertThat(c.receive().bhs().u8(2)).isEqualTo(TaskManagement.FUNCTION_COMPLETE);
      assertThat(luns.resets).containsExactly(0);
      Bhs reassign =
          TestInitiator.header(Bhs.TASK_MGMT_REQUEST, 0x80 | TaskManagement.TASK_REASSIGN);
      reassign.u8(0, 0x40 | Bhs.TASK_MGMT_REQUEST);
      reassign.i32(16, 0x99b);
      c.send(reassign, new byte[0]);
      assertThat(c.receive().bhs().u8(2)).isEqualTo(TaskManagement.REASSIGNMENT_NOT_SUPPORTED);
    }
  }

  @Test
  void discoveryListsPortalsWithTextContinuation() throws Exception {
    List<TargetCatalog.Portal> many = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      many.add(new TargetCatalog.Portal("10.0.0." + i, 3260, 1 + i % 2));
    }
    catalog.portals = many;
    try (TestInitiator c = new TestInitiator(address)) {
      Pdu r =
          c.login(
              true,
              1,
              3,
              7,
              text(
                  "InitiatorName=" + TestInitiator.NAME,
                  "SessionType=Discovery",
                  "MaxRecvDataSegmentLength=512"));
      assertThat(r.bhs().u16(36)).isZero();
      Bhs req = TestInitiator.header(Bhs.TEXT_REQUEST, 0x80);
      req.u8(0, 0x40 | Bhs.TEXT_REQUEST);
      req.i32(16, 5);
      req.i32(20, Bhs.RESERVED_TAG);
      c.send(req, text("SendTargets=All"));
      StringBuilder all = new StringBuilder();
      int pieces = 0;
      while (true) {
        Pdu p = c.receive();
        assertThat(p.opcode()).isEqualTo(Bhs.TEXT_RESPONSE);
        assertThat(p.data().length).isLessThanOrEqualTo(512);
        all.append(new String(p.data(), StandardCharsets.UTF_8));
        pieces++;
        if (p.bhs().finalBit()) {
          assertThat(p.bhs().i32(20)).isEqualTo(Bhs.RESERVED_TAG);
          break;
        }
        Bhs more = TestInitiator.header(Bhs.TEXT_REQUEST, 0x80);
        more.u8(0, 0x40 | Bhs.TEXT_REQUEST);
        more.i32(16, 5);
        more.i32(20, p.bhs().i32(20));
        c.send(more, new byte[0]);
      }
      assertThat(pieces).isGreaterThan(1);
      assertThat(all.toString())
          .startsWith("TargetName=" + FakeCatalog.TARGET + "\0")
          .contains("TargetAddress=10.0.0.39:3260,2\0");
      // SCSI commands have no place in a discovery session.
      c.command(0, new byte[16], false, false, 0, new byte[0]);
      assertThat(c.receive().opcode()).isEqualTo(Bhs.REJECT);
    }
  }

  @Test
  void targetPingsIdleConnectionsAndDropsSilentOnes() throws Exception {
    try (TestInitiator c = loggedIn()) {
      clock.addAndGet(1_500_000_000L);
      Pdu ping = c.receive(); // socket timeout bounds the wait
      assertThat(ping.opcode()).isEqualTo(Bhs.NOP_IN);
      assertThat(ping.bhs().itt()).isEqualTo(Bhs.RESERVED_TAG);
      Bhs answer = TestInitiator.header(Bhs.NOP_OUT, 0x80);
      answer.u8(0, 0x40 | Bhs.NOP_OUT);
      answer.i32(16, Bhs.RESERVED_TAG);
      answer.i32(20, ping.bhs().i32(20));
      c.send(answer, new byte[0]);
      assertThat(nopPing(c, "ok")).isEqualTo("ok");
      clock.addAndGet(1_500_000_000L);
      assertThat(c.receive().opcode()).isEqualTo(Bhs.NOP_IN); // second ping, left unanswered
      clock.addAndGet(1_500_000_000L);
      assertThat(c.closedByTarget()).isTrue();
    }
  }

  @Test
  void severalPortalsServeAtOnce() throws Exception {
    InetSocketAddress second = server.listen(new InetSocketAddress("127.0.0.1", 0), 2);
    try (TestInitiator a = loggedIn();
        TestInitiator b = new TestInitiator(second)) {
      Pdu r =
          b.login(
              true,
              1,
              3,
              0x400001370099L,
              text("InitiatorName=" + TestInitiator.NAME, "TargetName=" + FakeCatalog.TARGET));
      assertThat(r.keys()).containsEntry("TargetPortalGroupTag", "2");
      assertThat(nopPing(a, "a")).isEqualTo("a");
      assertThat(nopPing(b, "b")).isEqualTo("b");
      assertThat(server.sessions()).hasSize(2);
    }
    server.closePortal(second);
  }

  @Test
  void sendTargetsInANormalSession() throws Exception {
    try (TestInitiator c = loggedIn()) {
      assertThat(textRequest(c, "SendTargets=")).contains("TargetName=" + FakeCatalog.TARGET);
      assertThat(textRequest(c, "SendTargets=" + FakeCatalog.TARGET))
          .contains("TargetAddress=127.0.0.1:3260,1");
      assertThat(textRequest(c, "SendTargets=Alle")).isEqualTo("SendTargets=Reject\0");
      assertThat(textRequest(c, "sENDtARGETS=aLL")).isEqualTo("sENDtARGETS=NotUnderstood\0");
    }
  }

  private static String textRequest(TestInitiator c, String pair) throws Exception {
    Bhs req = TestInitiator.header(Bhs.TEXT_REQUEST, 0x80);
    req.u8(0, 0x40 | Bhs.TEXT_REQUEST);
    req.i32(16, 0x4242);
    req.i32(20, Bhs.RESERVED_TAG);
    req.i32(24, c.cmdSn);
    c.send(req, text(pair));
    Pdu r = c.receive();
    assertThat(r.opcode()).isEqualTo(Bhs.TEXT_RESPONSE);
    assertThat(r.bhs().finalBit()).isTrue();
    return new String(r.data(), StandardCharsets.UTF_8);
  }

  @Test
  void connectionsThatNeverLogInAreClosed() throws Exception {
    try (TestInitiator idle = new TestInitiator(address)) {
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (server.connectionCount() == 0) {
        assertThat(System.nanoTime()).as("connection accepted").isLessThan(deadline);
        Thread.onSpinWait();
      }
      clock.addAndGet(IscsiSettings.LOGIN_TIMEOUT_DEFAULT_MS * 1_000_000L + 1);
      assertThat(idle.closedByTarget()).isTrue();
    }
  }

  @Test
  void logoutClosesTheSession() throws Exception {
    try (TestInitiator c = loggedIn()) {
      Bhs logout = TestInitiator.header(Bhs.LOGOUT_REQUEST, 0x80);
      logout.u8(0, 0x40 | Bhs.LOGOUT_REQUEST);
      logout.i32(16, 0x55);
      c.send(logout, new byte[0]);
      Pdu r = c.receive();
      assertThat(r.opcode()).isEqualTo(Bhs.LOGOUT_RESPONSE);
      assertThat(r.bhs().u8(2)).isZero();
      assertThat(c.closedByTarget()).isTrue();
      assertThat(luns.attached).isEmpty();
    }
  }

  @Test
  void sameIsidReinstatesTheSession() throws Exception {
    try (TestInitiator first = loggedIn();
        TestInitiator second = loggedIn()) {
      assertThat(first.closedByTarget()).isTrue();
      assertThat(nopPing(second, "new")).isEqualTo("new");
      assertThat(server.sessions()).hasSize(1);
    }
  }

  @Test
  void hostileBytesEndOnlyThatConnection() throws Exception {
    Random random = new Random(99);
    for (int i = 0; i < 30; i++) {
      try (Socket s = new Socket(address.getAddress(), address.getPort())) {
        s.setSoTimeout(5000);
        byte[] junk = new byte[48 + random.nextInt(200)];
        random.nextBytes(junk);
        if (i % 3 == 0) {
          junk[0] = Bhs.LOGIN_REQUEST; // a login header with garbage everywhere else
        }
        OutputStream out = s.getOutputStream();
        out.write(junk);
        out.flush();
        s.shutdownOutput();
        while (s.getInputStream().read(new byte[512]) >= 0) {
          // drain whatever the target answers until it closes
        }
      } catch (java.net.SocketException e) {
        // reset by the target: fine
      }
    }
    try (TestInitiator c = loggedIn()) {
      // A data segment above our MaxRecvDataSegmentLength: Reject, then the connection closes.
      Bhs nop = TestInitiator.header(Bhs.NOP_OUT, 0x80);
      nop.u8(0, 0x40 | Bhs.NOP_OUT);
      nop.i32(16, 1);
      nop.dataSegmentLength(0xffffff);
      c.out.write(nop.bytes);
      c.out.flush();
      Pdu r = c.receive();
      assertThat(r.opcode()).isEqualTo(Bhs.REJECT);
      assertThat(c.closedByTarget()).isTrue();
    }
    try (TestInitiator c = loggedIn()) {
      assertThat(nopPing(c, "fine")).isEqualTo("fine");
    }
  }
}
