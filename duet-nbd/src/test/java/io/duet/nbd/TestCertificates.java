package io.duet.nbd;

import java.nio.file.Path;

/**
 * A throw-away PKI made with openssl at test time: a CA, a server certificate for 127.0.0.1 and
 * localhost, and a client certificate, laid out as libnbd's {@code tls-certificates=DIR} expects
 * ({@code ca-cert.pem}, {@code client-cert.pem}, {@code client-key.pem}).
 *
 * <p>Server and client keys are EC P-256: with RSA keys, GnuTLS (libnbd, qemu) sends no client
 * certificate in answer to the JDK server's TLS 1.3 CertificateRequest, so mutual TLS fails.
 */
final class TestCertificates {
  private TestCertificates() {}

  static void create(Path dir) throws Exception {
    String d = dir.toString();
    Tools.ok(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=duet-test-ca",
        "-keyout",
        d + "/ca-key.pem",
        "-out",
        d + "/ca-cert.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign,cRLSign");
    issue(d, "server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    issue(d, "client", "/CN=duet-test-client", "extendedKeyUsage=clientAuth");
  }

  private static void issue(String d, String who, String subject, String ext) throws Exception {
    Tools.ok(
        "openssl",
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        d + "/" + who + "-key.pem");
    Tools.ok(
        "openssl",
        "req",
        "-new",
        "-key",
        d + "/" + who + "-key.pem",
        "-subj",
        subject,
        "-out",
        d + "/" + who + ".csr");
    java.nio.file.Files.writeString(Path.of(d, who + ".ext"), ext + "\n");
    Tools.ok(
        "openssl",
        "x509",
        "-req",
        "-in",
        d + "/" + who + ".csr",
        "-CA",
        d + "/ca-cert.pem",
        "-CAkey",
        d + "/ca-key.pem",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        d + "/" + who + ".ext",
        "-out",
        d + "/" + who + "-cert.pem");
  }
}
