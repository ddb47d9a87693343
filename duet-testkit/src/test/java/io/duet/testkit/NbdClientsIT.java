package io.duet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real site process with an NBD listener (and STARTTLS) driven by clients nobody here wrote:
 * nbdinfo, nbdcopy, qemu-img/qemu-io and fio's nbd engine; iSCSI and NBD see the same bytes;
 * hostile raw-socket input is answered per proto.md while other clients keep being served.
 */
class NbdClientsIT {
  private static final long SIZE = 64L << 20;
  private static final long NBD_OPT_MAGIC = 0x49484156454F5054L;
  private static final long NBD_REP_MAGIC = 0x3e889045565a9L;
  private static final int NBD_REQUEST_MAGIC = 0x25609513;
  private static final String INITIATOR = "iqn.2026-11.io.duet.test:nbd-it";

  private static Path work;
  private static Path pki;
  private static SiteProcess site;
  private static DuetApi api;
  private static int nbdPort;
  private static String uri;

  @BeforeAll
  static void startSite() throws Exception {
    work = Files.createTempDirectory(Path.of("target"), "nbd-it").toAbsolutePath();
    pki = Files.createDirectories(work.resolve("pki"));
    certificates(pki);
    site =
        SiteProcess.start(
            work,
            "nbd-it",
            "nbdTls:\n  certificate: pki/server-cert.pem\n  key: pki/server-key.pem\n");
    api = site.api();
    api.post("/api/v1/volumes", "{\"name\":\"vol\",\"size\":\"64MiB\",\"blockSize\":512}");
    api.post("/api/v1/mappings", "{\"volume\":\"vol\",\"host\":\"*\",\"lun\":0}");
    JsonNode export = api.post("/api/v1/nbd/exports", "{\"volume\":\"vol\"}");
    api.post("/api/v1/nbd/exports", "{\"volume\":\"vol\",\"name\":\"vol-ro\",\"readOnly\":true}");
    uri = export.get("urls").get(0).asText();
    nbdPort = Integer.parseInt(uri.replaceAll("^nbd://127\\.0\\.0\\.1:(\\d+)/.*$", "$1"));
  }

  @AfterAll
  static void stopSite() throws Exception {
    if (site != null) {
      site.close();
    }
  }

  private static void certificates(Path dir) throws Exception {
    String d = dir.toString();
    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=nbd-it-ca",
        "-keyout",
        d + "/ca-key.pem",
        "-out",
        d + "/ca-cert.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign,cRLSign");
    run("openssl", "genpkey", "-algorithm", "RSA", "-out", d + "/server-key.pem");
    run(
        "openssl",
        "req",
        "-new",
        "-key",
        d + "/server-key.pem",
        "-subj",
        "/CN=localhost",
        "-out",
        d + "/server.csr");
    Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        d + "/server.csr",
        "-CA",
        d + "/ca-cert.pem",
        "-CAkey",
        d + "/ca-key.pem",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        d + "/server.ext",
        "-out",
        d + "/server-cert.pem");
  }

  /** Runs a tool, failing with its output unless it exits 0; returns the output. */
  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " timed out");
    }
    assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + output).isZero();
    return output;
  }

  private static int exitOf(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(120, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }

  /**
   * nbdsh (libnbd's scripting shell): the flags a client plans with, a write/flush/read round trip,
   * trim turning a region into a hole that base:allocation reports, and fast zero on a hole.
   */
  @Test
  void nbdshSeesFlagsDataAndHoles() throws Exception {
    String script =
        String.join(
            "\n",
            "assert h.can_multi_conn() and h.can_flush() and h.can_fua()",
            "assert h.can_trim() and h.can_zero() and h.can_meta_context('base:allocation')",
            "data = bytes(range(256)) * 256",
            "h.pwrite(data, 1048576, nbd.CMD_FLAG_FUA)",
            "h.flush()",
            "assert h.pread(65536, 1048576) == data",
            "h.trim(65536, 1048576)",
            "assert h.pread(65536, 1048576) == bytes(65536)",
            "seen = []",
            "def f(ctx, offset, entries, err):",
            "    seen.extend(entries)",
            "    return 0",
            "h.block_status(65536, 1048576, f)",
            "assert seen[1] & nbd.STATE_HOLE, seen",
            "print('nbdsh-ok')");
    // nbdsh's "#!/usr/bin/env python3" may find a python without the nbd module (pyenv); run it
    // with the system python that python3-libnbd installed the module for.
    String out =
        run("env", "PATH=/usr/bin:/bin", "nbdsh", "--base-allocation", "-u", uri, "-c", script);
    assertThat(out).contains("nbdsh-ok");
  }

  private static Path randomFile(String name, long seed) throws IOException {
    byte[] data = new byte[(int) SIZE];
    new Random(seed).nextBytes(data);
    return Files.write(work.resolve(name), data);
  }

  @Test
  void nbdinfoShowsTheExportsAndTheirFlags() throws Exception {
    assertThat(run("nbdinfo", uri))
        .contains("export-size: " + SIZE)
        .contains("can_multi_conn: true")
        .contains("can_trim: true")
        .contains("base:allocation");
    assertThat(run("nbdinfo", "nbd://127.0.0.1:" + nbdPort + "/vol-ro"))
        .contains("is_read_only: true");
    assertThat(run("nbdinfo", "--list", "nbd://127.0.0.1:" + nbdPort))
        .contains("export=\"vol\"")
        .contains("export=\"vol-ro\"");
    JsonNode status = api.get("/api/v1/status");
    assertThat(status.get("nbd").toString()).contains(uri);
  }

  @Test
  void nbdcopyAndQemuImgRoundTripAndMapHolesAfterTrim() throws Exception {
    Path in = randomFile("in.img", 11);
    run("nbdcopy", in.toString(), uri);
    Path out = work.resolve("out.img");
    run("nbdcopy", uri, out.toString());
    assertThat(Files.mismatch(in, out)).isEqualTo(-1);

    Path in2 = randomFile("in2.img", 12);
    run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in2.toString(), uri);
    assertThat(run("qemu-img", "compare", "-f", "raw", "-F", "raw", in2.toString(), uri))
        .contains("identical");
    run("qemu-io", "-f", "raw", "-c", "discard 32M 16M", uri);
    assertThat(run("qemu-img", "map", "--output=json", "-f", "raw", uri))
        .contains(
            "\"start\": 33554432, \"length\": 16777216, \"depth\": 0, \"present\": true,"
                + " \"zero\": true, \"data\": false");
    assertThat(run("nbdinfo", "--map", uri)).contains("hole,zero");
  }

  @Test
  void fioRandomWritesOverFourConnectionsVerify() throws Exception {
    String output =
        run(
            "fio",
            "--name=nbd-it",
            "--ioengine=nbd",
            "--uri=" + uri,
            "--rw=randwrite",
            "--bs=4k",
            "--size=8m",
            "--offset_increment=8m",
            "--numjobs=4",
            "--iodepth=16",
            "--verify=crc32c",
            "--verify_state_save=0",
            "--do_verify=1",
            "--group_reporting");
    assertThat(output).doesNotContain("verify failed");
  }

  @Test
  void iscsiAndNbdSeeTheSameBytes() throws Exception {
    JsonNode targets = api.get("/api/v1/targets");
    String target = targets.get(0).get("name").asText();
    JsonNode portal = api.get("/api/v1/portals").get(0);
    String address = portal.get("address").asText();
    InetSocketAddress iscsi =
        new InetSocketAddress(
            "127.0.0.1", Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)));
    byte[] viaIscsi = new byte[8 * 512];
    new Random(21).nextBytes(viaIscsi);
    byte[] viaNbd = new byte[8 * 512];
    new Random(22).nextBytes(viaNbd);
    try (RawInitiator s = RawInitiator.login(iscsi, INITIATOR, target, 0x400000000777L)) {
      RawInitiator.Response w = s.command(0, Cdbs.write10(60_000, 8, true), viaIscsi, 0);
      if (w.senseKey() == 6) { // the unit attention after login
        w = s.command(0, Cdbs.write10(60_000, 8, true), viaIscsi, 0);
      }
      assertThat(w.status()).isZero();
      try (NbdSocket n = NbdSocket.attach(nbdPort, "vol")) {
        assertThat(n.read(60_000L * 512, viaIscsi.length)).isEqualTo(viaIscsi);
        n.write(61_000L * 512, viaNbd);
      }
      RawInitiator.Response r = s.command(0, Cdbs.read10(61_000, 8), null, viaNbd.length);
      assertThat(r.status()).isZero();
      assertThat(r.data()).isEqualTo(viaNbd);
    }
  }

  @Test
  void startTlsWithNbdinfo() throws Exception {
    String out = run("nbdinfo", "nbds://127.0.0.1:" + nbdPort + "/vol?tls-certificates=" + pki);
    assertThat(out).contains("TLS").contains("export-size: " + SIZE);
  }

  @Test
  void hostileInputGetsTheRightAnswersAndOthersAreStillServed() throws Exception {
    try (NbdSocket n = NbdSocket.connect(nbdPort)) { // bad option magic: closed
      n.out.writeLong(0x0102030405060708L);
      n.out.writeInt(3);
      n.out.writeInt(0);
      n.out.flush();
      assertThat(n.closedByServer()).isTrue();
    }
    try (NbdSocket n = NbdSocket.connect(nbdPort)) { // unknown option: ERR_UNSUP, still open
      assertThat(n.option(999, new byte[0])).isEqualTo(0x80000001);
      assertThat(n.option(999, new byte[4])).isEqualTo(0x80000001);
    }
    try (NbdSocket n = NbdSocket.connect(nbdPort)) { // option length 2^31: TOO_BIG, closed
      n.out.writeLong(NBD_OPT_MAGIC);
      n.out.writeInt(3);
      n.out.writeInt(0x80000000);
      n.out.flush();
      assertThat(n.optionReply()).isEqualTo(0x80000009);
      assertThat(n.closedByServer()).isTrue();
    }
    try (NbdSocket n = NbdSocket.attach(nbdPort, "vol")) {
      assertThat(n.request(0, 0, SIZE - 512, 4096)).isEqualTo(22); // read past the end: EINVAL
      assertThat(n.request(0, 0, 0, (32 << 20) + 1)).isEqualTo(75); // oversize: EOVERFLOW
      assertThat(n.request(0, 42, 0, 0)).isEqualTo(22); // unknown command: EINVAL
      n.out.writeInt(0x12345678); // bad request magic: closed
      n.out.write(new byte[24]);
      n.out.flush();
      assertThat(n.closedByServer()).isTrue();
    }
    try (NbdSocket n = NbdSocket.attach(nbdPort, "vol-ro")) {
      n.out.writeInt(NBD_REQUEST_MAGIC);
      n.out.writeShort(0);
      n.out.writeShort(1);
      n.out.writeLong(7);
      n.out.writeLong(0);
      n.out.writeInt(512);
      n.out.write(new byte[512]);
      n.out.flush();
      assertThat(n.simpleReplyError(7)).isEqualTo(1); // EPERM
    }
    assertThat(run("nbdinfo", uri)).contains("export-size: " + SIZE);
  }

  @Test
  void exportsAreAdministeredThroughTheApi() throws Exception {
    try {
      api.delete("/api/v1/volumes/vol");
      throw new AssertionError("deleting an exported volume must be refused");
    } catch (DuetApi.ApiException e) {
      assertThat(e.status).isEqualTo(409);
    }
    api.post("/api/v1/volumes", "{\"name\":\"far\",\"size\":\"1MiB\",\"blockSize\":4096}");
    api.post("/api/v1/nbd/exports", "{\"volume\":\"far\",\"allow\":[\"192.0.2.0/24\"]}");
    // Loopback is not in 192.0.2.0/24: the export is invisible and cannot be opened.
    assertThat(run("nbdinfo", "--list", "nbd://127.0.0.1:" + nbdPort)).doesNotContain("\"far\"");
    assertThat(exitOf("nbdinfo", "nbd://127.0.0.1:" + nbdPort + "/far")).isNotZero();
    api.delete("/api/v1/nbd/exports/far");
    List<String> names = new ArrayList<>();
    api.get("/api/v1/nbd/exports").forEach(e -> names.add(e.get("name").asText()));
    assertThat(names).contains("vol", "vol-ro").doesNotContain("far");
    api.delete("/api/v1/volumes/far");
  }

  /** Just enough NBD client to send hostile bytes and to move data without a library. */
  private static final class NbdSocket implements AutoCloseable {
    final Socket socket = new Socket();
    final DataInputStream in;
    final DataOutputStream out;

    private NbdSocket(int port) throws IOException {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(10_000);
      in = new DataInputStream(socket.getInputStream());
      // Buffered, so a hostile message leaves in one write: the server may close as soon as it
      // has seen enough, and a second write would then fail with a broken pipe.
      out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
    }

    /** Whether the server closed the connection (EOF or reset). */
    boolean closedByServer() throws IOException {
      try {
        return in.read() == -1;
      } catch (java.net.SocketException e) {
        return true;
      }
    }

    /** Connects and completes the greeting (fixed newstyle, no zeroes). */
    static NbdSocket connect(int port) throws IOException {
      NbdSocket n = new NbdSocket(port);
      n.in.readNBytes(18);
      n.out.writeInt(3);
      return n;
    }

    /** Connects and enters transmission on {@code export} with simple replies. */
    static NbdSocket attach(int port, String export) throws IOException {
      NbdSocket n = connect(port);
      byte[] name = export.getBytes(StandardCharsets.UTF_8);
      n.out.writeLong(NBD_OPT_MAGIC);
      n.out.writeInt(1); // NBD_OPT_EXPORT_NAME
      n.out.writeInt(name.length);
      n.out.write(name);
      n.out.flush();
      n.in.readLong(); // size
      n.in.readUnsignedShort(); // transmission flags
      return n;
    }

    int option(int option, byte[] data) throws IOException {
      out.writeLong(NBD_OPT_MAGIC);
      out.writeInt(option);
      out.writeInt(data.length);
      out.write(data);
      out.flush();
      return optionReply();
    }

    int optionReply() throws IOException {
      assertThat(in.readLong()).isEqualTo(NBD_REP_MAGIC);
      in.readInt();
      int type = in.readInt();
      in.readNBytes(in.readInt());
      return type;
    }

    /** Sends a payload-less request and returns the error of its simple reply (0: success). */
    int request(int flags, int type, long offset, long length) throws IOException {
      out.writeInt(NBD_REQUEST_MAGIC);
      out.writeShort(flags);
      out.writeShort(type);
      out.writeLong(99);
      out.writeLong(offset);
      out.writeInt((int) length);
      out.flush();
      int error = simpleReplyError(99);
      if (error == 0 && type == 0) {
        in.readNBytes((int) length);
      }
      return error;
    }

    int simpleReplyError(long cookie) throws IOException {
      assertThat(in.readInt()).isEqualTo(0x67446698);
      int error = in.readInt();
      assertThat(in.readLong()).isEqualTo(cookie);
      return error;
    }

    byte[] read(long offset, int length) throws IOException {
      out.writeInt(NBD_REQUEST_MAGIC);
      out.writeShort(0);
      out.writeShort(0);
      out.writeLong(1);
      out.writeLong(offset);
      out.writeInt(length);
      out.flush();
      assertThat(simpleReplyError(1)).isZero();
      return in.readNBytes(length);
    }

    void write(long offset, byte[] data) throws IOException {
      out.writeInt(NBD_REQUEST_MAGIC);
      out.writeShort(1); // FUA
      out.writeShort(1);
      out.writeLong(2);
      out.writeLong(offset);
      out.writeInt(data.length);
      out.write(data);
      out.flush();
      assertThat(simpleReplyError(2)).isZero();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static {
    // Every tool these tests drive must be installed; the class is skipped as a whole otherwise.
    for (String tool : List.of("nbdinfo", "nbdcopy", "qemu-img", "qemu-io", "fio", "openssl")) {
      boolean found =
          Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
              .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
      if (!found) {
        assumeTrue(false, tool + " is not installed");
      }
    }
  }
}
