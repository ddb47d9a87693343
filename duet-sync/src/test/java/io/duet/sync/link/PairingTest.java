package io.duet.sync.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.peering.Invitation;
import io.duet.sync.peering.PairingException;
import io.duet.sync.peering.PairingException.Reason;
import io.duet.sync.peering.PeerRecord;
import io.duet.sync.peering.PeerStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PairingTest {
  @TempDir Path dir;
  LinkSite a;
  LinkSite b;

  @BeforeEach
  void sites() throws IOException {
    a = new LinkSite(dir.resolve("a"), "alpha", new UUID(1, 1));
    b = new LinkSite(dir.resolve("b"), "beta", new UUID(2, 2));
  }

  @AfterEach
  void close() {
    a.close();
    b.close();
  }

  @Test
  void pairingStoresEachSideDurablyAndConsumesTheInvitation() throws Exception {
    Invitation inv = b.invitations.create();
    assertThat(inv.passphrase()).matches("[0-9A-Z]{5}(-[0-9A-Z]{5}){3}");

    PeerRecord atA = a.pairWith(b, inv.passphrase().toLowerCase());

    assertThat(atA.name()).isEqualTo("beta");
    assertThat(atA.siteId()).isEqualTo(b.identity.siteId());
    assertThat(atA.address()).isEqualTo(b.address());
    assertThat(atA.fingerprint()).isEqualTo(b.identity.fingerprint());
    PeerRecord atB = b.store.byName("alpha").orElseThrow();
    assertThat(atB.address()).isEqualTo(a.address());
    assertThat(atB.fingerprint()).isEqualTo(a.identity.fingerprint());
    // Durable: a fresh store reads the same peers back.
    assertThat(PeerStore.open(dir.resolve("a")).list())
        .extracting(PeerRecord::name)
        .containsExactly("beta");
    assertThat(PeerStore.open(dir.resolve("b")).list())
        .extracting(PeerRecord::name)
        .containsExactly("alpha");
    assertThat(b.invitations.openUntil()).isEmpty();

    // Single use: the same passphrase again finds no invitation.
    LinkSite c = new LinkSite(dir.resolve("c"), "gamma", new UUID(3, 3));
    try {
      assertThatThrownBy(() -> c.pairWith(b, inv.passphrase()))
          .isInstanceOf(PairingException.class)
          .satisfies(
              e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.NO_INVITATION))
          .hasMessageContaining("duet peer invite");
      assertThat(c.store.list()).isEmpty();
    } finally {
      c.close();
    }
  }

  @Test
  void wrongPassphraseIsRefusedOnBothSidesAndAttemptsAreLimited() throws Exception {
    Invitation inv = b.invitations.create();
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> a.pairWith(b, "00000-00000-00000-00000"))
          .isInstanceOf(PairingException.class)
          .satisfies(
              e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.WRONG_PASSPHRASE))
          .hasMessageContaining("wrong passphrase");
    }
    // The sixth try, even with the right passphrase, finds the invitation revoked.
    assertThatThrownBy(() -> a.pairWith(b, inv.passphrase()))
        .isInstanceOf(PairingException.class)
        .satisfies(
            e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.ATTEMPTS_EXHAUSTED));
    LinkSite.await("refusals reported at B", () -> b.refusals.size() == 6);
    assertThat(b.refusals).extracting(PairingException::reason).startsWith(Reason.WRONG_PASSPHRASE);
    assertThat(a.store.list()).isEmpty();
    assertThat(b.store.list()).isEmpty();
  }

  @Test
  void expiredInvitationIsRefused() throws Exception {
    Invitation inv = b.invitations.create();
    b.clock.advance(Duration.ofMinutes(15));
    assertThatThrownBy(() -> a.pairWith(b, inv.passphrase()))
        .isInstanceOf(PairingException.class)
        .satisfies(e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.EXPIRED));
    assertThat(a.store.list()).isEmpty();
    assertThat(b.store.list()).isEmpty();
  }

  @Test
  void aNewInvitationRevokesTheOldOne() throws Exception {
    Invitation old = b.invitations.create();
    Invitation fresh = b.invitations.create();
    assertThatThrownBy(() -> a.pairWith(b, old.passphrase()))
        .isInstanceOf(PairingException.class)
        .satisfies(
            e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.WRONG_PASSPHRASE));
    assertThat(a.pairWith(b, fresh.passphrase()).name()).isEqualTo("beta");
  }

  @Test
  void unreachableAddressIsAClearError() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    assertThatThrownBy(
            () ->
                new io.duet.sync.peering.PairingClient(
                        a.identity, a.store, a.address(), a.random, 2_000)
                    .pair("127.0.0.1:" + port, "x"))
        .isInstanceOf(PairingException.class)
        .satisfies(e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.UNREACHABLE));
  }

  /**
   * A relay that terminates TLS on both legs with its own certificates (it holds a site identity of
   * its own, as a real attacker would) and passes the pairing messages through in plaintext. Even
   * with the right passphrase it cannot complete: the proofs cover the certificates each side saw.
   */
  @Test
  void manInTheMiddleWithItsOwnCertificatesFails() throws Exception {
    Invitation inv = b.invitations.create();
    try (MitmRelay relay = new MitmRelay(dir.resolve("m"), b)) {
      assertThatThrownBy(
              () ->
                  new io.duet.sync.peering.PairingClient(
                          a.identity, a.store, a.address(), a.random, 10_000)
                      .pair(relay.address(), inv.passphrase()))
          .isInstanceOf(PairingException.class)
          .satisfies(
              e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.WRONG_PASSPHRASE));
      assertThat(relay.relayedMessages()).isGreaterThanOrEqualTo(3);
    }
    assertThat(a.store.list()).isEmpty();
    assertThat(b.store.list()).isEmpty();
  }

  @Test
  void garbageOnTheReplicationPortDoesNotStopIt() throws Exception {
    Random random = new Random(7);
    for (int i = 0; i < 20; i++) {
      try (Socket s = new Socket("127.0.0.1", b.listener.port())) {
        byte[] junk = new byte[random.nextInt(600) + 1];
        random.nextBytes(junk);
        if (i % 2 == 0) {
          junk[0] = 0x16; // looks like a TLS record start
          junk[1] = 3;
        }
        OutputStream out = s.getOutputStream();
        out.write(junk);
        out.flush();
        s.shutdownOutput();
        InputStream in = s.getInputStream();
        s.setSoTimeout(5_000);
        while (in.read() >= 0) {
          // drain until the listener closes
        }
      } catch (IOException expected) {
        // a reset is as good as a close
      }
    }
    LinkSite.await("garbage refused", () -> b.listener.refusedConnections() >= 20);
    Invitation inv = b.invitations.create();
    assertThat(a.pairWith(b, inv.passphrase()).name()).isEqualTo("beta");
  }

  @Test
  void aSiteCannotPairWithItself() throws Exception {
    Invitation inv = a.invitations.create();
    assertThatThrownBy(() -> a.pairWith(a, inv.passphrase()))
        .isInstanceOf(PairingException.class)
        .satisfies(e -> assertThat(((PairingException) e).reason()).isEqualTo(Reason.CONFLICT));
  }

  static InetSocketAddress loopback(int port) {
    return new InetSocketAddress("127.0.0.1", port);
  }
}
