package io.duet.node;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** What makes a host valid: its names, initiators and CHAP settings (RFC 7143 section 12.1.3). */
final class HostRules {
  private static final java.util.regex.Pattern SITE =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private HostRules() {}

  /** A host as stored: names checked, initiators lower-cased, CHAP fields consistent. */
  static SiteState.Host validate(SiteState.Host h) {
    String name = Names.hostName(h.name());
    if (h.iqns().isEmpty()) {
      throw AdminException.invalid("host '" + name + "' needs at least one initiator name (iqns)");
    }
    Set<String> seen = new HashSet<>();
    List<String> iqns = new ArrayList<>();
    for (String iqn : h.iqns()) {
      String lower = Names.iscsiName("iqn", iqn);
      if (!seen.add(lower)) {
        throw AdminException.invalid("initiator " + lower + " is listed twice");
      }
      iqns.add(lower);
    }
    String chapUser = h.chapUser();
    String chapSecret = h.chapSecret();
    if ((chapUser == null) != (chapSecret == null)) {
      throw AdminException.invalid("chapUser and chapSecret go together: give both or neither");
    }
    if (chapUser != null) {
      Names.chapUser("chapUser", chapUser);
      Names.chapSecret("chapSecret", chapSecret);
    }
    if ((h.mutualUser() == null) != (h.mutualSecret() == null)) {
      throw AdminException.invalid("mutualUser and mutualSecret go together: give both or neither");
    }
    if (h.mutualUser() != null) {
      if (chapUser == null) {
        throw AdminException.invalid(
            "mutual CHAP needs one-way CHAP (chapUser, chapSecret) as well");
      }
      Names.chapUser("mutualUser", h.mutualUser());
      Names.chapSecret("mutualSecret", h.mutualSecret());
      if (h.mutualSecret().equals(chapSecret)) {
        // RFC 7143 12.1.3: the two directions must not share a secret.
        throw AdminException.invalid("mutualSecret must differ from chapSecret");
      }
    }
    String site = h.site().strip();
    if (!site.equals(SiteState.ALL_SITES) && !SITE.matcher(site).matches()) {
      throw AdminException.invalid(
          "site must be 'all' or the name of the site the host sits at, got '" + site + "'");
    }
    return new SiteState.Host(
        name, iqns, chapUser, chapSecret, h.mutualUser(), h.mutualSecret(), site);
  }

  /** Refuses initiators that another host (other than {@code exceptHost}) has already. */
  static void checkIqnsFree(SiteState state, SiteState.Host host, String exceptHost) {
    for (SiteState.Host other : state.hosts()) {
      if (other.name().equals(exceptHost)) {
        continue;
      }
      for (String iqn : host.iqns()) {
        if (other.hasIqn(iqn)) {
          throw AdminException.conflict(
              "initiator " + iqn + " belongs to host '" + other.name() + "' already");
        }
      }
    }
  }
}
