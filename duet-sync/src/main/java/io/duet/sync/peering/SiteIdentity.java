package io.duet.sync.peering;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A site's long-lived identity on the replication link: its name, UUID, an EC P-256 key pair and a
 * self-signed certificate whose subject carries both. Generated once and kept in the data directory
 * ({@code site.key} 0600, {@code site.crt}); peers pin the certificate, so it never needs a CA.
 */
public final class SiteIdentity {
  static final String KEY_FILE = "site.key";
  static final String CERT_FILE = "site.crt";
  private static final String KEY_BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String KEY_END = "-----END PRIVATE KEY-----";

  /** Pinned certificates are not checked for expiry, but TLS stacks still like a sane window. */
  private static final Duration VALIDITY = Duration.ofDays(365L * 50);

  private final String name;
  private final UUID siteId;
  private final PrivateKey privateKey;
  private final X509Certificate certificate;

  private SiteIdentity(String name, UUID siteId, PrivateKey key, X509Certificate certificate) {
    this.name = name;
    this.siteId = siteId;
    this.privateKey = key;
    this.certificate = certificate;
  }

  /**
   * Loads the identity kept in {@code dir}, or creates and stores a new one. An existing identity
   * must carry {@code siteId}: a data directory that moved to another site is refused, not reused.
   */
  public static SiteIdentity loadOrCreate(
      Path dir, String name, UUID siteId, SecureRandom random, Instant now) throws IOException {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(siteId, "siteId");
    Path keyFile = dir.resolve(KEY_FILE);
    Path certFile = dir.resolve(CERT_FILE);
    if (Files.exists(keyFile) && Files.exists(certFile)) {
      SiteIdentity loaded = load(keyFile, certFile);
      if (!loaded.siteId.equals(siteId)) {
        throw new IOException(
            "identity in "
                + dir
                + " belongs to site "
                + loaded.siteId
                + ", not "
                + siteId
                + "; move it away to create a new one");
      }
      return loaded;
    }
    SiteIdentity created = generate(name, siteId, random, now);
    // The key goes first: a crash in between leaves no certificate, so the pair is regenerated.
    DurableFile.replace(keyFile, created.privateKeyPem(), true);
    DurableFile.replace(certFile, pem(created.certificate), false);
    return created;
  }

  /** Creates a fresh identity in memory (tests, and the first start of a site). */
  public static SiteIdentity generate(String name, UUID siteId, SecureRandom random, Instant now) {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"), random);
      KeyPair pair = gen.generateKeyPair();
      X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
      subject.addRDN(BCStyle.CN, name);
      subject.addRDN(BCStyle.UID, siteId.toString());
      X500Name x500 = subject.build();
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              x500,
              new BigInteger(127, random).add(BigInteger.ONE),
              Date.from(now.minus(Duration.ofDays(1))),
              Date.from(now.plus(VALIDITY)),
              x500,
              pair.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      X509CertificateHolder holder =
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);
      return new SiteIdentity(name, siteId, pair.getPrivate(), cert);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot create a site certificate: " + e.getMessage(), e);
    }
  }

  private static SiteIdentity load(Path keyFile, Path certFile) throws IOException {
    X509Certificate cert = parseCertificatePem(Files.readString(certFile));
    PrivateKey key;
    try {
      String text = Files.readString(keyFile, StandardCharsets.US_ASCII);
      int begin = text.indexOf(KEY_BEGIN);
      int end = text.indexOf(KEY_END);
      if (begin < 0 || end < begin) {
        throw new IOException(keyFile + " does not hold a PKCS#8 private key");
      }
      byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + KEY_BEGIN.length(), end));
      key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(keyFile + " is not a readable private key: " + e.getMessage(), e);
    }
    return new SiteIdentity(subjectName(cert), subjectUuid(cert), key, cert);
  }

  /** Parses one PEM certificate; any damage is an {@link IOException} with a clear message. */
  public static X509Certificate parseCertificatePem(String pem) throws IOException {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o = parser.readObject();
      if (!(o instanceof X509CertificateHolder holder)) {
        throw new IOException("not a PEM certificate");
      }
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException | RuntimeException e) {
      throw new IOException("not a valid certificate: " + e.getMessage(), e);
    }
  }

  /** Parses a DER certificate; any damage is an {@link IOException}. */
  public static X509Certificate parseCertificateDer(byte[] der) throws IOException {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new java.io.ByteArrayInputStream(der));
    } catch (CertificateException | RuntimeException e) {
      throw new IOException("not a valid certificate: " + e.getMessage(), e);
    }
  }

  /** PEM text of a certificate. */
  public static byte[] pem(X509Certificate cert) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(cert);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString().getBytes(StandardCharsets.US_ASCII);
  }

  private byte[] privateKeyPem() {
    String body =
        Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(privateKey.getEncoded());
    return (KEY_BEGIN + "\n" + body + "\n" + KEY_END + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** The site name in a certificate's subject CN; IOException if it has none. */
  public static String subjectName(X509Certificate cert) throws IOException {
    return subjectAttribute(cert, "CN");
  }

  /** The site UUID in a certificate's subject UID; IOException if it has none or it is bad. */
  public static UUID subjectUuid(X509Certificate cert) throws IOException {
    String text = subjectAttribute(cert, "UID");
    try {
      return UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      throw new IOException("certificate UID is not a UUID: " + text, e);
    }
  }

  private static String subjectAttribute(X509Certificate cert, String attr) throws IOException {
    try {
      X500Name x500 = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
      RDN[] rdns = x500.getRDNs(attr.equals("CN") ? BCStyle.CN : BCStyle.UID);
      if (rdns.length != 1) {
        throw new IOException("certificate subject has " + rdns.length + " " + attr + " values");
      }
      if (!(rdns[0].getFirst().getValue() instanceof ASN1String value)) {
        throw new IOException("certificate " + attr + " is not a string");
      }
      return value.getString();
    } catch (RuntimeException e) {
      throw new IOException("unreadable certificate subject: " + e.getMessage(), e);
    }
  }

  /** Lowercase hex SHA-256 of the certificate's DER encoding: what peers pin and show. */
  public static String fingerprint(X509Certificate cert) {
    return HexFormat.of().formatHex(fingerprintBytes(cert));
  }

  static byte[] fingerprintBytes(X509Certificate cert) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** DER encoding of a certificate (unchecked: a parsed certificate always encodes). */
  static byte[] der(X509Certificate cert) {
    try {
      return cert.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  public String name() {
    return name;
  }

  public UUID siteId() {
    return siteId;
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public String fingerprint() {
    return fingerprint(certificate);
  }

  PrivateKey privateKey() {
    return privateKey;
  }
}
