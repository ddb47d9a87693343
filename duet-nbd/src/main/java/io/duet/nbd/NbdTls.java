package io.duet.nbd;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the server's {@link SSLContext} for NBD STARTTLS from files: a PEM certificate chain with
 * a PEM PKCS#8 private key, or a PKCS#12 keystore; optionally a PEM file of CA certificates that
 * client certificates must chain to. Errors name the file and what is wrong with it.
 */
public final class NbdTls {
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
  private static final char[] NO_PASSWORD = new char[0];
  private static final int MAX_FILE_BYTES = 1 << 20;

  private NbdTls() {}

  /** A context from a PEM certificate chain (leaf first) and a PEM PKCS#8 private key. */
  public static SSLContext fromPem(Path certificate, Path key, Optional<Path> clientCa)
      throws IOException {
    try {
      List<Certificate> chain = certificates(certificate);
      PrivateKey privateKey = privateKey(key);
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("nbd", privateKey, NO_PASSWORD, chain.toArray(new Certificate[0]));
      return context(ks, NO_PASSWORD, clientCa);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build TLS context from " + certificate + ": " + e, e);
    }
  }

  /** A context from a PKCS#12 keystore holding the server's key and certificate chain. */
  public static SSLContext fromPkcs12(Path keystore, char[] password, Optional<Path> clientCa)
      throws IOException {
    KeyStore ks;
    try (InputStream in = Files.newInputStream(keystore)) {
      ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
    } catch (GeneralSecurityException | IOException e) {
      // KeyStore reports a wrong password as a bare IOException: name the file.
      throw new IOException("cannot load PKCS#12 keystore " + keystore + ": " + e.getMessage(), e);
    }
    try {
      return context(ks, password, clientCa);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use PKCS#12 keystore " + keystore + ": " + e, e);
    }
  }

  private static SSLContext context(KeyStore keys, char[] password, Optional<Path> clientCa)
      throws IOException, GeneralSecurityException {
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    TrustManagerFactory tmf = null;
    if (clientCa.isPresent()) {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (Certificate c : certificates(clientCa.get())) {
        trust.setCertificateEntry("ca-" + i++, c);
      }
      tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
    return ctx;
  }

  private static List<Certificate> certificates(Path file)
      throws IOException, GeneralSecurityException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    Collection<? extends Certificate> certs;
    try (InputStream in = new ByteArrayInputStream(read(file))) {
      certs = cf.generateCertificates(in);
    }
    if (certs.isEmpty()) {
      throw new IOException(file + ": no certificate found");
    }
    return new ArrayList<>(certs);
  }

  private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    String text = new String(read(file), StandardCharsets.US_ASCII);
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      String type = m.group(1);
      if (type.equals("PRIVATE KEY")) {
        byte[] der = Base64.getMimeDecoder().decode(m.group(2));
        return pkcs8(file, der);
      }
      if (type.endsWith("PRIVATE KEY")) {
        throw new IOException(
            file
                + ": '"
                + type
                + "' keys are not supported; convert with"
                + " 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8'");
      }
    }
    throw new IOException(file + ": no '-----BEGIN PRIVATE KEY-----' block found");
  }

  private static PrivateKey pkcs8(Path file, byte[] der) throws IOException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
        // Not this algorithm; PKCS#8 names it inside, but KeyFactory wants it up front.
      }
    }
    throw new IOException(file + ": not an RSA, EC or EdDSA PKCS#8 private key");
  }

  private static byte[] read(Path file) throws IOException {
    if (Files.size(file) > MAX_FILE_BYTES) {
      throw new IOException(file + ": larger than " + MAX_FILE_BYTES + " bytes");
    }
    return Files.readAllBytes(file);
  }
}
