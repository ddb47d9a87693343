package io.duet.sync.peering;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.UUID;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLSocket;

/**
 * The invited site's side of pairing: answers a pairing connection on the replication port. It
 * sends its challenge only after spending an invitation attempt, reveals its own proof only after
 * checking the caller's, and stores the caller (with the address it advertised) before saying yes.
 */
public final class PairingResponder {
  private final SiteIdentity me;
  private final PeerStore store;
  private final Invitations invitations;
  private final SecureRandom random;
  private final BiConsumer<String, PairingException> onRefused;

  /**
   * @param onRefused told of every refused attempt (remote address, reason), for the event log
   */
  public PairingResponder(
      SiteIdentity me,
      PeerStore store,
      Invitations invitations,
      SecureRandom random,
      BiConsumer<String, PairingException> onRefused) {
    this.me = Objects.requireNonNull(me, "me");
    this.store = Objects.requireNonNull(store, "store");
    this.invitations = Objects.requireNonNull(invitations, "invitations");
    this.random = Objects.requireNonNull(random, "random");
    this.onRefused = Objects.requireNonNull(onRefused, "onRefused");
  }

  public Invitations invitations() {
    return invitations;
  }

  /**
   * Runs the handshake on an established TLS connection (ALPN {@link TlsContexts#ALPN_PAIR}). Never
   * throws: failures are reported to the refusal listener and, when possible, to the caller.
   */
  public void handle(SSLSocket tls) {
    String remote = String.valueOf(tls.getRemoteSocketAddress());
    DataOutputStream out = null;
    try {
      out = new DataOutputStream(new BufferedOutputStream(tls.getOutputStream()));
      DataInputStream in = new DataInputStream(new BufferedInputStream(tls.getInputStream()));
      X509Certificate theirs =
          PairingClient.peerCertificate(tls.getSession().getPeerCertificates());
      run(in, out, theirs);
    } catch (PairingException e) {
      onRefused.accept(remote, e);
      tryRefuse(out, e);
    } catch (IOException e) {
      onRefused.accept(
          remote,
          new PairingException(
              PairingException.Reason.UNREACHABLE,
              "pairing connection lost: " + e.getMessage(),
              e));
    }
  }

  private void run(DataInputStream in, DataOutputStream out, X509Certificate theirs)
      throws IOException, PairingException {
    String name;
    UUID id;
    try {
      name = SiteIdentity.subjectName(theirs);
      id = SiteIdentity.subjectUuid(theirs);
    } catch (IOException e) {
      throw PairingWire.protocol("certificate: " + e.getMessage());
    }
    PairingWire.Message m = PairingWire.read(in);
    if (m.type() != PairingWire.HELLO) {
      throw PairingWire.protocol("expected hello, got " + m.type());
    }
    ByteBuffer b = m.body();
    byte[] theirNonce = PairingWire.bytes(b, PairingKeys.NONCE_BYTES, "nonce");
    String address = PairingWire.string(b, "address");
    PairingWire.end(b, "hello");
    if (!address.isEmpty()) {
      try {
        PeerAddress.parse(address);
      } catch (IllegalArgumentException e) {
        throw PairingWire.protocol("advertised " + e.getMessage());
      }
    }
    if (id.equals(me.siteId())) {
      throw new PairingException(
          PairingException.Reason.CONFLICT, "cannot pair a site with itself");
    }
    Invitations.Challenge c = invitations.begin();
    byte[] nonce = new byte[PairingKeys.NONCE_BYTES];
    random.nextBytes(nonce);
    PairingWire.write(
        out, PairingWire.CHALLENGE, PairingWire.challenge(c.salt(), c.iterations(), nonce));

    m = PairingWire.read(in);
    if (m.type() != PairingWire.PROOF) {
      throw PairingWire.protocol("expected proof, got " + m.type());
    }
    byte[] proof = PairingWire.bytes(m.body(), PairingKeys.MAC_BYTES, "proof");
    PairingWire.end(m.body(), "proof");
    byte[] transcript =
        PairingKeys.transcript(
            SiteIdentity.fingerprintBytes(theirs),
            SiteIdentity.fingerprintBytes(me.certificate()),
            theirNonce,
            nonce,
            address,
            c.salt(),
            c.iterations());
    if (!PairingKeys.matches(PairingKeys.clientProof(c.key(), transcript), proof)) {
      int left = invitations.attemptsLeft(c.serial());
      throw new PairingException(
          PairingException.Reason.WRONG_PASSPHRASE,
          "wrong passphrase ("
              + left
              + (left == 1 ? " attempt" : " attempts")
              + " left on this invitation)");
    }
    // Consume before storing: a concurrent second success on the same invitation must lose.
    if (!invitations.consume(c.serial())) {
      throw new PairingException(
          PairingException.Reason.NO_INVITATION, "the invitation was revoked or expired meanwhile");
    }
    PeerRecord peer = new PeerRecord(name, id, address, theirs);
    try {
      store.put(peer);
    } catch (IOException e) {
      throw new PairingException(
          PairingException.Reason.CONFLICT, "cannot store peer " + name + ": " + e.getMessage(), e);
    }
    PairingWire.write(out, PairingWire.ACCEPTED, PairingKeys.serverProof(c.key(), transcript));
  }

  private static void tryRefuse(DataOutputStream out, PairingException e) {
    if (out == null || e.reason() == PairingException.Reason.UNREACHABLE) {
      return;
    }
    try {
      PairingWire.write(out, PairingWire.REFUSED, PairingWire.refused(e.reason(), e.getMessage()));
    } catch (IOException ignored) {
      // The caller hung up; the refusal was already reported locally.
    }
  }
}
