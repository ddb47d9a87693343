package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.duet.store.VolumeStore;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STARTTLS with mutual certificates, FORCEDTLS refusals and key-file errors. */
class TlsTest {
  @TempDir Path dir;
  private VolumeStore store;
  private NbdServer server;
  private int port;
  private Path pki;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(Tools.installed("openssl"));
    pki = Files.createDirectories(dir.resolve("pki"));
    TestCertificates.create(pki);
    store = VolumeStore.open(dir.resolve("store"));
    SSLContext ctx =
        NbdTls.fromPem(
            pki.resolve("server-cert.pem"),
            pki.resolve("server-key.pem"),
            Optional.of(pki.resolve("ca-cert.pem")));
    server =
        new NbdServer(
            new TestExports().add("vol", store.create("vol", 1 << 20, 512), false),
            NbdSettings.defaults().withTls(ctx, true, true));
    port = server.listen(new InetSocketAddress("127.0.0.1", 0)).getPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
      store.close();
    }
  }

  @Test
  void optionsBeforeStartTlsAreRefusedWithTlsReqd() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      assertThat(c.option(Nbd.OPT_LIST, new byte[0]).type()).isEqualTo(Nbd.REP_ERR_TLS_REQD);
      assertThat(c.option(Nbd.OPT_GO, RawClient.goData("vol")).type())
          .isEqualTo(Nbd.REP_ERR_TLS_REQD);
      c.sendOption(Nbd.OPT_EXPORT_NAME, "vol".getBytes());
      assertThat(c.closedByServer()).isTrue();
    }
  }

  @Test
  void mutualTlsWithAClientCertificateServesRequests() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      assertThat(c.option(Nbd.OPT_STARTTLS, new byte[0]).type()).isEqualTo(Nbd.REP_ACK);
      SSLSocket tls = upgrade(c, clientContext(true));
      DataOutputStream out = new DataOutputStream(tls.getOutputStream());
      DataInputStream in = new DataInputStream(tls.getInputStream());
      out.writeLong(Nbd.IHAVEOPT);
      out.writeInt(Nbd.OPT_STARTTLS);
      out.writeInt(0);
      out.flush();
      assertThat(in.readLong()).isEqualTo(Nbd.OPTION_REPLY_MAGIC);
      in.readInt();
      assertThat(in.readInt()).isEqualTo(Nbd.REP_ERR_INVALID); // TLS is already up
      in.readNBytes(in.readInt());
      byte[] name = "vol".getBytes();
      out.writeLong(Nbd.IHAVEOPT);
      out.writeInt(Nbd.OPT_EXPORT_NAME);
      out.writeInt(name.length);
      out.write(name);
      out.flush();
      assertThat(in.readLong()).isEqualTo(1 << 20);
      in.readUnsignedShort();
      out.writeInt(Nbd.REQUEST_MAGIC);
      out.writeShort(0);
      out.writeShort(Nbd.CMD_READ);
      out.writeLong(5);
      out.writeLong(0);
      out.writeInt(512);
      out.flush();
      assertThat(in.readInt()).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
      assertThat(in.readInt()).isZero();
      assertThat(in.readLong()).isEqualTo(5);
      assertThat(in.readNBytes(512)).hasSize(512);
      assertThat(server.connections()).anyMatch(i -> i.tls() && i.export().isPresent());
    }
  }

  @Test
  void aClientWithoutCertificateIsDropped() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      assertThat(c.option(Nbd.OPT_STARTTLS, new byte[0]).type()).isEqualTo(Nbd.REP_ACK);
      assertThatThrownBy(
              () -> {
                SSLSocket tls = upgrade(c, clientContext(false));
                // TLS 1.3 reports the server's refusal on the first read.
                tls.getOutputStream().write(new byte[16]);
                tls.getOutputStream().flush();
                tls.getInputStream().read();
              })
          .isInstanceOf(java.io.IOException.class);
    }
  }

  @Test
  void unsupportedKeyFilesGetAClearError() throws Exception {
    Path pkcs1 = dir.resolve("rsa.pem");
    Files.writeString(
        pkcs1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(
            () -> NbdTls.fromPem(pki.resolve("server-cert.pem"), pkcs1, Optional.empty()))
        .hasMessageContaining("openssl pkcs8");
    assertThatThrownBy(
            () ->
                NbdTls.fromPem(
                    pki.resolve("server-cert.pem"), pki.resolve("ca-cert.pem"), Optional.empty()))
        .hasMessageContaining("PRIVATE KEY");
  }

  @Test
  void aPkcs12KeystoreServesTls() throws Exception {
    Path p12 = dir.resolve("server.p12");
    Tools.ok(
        "openssl",
        "pkcs12",
        "-export",
        "-passout",
        "pass:secret",
        "-inkey",
        pki.resolve("server-key.pem").toString(),
        "-in",
        pki.resolve("server-cert.pem").toString(),
        "-out",
        p12.toString());
    SSLContext ctx = NbdTls.fromPkcs12(p12, "secret".toCharArray(), Optional.empty());
    try (NbdServer other =
            new NbdServer(
                new TestExports().add("vol", store.get("vol").orElseThrow(), false),
                NbdSettings.defaults().withTls(ctx, false, false));
        RawClient c =
            new RawClient(other.listen(new InetSocketAddress("127.0.0.1", 0)).getPort())
                .handshake()) {
      assertThat(c.option(Nbd.OPT_LIST, new byte[0]).type()).isEqualTo(Nbd.REP_SERVER);
      c.readOptionReply();
      assertThat(c.option(Nbd.OPT_STARTTLS, new byte[0]).type()).isEqualTo(Nbd.REP_ACK);
      SSLSocket tls =
          (SSLSocket)
              clientContext(false)
                  .getSocketFactory()
                  .createSocket(c.socket, "127.0.0.1", c.socket.getPort(), false);
      tls.setUseClientMode(true);
      tls.startHandshake();
      assertThat(tls.getSession().getPeerPrincipal().getName()).contains("localhost");
    }
    assertThatThrownBy(() -> NbdTls.fromPkcs12(p12, "wrong".toCharArray(), Optional.empty()))
        .hasMessageContaining(p12.toString());
  }

  private SSLSocket upgrade(RawClient c, SSLContext ctx) throws Exception {
    SSLSocket tls =
        (SSLSocket) ctx.getSocketFactory().createSocket(c.socket, "127.0.0.1", port, false);
    tls.setUseClientMode(true);
    tls.startHandshake();
    return tls;
  }

  /** A client context trusting the test CA, with or without the client certificate. */
  private SSLContext clientContext(boolean withCertificate) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (FileInputStream in = new FileInputStream(pki.resolve("ca-cert.pem").toFile())) {
      trust.setCertificateEntry(
          "ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (withCertificate) {
      Path p12 = dir.resolve("client.p12");
      Tools.ok(
          "openssl",
          "pkcs12",
          "-export",
          "-passout",
          "pass:test",
          "-inkey",
          pki.resolve("client-key.pem").toString(),
          "-in",
          pki.resolve("client-cert.pem").toString(),
          "-out",
          p12.toString());
      KeyStore keys = KeyStore.getInstance("PKCS12");
      try (FileInputStream in = new FileInputStream(p12.toFile())) {
        keys.load(in, "test".toCharArray());
      }
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, "test".toCharArray());
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }
}
