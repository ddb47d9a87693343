package io.duet.mediator;

import io.duet.store.AtomicFile;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The mediator's own certificate authority, created at first start: its key never leaves the data
 * directory ({@code secrets/}, mode 0700), its certificate is exported as {@code ca.crt} for the
 * sites to install. At every start it issues a fresh server certificate for the names the mediator
 * is reached by, so the server key lives in memory only.
 */
final class MediatorCa {
  static final String CA_CERT_FILE = "ca.crt";
  static final String SECRETS_DIR = "secrets";
  static final String CA_RECORD = "ca";
  private static final Duration CA_VALIDITY = Duration.ofDays(365L * 20);
  private static final Duration SERVER_VALIDITY = Duration.ofDays(398);

  private final PrivateKey key;
  private final X509Certificate certificate;

  private MediatorCa(PrivateKey key, X509Certificate certificate) {
    this.key = key;
    this.certificate = certificate;
  }

  /** Loads the CA of {@code dataDir} or creates it; (re)exports {@code ca.crt} either way. */
  static MediatorCa loadOrCreate(Path dataDir, SecureRandom random, Instant now)
      throws IOException {
    Path secrets = secretsDir(dataDir);
    Path record = secrets.resolve(CA_RECORD);
    Optional<byte[]> stored = AtomicFile.read(record);
    MediatorCa ca;
    if (stored.isPresent()) {
      ca = decode(record, stored.get());
    } else {
      ca = create(random, now);
      AtomicFile.write(record, ca.encode());
    }
    // Derived from the record, so a torn export is simply rewritten at the next start.
    Path export = dataDir.resolve(CA_CERT_FILE);
    Path temp = dataDir.resolve(CA_CERT_FILE + ".tmp");
    Files.write(temp, pem(ca.certificate));
    Files.move(temp, export, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return ca;
  }

  /** The private directory for keys and secrets, created 0700 (where the file system allows). */
  static Path secretsDir(Path dataDir) throws IOException {
    Path secrets = dataDir.resolve(SECRETS_DIR);
    if (!Files.isDirectory(secrets)) {
      Files.createDirectories(dataDir);
      if (dataDir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.createDirectory(
            secrets,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectory(secrets);
      }
    }
    return secrets;
  }

  X509Certificate certificate() {
    return certificate;
  }

  /** A server certificate for {@code names} (DNS names or IP literals) signed by this CA. */
  Issued issueServer(Collection<String> names, SecureRandom random, Instant now) {
    return issue(names, KeyPurposeId.id_kp_serverAuth, random, now);
  }

  /** A client certificate with subject CN {@code name} (e.g. a site), signed by this CA. */
  Issued issueClient(String name, SecureRandom random, Instant now) {
    return issue(List.of(name), KeyPurposeId.id_kp_clientAuth, random, now);
  }

  private Issued issue(
      Collection<String> names, KeyPurposeId purpose, SecureRandom random, Instant now) {
    try {
      KeyPair pair = newKeyPair(random);
      Set<String> all = new LinkedHashSet<>(names);
      List<GeneralName> sans = new ArrayList<>();
      for (String n : all) {
        sans.add(
            isIpLiteral(n)
                ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(n).getHostAddress())
                : new GeneralName(GeneralName.dNSName, n));
      }
      String cn = all.isEmpty() ? "duet-mediator" : all.iterator().next();
      X500Name subject = new X500Name("CN=" + cn.replaceAll("[,=+<>#;\"\\\\]", "_"));
      JcaX509v3CertificateBuilder b =
          builder(
              X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
              subject,
              pair,
              SERVER_VALIDITY,
              random,
              now);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(sans.toArray(GeneralName[]::new)));
      X509Certificate cert = sign(b);
      return new Issued(pair.getPrivate(), cert);
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot issue a certificate: " + e.getMessage(), e);
    }
  }

  /** A key and the certificate this CA issued for it. */
  record Issued(PrivateKey key, X509Certificate certificate) {}

  static boolean isIpLiteral(String name) {
    return name.matches("[0-9.]+") || name.contains(":");
  }

  private static MediatorCa create(SecureRandom random, Instant now) {
    try {
      KeyPair pair = newKeyPair(random);
      X500Name subject = new X500Name("CN=Duet mediator CA " + now.getEpochSecond());
      JcaX509v3CertificateBuilder b = builder(subject, subject, pair, CA_VALIDITY, random, now);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      MediatorCa unsigned = new MediatorCa(pair.getPrivate(), null);
      return new MediatorCa(pair.getPrivate(), unsigned.sign(b));
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot create the mediator CA: " + e.getMessage(), e);
    }
  }

  /** Valid from a day ago (clocks differ) for {@code validity}, with a random serial. */
  private static JcaX509v3CertificateBuilder builder(
      X500Name issuer,
      X500Name subject,
      KeyPair pair,
      Duration validity,
      SecureRandom random,
      Instant now) {
    return new JcaX509v3CertificateBuilder(
        issuer,
        new BigInteger(127, random).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofDays(1))),
        Date.from(now.plus(validity)),
        subject,
        pair.getPublic());
  }

  private X509Certificate sign(JcaX509v3CertificateBuilder b)
      throws OperatorCreationException, CertificateException {
    X509CertificateHolder holder =
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key));
    return new JcaX509CertificateConverter().getCertificate(holder);
  }

  private static KeyPair newKeyPair(SecureRandom random) throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"), random);
    return gen.generateKeyPair();
  }

  /** Record payload: the PKCS#8 key and the DER certificate, each Base64, one per line. */
  private byte[] encode() {
    try {
      Base64.Encoder b64 = Base64.getEncoder();
      return (b64.encodeToString(key.getEncoded())
              + "\n"
              + b64.encodeToString(certificate.getEncoded())
              + "\n")
          .getBytes(StandardCharsets.US_ASCII);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MediatorCa decode(Path record, byte[] payload) throws IOException {
    String[] lines = new String(payload, StandardCharsets.US_ASCII).split("\n");
    if (lines.length != 2) {
      throw new IOException(record + ": expected a key and a certificate");
    }
    try {
      Base64.Decoder b64 = Base64.getDecoder();
      PrivateKey key =
          KeyFactory.getInstance("EC")
              .generatePrivate(new PKCS8EncodedKeySpec(b64.decode(lines[0])));
      return new MediatorCa(key, parseDer(b64.decode(lines[1])));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(record + ": unreadable CA: " + e.getMessage(), e);
    }
  }

  static X509Certificate parseDer(byte[] der) throws CertificateException {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  /** Every certificate in a PEM file; an IOException naming the file if there is none. */
  static List<X509Certificate> readPem(Path file) throws IOException {
    try (var parser =
        new org.bouncycastle.openssl.PEMParser(new StringReader(Files.readString(file)))) {
      List<X509Certificate> out = new ArrayList<>();
      Object o;
      while ((o = parser.readObject()) != null) {
        if (o instanceof X509CertificateHolder h) {
          out.add(new JcaX509CertificateConverter().getCertificate(h));
        }
      }
      if (out.isEmpty()) {
        throw new IOException(file + " holds no PEM certificate");
      }
      return out;
    } catch (CertificateException | RuntimeException e) {
      throw new IOException(file + ": not a readable certificate: " + e.getMessage(), e);
    }
  }

  /** PEM text of a certificate (RFC 7468: Base64 lines of 64 characters). */
  static byte[] pem(X509Certificate cert) {
    try {
      String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded());
      return ("-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n")
          .getBytes(StandardCharsets.US_ASCII);
    } catch (CertificateException e) {
      throw new IllegalStateException("a parsed certificate always encodes", e);
    }
  }
}
