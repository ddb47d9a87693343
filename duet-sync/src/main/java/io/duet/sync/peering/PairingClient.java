package io.duet.sync.peering;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The inviting operator's counterpart: {@code duet peer create} on site A. Dials the invited site's
 * replication port, accepts whatever self-signed certificate it presents (nothing can be validated
 * yet), and lets the passphrase proofs decide. Stores the peer only after the other site has proved
 * the passphrase over a transcript bound to both certificates as seen here.
 */
public final class PairingClient {
  private final SiteIdentity me;
  private final PeerStore store;
  private final String advertisedAddress;
  private final SecureRandom random;
  private final int timeoutMs;

  /**
   * @param advertisedAddress the address the peer should dial this site on (this site's replication
   *     address as reachable from the peer), stored by the peer
   */
  public PairingClient(
      SiteIdentity me,
      PeerStore store,
      String advertisedAddress,
      SecureRandom random,
      int timeoutMs) {
    this.me = Objects.requireNonNull(me, "me");
    this.store = Objects.requireNonNull(store, "store");
    this.advertisedAddress = Objects.requireNonNull(advertisedAddress, "advertisedAddress");
    this.random = Objects.requireNonNull(random, "random");
    if (timeoutMs < 1) {
      throw new IllegalArgumentException("timeout must be positive");
    }
    this.timeoutMs = timeoutMs;
  }

  /** Pairs with the site at {@code address} using its invitation's passphrase; stores it. */
  public PeerRecord pair(String address, String passphrase) throws PairingException {
    InetSocketAddress target;
    try {
      target = PeerAddress.parse(address);
    } catch (IllegalArgumentException e) {
      throw new PairingException(PairingException.Reason.UNREACHABLE, e.getMessage(), e);
    }
    Objects.requireNonNull(passphrase, "passphrase");
    X509ExtendedTrustManager anySelfSigned = TlsContexts.pinned(cert -> true);
    SSLContext ctx = TlsContexts.context(me, anySelfSigned, random);
    try (Socket raw = new Socket()) {
      raw.connect(new InetSocketAddress(target.getHostString(), target.getPort()), timeoutMs);
      raw.setSoTimeout(timeoutMs);
      try (SSLSocket tls =
          (SSLSocket)
              ctx.getSocketFactory()
                  .createSocket(raw, target.getHostString(), target.getPort(), true)) {
        TlsContexts.configure(tls, false, TlsContexts.ALPN_PAIR);
        tls.startHandshake();
        if (!TlsContexts.ALPN_PAIR.equals(tls.getApplicationProtocol())) {
          throw new PairingException(
              PairingException.Reason.PROTOCOL, address + " does not speak the pairing protocol");
        }
        X509Certificate theirs = peerCertificate(tls.getSession().getPeerCertificates());
        return exchange(tls, address, theirs, passphrase);
      }
    } catch (SSLException e) {
      throw new PairingException(
          PairingException.Reason.UNREACHABLE,
          "TLS with " + address + " failed: " + e.getMessage(),
          e);
    } catch (IOException e) {
      throw new PairingException(
          PairingException.Reason.UNREACHABLE,
          "cannot reach " + address + ": " + e.getMessage(),
          e);
    }
  }

  private PeerRecord exchange(
      SSLSocket tls, String address, X509Certificate theirs, String passphrase)
      throws IOException, PairingException {
    String name;
    UUID id;
    try {
      name = SiteIdentity.subjectName(theirs);
      id = SiteIdentity.subjectUuid(theirs);
    } catch (IOException e) {
      throw new PairingException(
          PairingException.Reason.PROTOCOL, "the other site's certificate: " + e.getMessage(), e);
    }
    if (id.equals(me.siteId())) {
      throw new PairingException(
          PairingException.Reason.CONFLICT, "cannot pair a site with itself");
    }
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(tls.getOutputStream()));
    DataInputStream in = new DataInputStream(new BufferedInputStream(tls.getInputStream()));
    byte[] nonce = new byte[PairingKeys.NONCE_BYTES];
    random.nextBytes(nonce);
    PairingWire.write(out, PairingWire.HELLO, PairingWire.hello(nonce, advertisedAddress));

    PairingWire.Message m = expect(PairingWire.read(in), PairingWire.CHALLENGE);
    ByteBuffer b = m.body();
    byte[] salt = PairingWire.bytes(b, PairingWire.SALT_BYTES, "salt");
    int iterations = PairingWire.int32(b, "iterations");
    byte[] theirNonce = PairingWire.bytes(b, PairingKeys.NONCE_BYTES, "nonce");
    PairingWire.end(b, "challenge");
    // Bounds stop a fake site from making us spin (huge) or weakening the proof (tiny).
    if (iterations < PairingKeys.MIN_ITERATIONS || iterations > PairingKeys.MAX_ITERATIONS) {
      throw PairingWire.protocol("unacceptable PBKDF2 iteration count " + iterations);
    }
    byte[] key = PairingKeys.derive(passphrase, salt, iterations);
    byte[] transcript =
        PairingKeys.transcript(
            SiteIdentity.fingerprintBytes(me.certificate()),
            SiteIdentity.fingerprintBytes(theirs),
            nonce,
            theirNonce,
            advertisedAddress,
            salt,
            iterations);
    PairingWire.write(out, PairingWire.PROOF, PairingKeys.clientProof(key, transcript));

    m = expect(PairingWire.read(in), PairingWire.ACCEPTED);
    byte[] proof = PairingWire.bytes(m.body(), PairingKeys.MAC_BYTES, "proof");
    PairingWire.end(m.body(), "proof");
    if (!PairingKeys.matches(PairingKeys.serverProof(key, transcript), proof)) {
      throw new PairingException(
          PairingException.Reason.PEER_NOT_PROVEN,
          "the site at "
              + address
              + " did not prove the passphrase (a man in the middle?); nothing was stored");
    }
    PeerRecord peer = new PeerRecord(name, id, address, theirs);
    try {
      store.put(peer);
    } catch (IOException e) {
      throw new PairingException(
          PairingException.Reason.CONFLICT, "cannot store peer " + name + ": " + e.getMessage(), e);
    }
    return peer;
  }

  private static PairingWire.Message expect(PairingWire.Message m, int type)
      throws PairingException {
    if (m.type() == PairingWire.REFUSED) {
      throw PairingWire.refusal(m.body());
    }
    if (m.type() != type) {
      throw PairingWire.protocol("expected message " + type + ", got " + m.type());
    }
    return m;
  }

  static X509Certificate peerCertificate(Certificate[] chain) throws PairingException {
    if (chain.length != 1 || !(chain[0] instanceof X509Certificate cert)) {
      throw PairingWire.protocol("expected one X.509 certificate");
    }
    try {
      TlsContexts.requireSelfSigned(new X509Certificate[] {cert});
    } catch (CertificateException e) {
      throw PairingWire.protocol(e.getMessage());
    }
    return cert;
  }
}
