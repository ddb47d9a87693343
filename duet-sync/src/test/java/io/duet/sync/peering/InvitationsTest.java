package io.duet.sync.peering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class InvitationsTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  @Test
  void passphrasesAreFreshAndNormalizeForgivingly() {
    Invitations inv =
        new Invitations(
            Clock.fixed(T0, ZoneOffset.UTC), new SecureRandom(), Duration.ofMinutes(1), 3, 10_000);
    Invitation one = inv.create();
    Invitation two = inv.create();
    assertThat(one.passphrase()).isNotEqualTo(two.passphrase());
    assertThat(one.expiresAt()).isEqualTo(T0.plusSeconds(60));
    assertThat(one.toString()).doesNotContain(one.passphrase());
    assertThat(PairingKeys.normalize("abcde-fOIl0 11111")).isEqualTo("ABCDEF0110" + "11111");
  }

  @Test
  void attemptsExpiryAndSingleUse() throws Exception {
    Clock[] now = {Clock.fixed(T0, ZoneOffset.UTC)};
    Clock clock =
        new Clock() {
          @Override
          public Instant instant() {
            return now[0].instant();
          }

          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }
        };
    Invitations inv = new Invitations(clock, new SecureRandom(), Duration.ofMinutes(1), 2, 10_000);
    assertThatThrownBy(inv::begin)
        .isInstanceOf(PairingException.class)
        .hasMessageContaining("duet peer invite");
    inv.create();
    Invitations.Challenge c1 = inv.begin();
    assertThat(inv.attemptsLeft(c1.serial())).isEqualTo(1);
    inv.begin();
    assertThatThrownBy(inv::begin)
        .isInstanceOfSatisfying(
            PairingException.class,
            e -> assertThat(e.reason()).isEqualTo(PairingException.Reason.ATTEMPTS_EXHAUSTED));
    assertThat(inv.openUntil()).isEmpty();

    inv.create();
    Invitations.Challenge c2 = inv.begin();
    assertThat(inv.consume(c2.serial())).isTrue();
    assertThat(inv.consume(c2.serial())).isFalse();
    assertThatThrownBy(inv::begin)
        .isInstanceOfSatisfying(
            PairingException.class,
            e -> assertThat(e.reason()).isEqualTo(PairingException.Reason.NO_INVITATION));

    inv.create();
    Invitations.Challenge c3 = inv.begin();
    now[0] = Clock.fixed(T0.plusSeconds(60), ZoneOffset.UTC);
    assertThat(inv.consume(c3.serial())).isFalse();
    assertThatThrownBy(inv::begin)
        .isInstanceOfSatisfying(
            PairingException.class,
            e -> assertThat(e.reason()).isEqualTo(PairingException.Reason.EXPIRED));
  }

  @Test
  void proofsDependOnEveryTranscriptPart() {
    byte[] key = PairingKeys.derive("AAAAA-BBBBB", new byte[16], 10_000);
    byte[] base =
        PairingKeys.transcript(
            new byte[32], new byte[32], new byte[32], new byte[32], "h:1", new byte[16], 10_000);
    byte[] otherCert = new byte[32];
    otherCert[0] = 1;
    byte[] mitm =
        PairingKeys.transcript(
            new byte[32], otherCert, new byte[32], new byte[32], "h:1", new byte[16], 10_000);
    assertThat(PairingKeys.clientProof(key, base)).isNotEqualTo(PairingKeys.clientProof(key, mitm));
    assertThat(PairingKeys.clientProof(key, base)).isNotEqualTo(PairingKeys.serverProof(key, base));
    assertThat(PairingKeys.derive("aaaaa bbbbb", new byte[16], 10_000)).isEqualTo(key);
  }
}
