package io.duet.node.mediator;

import io.duet.node.AdminException;
import io.duet.node.config.HostPort;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What an operator gives to configure this site's mediator ({@code PUT /mediator}, {@code duet
 * mediator add}): where it listens, the CA certificate that signed its server certificate (PEM
 * text), and the user and password this site logs in with. {@link #check()} refuses bad input with
 * a message that names the field, before anything is contacted or saved.
 *
 * @param address {@code host:port} of the mediator's HTTPS API
 * @param caCert PEM text of the mediator's CA certificate ({@code ca.crt} in its data directory)
 * @param user the mediator user this site logs in as
 * @param password that user's password
 */
public record MediatorRequest(String address, String caCert, String user, String password) {
  /** A CA certificate file is a few KiB; anything much larger is not one. */
  static final int MAX_CA_CERT_CHARS = 64 << 10;

  static final int MAX_USER_CHARS = 64;
  static final int MAX_PASSWORD_CHARS = 1024;

  /** The request with its values checked and parsed. */
  record Checked(
      HostPort address, List<X509Certificate> ca, String caPem, String user, String password) {}

  /**
   * Checks every field.
   *
   * @throws AdminException INVALID naming the field and what is wrong with it
   */
  Checked check() {
    HostPort hp = address(address);
    List<X509Certificate> ca = certificates(caCert);
    if (user == null || user.isBlank()) {
      throw AdminException.invalid(
          "field 'user' is required: the mediator user this site logs in as");
    }
    String u = user.strip();
    if (u.length() > MAX_USER_CHARS || !u.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':')) {
      throw AdminException.invalid(
          "field 'user' must be 1-"
              + MAX_USER_CHARS
              + " printable characters without ':' or spaces");
    }
    if (password == null || password.isEmpty()) {
      throw AdminException.invalid("field 'password' is required (the mediator user's password)");
    }
    if (password.length() > MAX_PASSWORD_CHARS || password.indexOf('\n') >= 0) {
      throw AdminException.invalid(
          "field 'password' must be one line of at most " + MAX_PASSWORD_CHARS + " characters");
    }
    return new Checked(hp, ca, caCert.strip() + "\n", u, password);
  }

  static HostPort address(String text) {
    if (text == null || text.isBlank()) {
      throw AdminException.invalid("field 'address' is required: the mediator's host:port");
    }
    HostPort hp;
    try {
      hp = HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      throw AdminException.invalid("field 'address': " + e.getMessage());
    }
    if (hp.port() == 0 || hp.wildcard()) {
      throw AdminException.invalid(
          "field 'address' must name the mediator's host and port (not a wildcard or port 0),"
              + " got '"
              + text
              + "'");
    }
    // A name the URL grammar does not take as a host (a last label starting with a digit, such
    // as 127t.0.0.1) leaves the HTTPS client nothing to connect to: refuse it here, by name.
    java.net.URI url;
    try {
      url = SiteMediator.url(hp);
    } catch (IllegalArgumentException e) {
      url = null;
    }
    if (url == null || url.getHost() == null) {
      throw AdminException.invalid(
          "field 'address': '" + text + "' is not a host name or IP address with a port");
    }
    return hp;
  }

  /** The X.509 certificates in {@code pem}; refuses anything that is not PEM certificates. */
  static List<X509Certificate> certificates(String pem) {
    if (pem == null || pem.isBlank()) {
      throw AdminException.invalid(
          "field 'caCert' is required: the PEM text of the mediator's CA certificate (ca.crt)");
    }
    if (pem.length() > MAX_CA_CERT_CHARS) {
      throw AdminException.invalid(
          "field 'caCert' is larger than "
              + MAX_CA_CERT_CHARS
              + " characters: not a CA certificate");
    }
    if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
      throw AdminException.invalid(
          "field 'caCert' is not a PEM certificate (expected '-----BEGIN CERTIFICATE-----';"
              + " give the mediator's ca.crt)");
    }
    Collection<? extends Certificate> parsed;
    try {
      parsed =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(pem.strip().getBytes(StandardCharsets.US_ASCII)));
    } catch (CertificateException | RuntimeException e) {
      throw AdminException.invalid(
          "field 'caCert' is not a readable PEM certificate: " + firstLine(e.getMessage()));
    }
    List<X509Certificate> out = new ArrayList<>();
    for (Certificate c : parsed) {
      if (c instanceof X509Certificate x) {
        out.add(x);
      }
    }
    if (out.isEmpty()) {
      throw AdminException.invalid("field 'caCert' holds no X.509 certificate");
    }
    return out;
  }

  private static String firstLine(String s) {
    return s == null ? "unreadable" : s.lines().findFirst().orElse("unreadable");
  }

  /** Never the password: requests may end up in logs. */
  @Override
  public String toString() {
    return "MediatorRequest[address=" + address + ", user=" + user + "]";
  }
}
