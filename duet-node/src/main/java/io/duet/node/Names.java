package io.duet.node;

import java.util.Locale;
import java.util.regex.Pattern;

/** Validation of the names operators give to hosts, targets and initiators. */
final class Names {
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** RFC 3720/7143 iSCSI names, after lower-casing (RFC 3722 stringprep folds case). */
  private static final Pattern ISCSI_NAME =
      Pattern.compile(
          "(iqn\\.[0-9]{4}-[0-9]{2}\\.[a-z0-9][a-z0-9.-]*(:[a-z0-9.:_-]*)?)|(eui\\.[0-9a-f]{16})|(naa\\.[0-9a-f]{16}([0-9a-f]{16})?)");

  private static final Pattern TARGET_SUFFIX = Pattern.compile("[a-z0-9][a-z0-9.-]{0,63}");
  private static final Pattern CHAP_USER = Pattern.compile("[\\x21-\\x7e]{1,255}");

  /** Windows and RFC 7143's advice agree on at least 12 bytes; the upper bound keeps keys short. */
  static final int CHAP_SECRET_MIN = 12;

  static final int CHAP_SECRET_MAX = 255;
  static final int ISCSI_NAME_MAX = 223;

  private Names() {}

  static String hostName(String name) {
    if (name == null || !HOST.matcher(name).matches()) {
      throw AdminException.invalid(
          "host name '" + name + "' must be 1-64 letters, digits, '.', '_' or '-' (and not '*')");
    }
    return name;
  }

  /** An initiator or target iSCSI name, lower-cased. */
  static String iscsiName(String field, String name) {
    if (name == null) {
      throw AdminException.invalid(field + " is required");
    }
    String lower = name.strip().toLowerCase(Locale.ROOT);
    if (lower.length() > ISCSI_NAME_MAX || !ISCSI_NAME.matcher(lower).matches()) {
      throw AdminException.invalid(
          field
              + " '"
              + name
              + "' is not an iSCSI name (iqn.YYYY-MM.reverse.domain[:id], eui.<16 hex>,"
              + " naa.<hex>)");
    }
    return lower;
  }

  /**
   * A new target's name: a full iSCSI name, or a short suffix appended to the site's prefix ({@code
   * db} becomes {@code <prefix>:db}).
   */
  static String targetName(String prefix, String name) {
    if (name == null || name.isBlank()) {
      throw AdminException.invalid("target name is required");
    }
    String lower = name.strip().toLowerCase(Locale.ROOT);
    if (TARGET_SUFFIX.matcher(lower).matches()
        && !lower.startsWith("iqn.")
        && !lower.startsWith("eui.")
        && !lower.startsWith("naa.")) {
      lower = prefix + (prefix.indexOf(':') >= 0 ? "." : ":") + lower;
    }
    return iscsiName("target name", lower);
  }

  static String chapUser(String field, String user) {
    if (user == null || !CHAP_USER.matcher(user).matches()) {
      throw AdminException.invalid(field + " must be 1-255 printable characters without spaces");
    }
    return user;
  }

  static String chapSecret(String field, String secret) {
    if (secret == null || secret.length() < CHAP_SECRET_MIN || secret.length() > CHAP_SECRET_MAX) {
      throw AdminException.invalid(
          field + " must be " + CHAP_SECRET_MIN + " to " + CHAP_SECRET_MAX + " characters");
    }
    if (!CHAP_USER.matcher(secret).matches()) {
      throw AdminException.invalid(field + " must be printable characters without spaces");
    }
    return secret;
  }
}
