package io.duet.node;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses operator-written sizes: a plain byte count ({@code 1073741824}) or a number with a unit
 * ({@code 10GiB}, {@code 512MiB}, {@code 1.5TiB}, {@code 4k}). Binary units (KiB, MiB, ... and the
 * bare letters K, M, G, T, P as qemu-img reads them) are powers of 1024; KB, MB, GB, TB, PB are
 * powers of 1000. Shared by the REST API and the CLI so both accept the same forms.
 */
public final class ByteSize {
  private static final Pattern SIZE =
      Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([kmgtp]?)(i?)(b?)");

  private ByteSize() {}

  /**
   * @throws IllegalArgumentException with a message that shows an accepted form
   */
  public static long parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("size is empty; use bytes or e.g. 10GiB");
    }
    String t = text.strip().toLowerCase(Locale.ROOT);
    Matcher m = SIZE.matcher(t);
    if (!m.matches() || (!m.group(3).isEmpty() && (m.group(2).isEmpty() || m.group(4).isEmpty()))) {
      throw new IllegalArgumentException(
          "size '" + text + "' is not a size; use bytes or e.g. 512MiB, 10GiB, 1TiB");
    }
    String unit = m.group(2);
    boolean decimal = m.group(3).isEmpty() && !m.group(4).isEmpty() && !unit.isEmpty();
    int power = unit.isEmpty() ? 0 : "kmgtp".indexOf(unit.charAt(0)) + 1;
    java.math.BigDecimal base = java.math.BigDecimal.valueOf(decimal ? 1000 : 1024).pow(power);
    java.math.BigDecimal value = new java.math.BigDecimal(m.group(1)).multiply(base);
    if (value.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new IllegalArgumentException("size '" + text + "' is too large");
    }
    try {
      return value.longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("size '" + text + "' is not a whole number of bytes");
    }
  }

  /** A short human form: 1 GiB, 1.5 TiB, 4096 B. */
  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = bytes;
    int i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return i == 0
        ? bytes + " B"
        : (v == Math.rint(v)
            ? String.format(Locale.ROOT, "%.0f %s", v, units[i])
            : String.format(Locale.ROOT, "%.1f %s", v, units[i]));
  }
}
