package io.duet.mediator;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Who sent a request: a user that logged in with HTTP Basic, or the subject of a client certificate
 * the TLS layer verified. The two kinds never share a key (a user name cannot contain the {@code =}
 * every certificate subject has, and the key says the kind anyway).
 *
 * @param certificate whether {@code name} is a certificate subject (else a user name)
 * @param name the user name or the certificate's subject (RFC 2253)
 */
record Principal(boolean certificate, String name) {
  private static final String USER_PREFIX = "user:";
  private static final String CERTIFICATE_PREFIX = "certificate:";

  Principal {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a principal needs a name");
    }
  }

  static Principal user(String name) {
    return new Principal(false, name);
  }

  static Principal certificate(String subject) {
    return new Principal(true, subject);
  }

  /** The stable text stored in the bindings file, e.g. {@code user:site-a}. */
  String key() {
    return (certificate ? CERTIFICATE_PREFIX : USER_PREFIX) + name;
  }

  /** The principal a {@link #key()} stands for. */
  static Principal ofKey(String key) {
    if (key.startsWith(USER_PREFIX)) {
      return user(key.substring(USER_PREFIX.length()));
    }
    if (key.startsWith(CERTIFICATE_PREFIX)) {
      return certificate(key.substring(CERTIFICATE_PREFIX.length()));
    }
    throw new IllegalArgumentException("not a principal: '" + key + "'");
  }

  /** The command an operator runs (with the mediator stopped) to free this principal. */
  String unbindCommand(Path dataDir) {
    // User names need no quotes (letters, digits and ._@-); a subject may hold spaces and commas.
    return "duet mediator user "
        + (certificate ? "\"" + name + "\" --certificate" : name)
        + " --unbind --data-dir "
        + dataDir;
  }

  /** For people: {@code user 'site-a'} or {@code client certificate 'CN=site-a'}. */
  @Override
  public String toString() {
    return (certificate ? "client certificate '" : "user '") + name + "'";
  }
}
