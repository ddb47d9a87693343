package io.duet.sync.peering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SiteIdentityTest {
  private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");
  @TempDir Path dir;

  @Test
  void createdOnceKeptPrivateAndReloadedUnchanged() throws Exception {
    UUID id = new UUID(5, 6);
    SiteIdentity first =
        SiteIdentity.loadOrCreate(dir, "site-a, \"odd\"=name", id, new SecureRandom(), NOW);
    assertThat(Files.getPosixFilePermissions(dir.resolve(SiteIdentity.KEY_FILE)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(first.certificate().getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(first.certificate().getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(SiteIdentity.subjectName(first.certificate())).isEqualTo("site-a, \"odd\"=name");
    assertThat(SiteIdentity.subjectUuid(first.certificate())).isEqualTo(id);
    assertThat(first.fingerprint()).hasSize(64).matches("[0-9a-f]+");

    SiteIdentity again =
        SiteIdentity.loadOrCreate(dir, "site-a, \"odd\"=name", id, new SecureRandom(), NOW);
    assertThat(again.fingerprint()).isEqualTo(first.fingerprint());
    assertThat(again.privateKey().getEncoded()).isEqualTo(first.privateKey().getEncoded());
    assertThat(again.name()).isEqualTo(first.name());
  }

  @Test
  void anIdentityOfAnotherSiteIsRefused() throws Exception {
    SiteIdentity.loadOrCreate(dir, "a", new UUID(1, 1), new SecureRandom(), NOW);
    assertThatThrownBy(
            () -> SiteIdentity.loadOrCreate(dir, "a", new UUID(1, 2), new SecureRandom(), NOW))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("belongs to site");
  }

  @Test
  void damagedFilesGiveClearErrors() throws Exception {
    SiteIdentity.loadOrCreate(dir, "a", new UUID(1, 1), new SecureRandom(), NOW);
    Files.writeString(
        dir.resolve(SiteIdentity.CERT_FILE),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(
            () -> SiteIdentity.loadOrCreate(dir, "a", new UUID(1, 1), new SecureRandom(), NOW))
        .isInstanceOf(IOException.class);
  }

  @Test
  void randomCertificateBytesNeverEscapeAsUncheckedErrors() {
    Random random = new Random(11);
    byte[] good =
        SiteIdentity.der(
            SiteIdentity.generate("x", new UUID(1, 1), new SecureRandom(), NOW).certificate());
    for (int i = 0; i < 600; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = new byte[random.nextInt(400)];
        random.nextBytes(b);
      } else {
        b = good.clone();
        for (int k = 0; k < 1 + random.nextInt(4); k++) {
          b[random.nextInt(b.length)] ^= (byte) (1 + random.nextInt(255));
        }
      }
      try {
        SiteIdentity.parseCertificateDer(b);
      } catch (IOException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
      String pem =
          "-----BEGIN CERTIFICATE-----\n"
              + java.util.Base64.getMimeEncoder().encodeToString(b)
              + "\n-----END CERTIFICATE-----\n";
      try {
        SiteIdentity.parseCertificatePem(pem);
      } catch (IOException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
  }
}
