package io.duet.sync.link;

import io.duet.sync.peering.SiteIdentity;
import io.duet.sync.peering.TlsContexts;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The replication port's client-certificate check, decided per connection by ALPN (chosen before
 * the client's certificate arrives in TLS 1.3): a pairing connection may present any self-signed
 * certificate, since the passphrase decides; anything else must present a paired site's pinned
 * certificate, or the handshake fails.
 */
final class RoutingTrust extends X509ExtendedTrustManager {
  private final Predicate<X509Certificate> paired;

  RoutingTrust(Predicate<X509Certificate> paired) {
    this.paired = paired;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    TlsContexts.requireSelfSigned(chain);
    String alpn = socket instanceof SSLSocket s ? s.getHandshakeApplicationProtocol() : null;
    if (TlsContexts.ALPN_PAIR.equals(alpn)) {
      return;
    }
    if (!paired.test(chain[0])) {
      throw new CertificateException(
          "certificate " + SiteIdentity.fingerprint(chain[0]) + " is not a paired site's");
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    checkClientTrusted(chain, authType, (Socket) null);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkClientTrusted(chain, authType, (Socket) null);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("the replication port is a server only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("the replication port is a server only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("the replication port is a server only");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
