package io.duet.node.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code nbdTls} section of {@code site.yaml}: the NBD server's certificate for STARTTLS.
 *
 * <pre>
 * nbdTls:
 *   certificate: tls/server-cert.pem   # PEM chain, leaf first (or keystore: tls/server.p12)
 *   key: tls/server-key.pem            # PEM PKCS#8 private key
 *   keystorePassword: ...              # only with keystore
 *   clientCa: tls/ca-cert.pem          # optional: clients must present a certificate it signed
 *   required: true                     # refuse every option but STARTTLS before TLS is up
 * </pre>
 *
 * <p>With {@code clientCa}, prefer EC keys for client certificates: GnuTLS clients (libnbd, qemu)
 * were seen to send no RSA client certificate to this (JDK) server under TLS 1.3.
 *
 * @param certificate PEM certificate chain; empty when a keystore is given
 * @param key PEM PKCS#8 private key; empty when a keystore is given
 * @param keystore PKCS#12 keystore holding key and chain; empty when PEM files are given
 * @param keystorePassword the keystore's password (may be empty)
 * @param clientCa CA certificates client certificates must chain to; empty: no client certificates
 * @param required whether TLS is mandatory for every NBD client
 */
public record NbdTlsConfig(
    Optional<Path> certificate,
    Optional<Path> key,
    Optional<Path> keystore,
    String keystorePassword,
    Optional<Path> clientCa,
    boolean required) {}
