package io.duet.sync.peering;

import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for the replication port: TLS 1.3 only, mutual authentication with the site's own
 * certificate, and trust decided by pinning (a predicate over the peer's single self-signed
 * certificate) rather than by any CA. ALPN names which protocol a connection carries.
 */
public final class TlsContexts {
  /** ALPN protocol of an established peer link (pinned certificates only). */
  public static final String ALPN_LINK = "duet-link/1";

  /** ALPN protocol of a pairing handshake (any self-signed certificate; the passphrase decides). */
  public static final String ALPN_PAIR = "duet-pair/1";

  private static final char[] STORE_PASSWORD = "duet".toCharArray();

  private TlsContexts() {}

  /** A TLS context presenting {@code identity} and trusting what {@code trust} accepts. */
  public static SSLContext context(SiteIdentity identity, TrustManager trust, SecureRandom random) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry(
          "site",
          identity.privateKey(),
          STORE_PASSWORD,
          new X509Certificate[] {identity.certificate()});
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(ks, STORE_PASSWORD);
      SSLContext ctx = SSLContext.getInstance("TLSv1.3");
      ctx.init(kmf.getKeyManagers(), new TrustManager[] {trust}, random);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the TLS context: " + e.getMessage(), e);
    }
  }

  /** Restricts a socket to TLS 1.3 with mutual authentication and the given ALPN protocols. */
  public static void configure(SSLSocket socket, boolean server, String... alpn) {
    SSLParameters p = socket.getSSLParameters();
    p.setProtocols(new String[] {"TLSv1.3"});
    p.setApplicationProtocols(alpn);
    if (server) {
      p.setNeedClientAuth(true);
    }
    socket.setSSLParameters(p);
    socket.setUseClientMode(!server);
  }

  /**
   * Trusts exactly the certificates {@code pinned} accepts (each must be a lone self-signed one).
   */
  public static X509ExtendedTrustManager pinned(Predicate<X509Certificate> pinned) {
    return new Pinned(pinned);
  }

  /** Throws unless {@code chain} is one certificate that verifies under its own key. */
  public static void requireSelfSigned(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length != 1) {
      throw new CertificateException("expected one self-signed certificate");
    }
    try {
      chain[0].verify(chain[0].getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new CertificateException("certificate is not self-signed: " + e.getMessage(), e);
    }
  }

  /**
   * Pinning trust manager. The socket/engine variants exist so the JDK does not wrap it in its own
   * hostname and path checks, which make no sense for pinned self-signed certificates.
   */
  private static final class Pinned extends X509ExtendedTrustManager {
    private final Predicate<X509Certificate> pinned;

    Pinned(Predicate<X509Certificate> pinned) {
      this.pinned = pinned;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      requireSelfSigned(chain);
      if (!pinned.test(chain[0])) {
        throw new CertificateException(
            "certificate " + SiteIdentity.fingerprint(chain[0]) + " is not a paired site's");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
