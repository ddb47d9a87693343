package io.duet.nbd;

import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * Tunables of an {@link NbdServer}, with safe defaults in {@link #defaults()}.
 *
 * @param tls the server's TLS context for NBD_OPT_STARTTLS; empty: STARTTLS is refused (POLICY)
 * @param tlsRequired when set, every option but STARTTLS and ABORT is refused with TLS_REQD until
 *     TLS is up (proto.md's FORCEDTLS mode); needs {@code tls}
 * @param clientCertificateRequired whether the TLS handshake demands a client certificate that the
 *     context's trust managers accept (mutual TLS)
 * @param maxInFlightPerConnection requests of one connection being served at once; the reader stops
 *     reading the socket while this many are pending (back-pressure)
 * @param maxBufferedBytesPerConnection payload bytes (write data, read buffers) one connection may
 *     hold at once; at least one maximum-size request
 * @param maxConnections connections served at once; further ones are closed at accept
 * @param handshakeTimeoutMs how long a client may take to finish option negotiation
 */
public record NbdSettings(
    Optional<SSLContext> tls,
    boolean tlsRequired,
    boolean clientCertificateRequired,
    int maxInFlightPerConnection,
    int maxBufferedBytesPerConnection,
    int maxConnections,
    int handshakeTimeoutMs) {

  public static final int MAX_IN_FLIGHT_PER_CONNECTION_DEFAULT = 64;
  public static final int MAX_BUFFERED_BYTES_PER_CONNECTION_DEFAULT = 96 << 20;
  public static final int MAX_CONNECTIONS_DEFAULT = 512;
  public static final int HANDSHAKE_TIMEOUT_DEFAULT_MS = 30_000;

  public NbdSettings {
    Objects.requireNonNull(tls, "tls");
    if (tlsRequired && tls.isEmpty()) {
      throw new IllegalArgumentException("TLS is required but no TLS context is configured");
    }
    if (clientCertificateRequired && tls.isEmpty()) {
      throw new IllegalArgumentException("client certificates need a TLS context");
    }
    if (maxInFlightPerConnection < 1) {
      throw new IllegalArgumentException("maxInFlightPerConnection must be >= 1");
    }
    if (maxBufferedBytesPerConnection < Nbd.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "maxBufferedBytesPerConnection must be >= " + Nbd.MAX_PAYLOAD_BYTES);
    }
    if (maxConnections < 1 || handshakeTimeoutMs < 1) {
      throw new IllegalArgumentException("maxConnections and handshakeTimeoutMs must be >= 1");
    }
  }

  /** No TLS, default bounds. */
  public static NbdSettings defaults() {
    return new NbdSettings(
        Optional.empty(),
        false,
        false,
        MAX_IN_FLIGHT_PER_CONNECTION_DEFAULT,
        MAX_BUFFERED_BYTES_PER_CONNECTION_DEFAULT,
        MAX_CONNECTIONS_DEFAULT,
        HANDSHAKE_TIMEOUT_DEFAULT_MS);
  }

  /** These settings with STARTTLS offered through {@code context}. */
  public NbdSettings withTls(SSLContext context, boolean required, boolean clientCertRequired) {
    return new NbdSettings(
        Optional.of(context),
        required,
        clientCertRequired,
        maxInFlightPerConnection,
        maxBufferedBytesPerConnection,
        maxConnections,
        handshakeTimeoutMs);
  }
}
