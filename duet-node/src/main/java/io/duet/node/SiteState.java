package io.duet.node;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything about a site an operator changes at run time, as one immutable value: the node swaps
 * in a new value after it is durably saved, and readers (logins, the API) see one consistent
 * snapshot without locks.
 *
 * @param version format version of the state file
 * @param siteUuid generated at first start, never changes
 * @param hosts hosts with their initiator names and CHAP secrets
 * @param targets targets created through the API (the site's default target is implicit)
 * @param mappings volume to host/target/LUN mappings
 * @param portals iSCSI portals added through the API (config portals are not listed)
 * @param aluaState the ALUA state of this site's target port group
 * @param nextMappingId the id the next mapping gets
 * @param nbdExports volumes exported over NBD (absent in state files from before NBD)
 */
record SiteState(
    int version,
    String siteUuid,
    List<Host> hosts,
    List<Target> targets,
    List<Mapping> mappings,
    List<String> portals,
    String aluaState,
    long nextMappingId,
    List<NbdExport> nbdExports) {

  static final int VERSION = 1;

  /** The site value of a host that is local to every site. */
  static final String ALL_SITES = "all";

  /** The host value of a mapping every initiator sees. */
  static final String ANY_HOST = "*";

  SiteState {
    Objects.requireNonNull(siteUuid, "siteUuid");
    hosts = List.copyOf(hosts == null ? List.of() : hosts);
    targets = List.copyOf(targets == null ? List.of() : targets);
    mappings = List.copyOf(mappings == null ? List.of() : mappings);
    portals = List.copyOf(portals == null ? List.of() : portals);
    Objects.requireNonNull(aluaState, "aluaState");
    nbdExports = List.copyOf(nbdExports == null ? List.of() : nbdExports);
  }

  /**
   * A volume offered to NBD clients.
   *
   * @param name the export name clients ask for
   * @param volume the volume's name
   * @param readOnly whether clients may only read
   * @param allow client networks (CIDR) allowed to open it
   */
  record NbdExport(String name, String volume, boolean readOnly, List<String> allow) {
    NbdExport {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(volume, "volume");
      allow = List.copyOf(allow == null ? List.of() : allow);
    }
  }

  /**
   * A host: the initiators of one machine and how they authenticate.
   *
   * @param iqns initiator names, lower case
   * @param chapUser CHAP name the initiator must send, or null when no CHAP is required
   * @param mutualUser the name this target answers with in mutual CHAP, or null
   * @param site the site the host sits at (its ports are active/optimized for it, the other site's
   *     non-optimized), or {@link #ALL_SITES}; null in state files from before sites
   */
  record Host(
      String name,
      List<String> iqns,
      String chapUser,
      String chapSecret,
      String mutualUser,
      String mutualSecret,
      String site) {
    Host {
      Objects.requireNonNull(name, "name");
      iqns = List.copyOf(iqns == null ? List.of() : iqns);
      site = site == null ? ALL_SITES : site;
    }

    Host(
        String name,
        List<String> iqns,
        String chapUser,
        String chapSecret,
        String mutualUser,
        String mutualSecret) {
      this(name, iqns, chapUser, chapSecret, mutualUser, mutualSecret, ALL_SITES);
    }

    boolean hasIqn(String iqn) {
      return iqns.contains(iqn.toLowerCase(Locale.ROOT));
    }
  }

  /** An extra iSCSI target on this site. */
  record Target(String name) {
    Target {
      Objects.requireNonNull(name, "name");
    }
  }

  /**
   * A volume shown to one host (or {@link #ANY_HOST}) through one target at one LUN.
   *
   * @param id unique, never reused
   */
  record Mapping(long id, String volume, String host, String target, int lun, boolean readOnly) {
    Mapping {
      Objects.requireNonNull(volume, "volume");
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(target, "target");
    }

    boolean forAnyHost() {
      return ANY_HOST.equals(host);
    }
  }

  Optional<Host> host(String name) {
    return hosts.stream().filter(h -> h.name().equals(name)).findFirst();
  }

  Optional<Host> hostByIqn(String iqn) {
    String lower = iqn.toLowerCase(Locale.ROOT);
    return hosts.stream().filter(h -> h.iqns().contains(lower)).findFirst();
  }

  /** The mappings on {@code target} that an initiator belonging to {@code host} (or none) sees. */
  List<Mapping> visible(String target, Optional<Host> host) {
    return mappings.stream()
        .filter(m -> m.target().equals(target))
        .filter(m -> m.forAnyHost() || host.map(h -> h.name().equals(m.host())).orElse(false))
        .toList();
  }

  SiteState withHosts(List<Host> h) {
    return new SiteState(
        version, siteUuid, h, targets, mappings, portals, aluaState, nextMappingId, nbdExports);
  }

  SiteState withTargets(List<Target> t) {
    return new SiteState(
        version, siteUuid, hosts, t, mappings, portals, aluaState, nextMappingId, nbdExports);
  }

  SiteState withMappings(List<Mapping> m, long nextId) {
    return new SiteState(
        version, siteUuid, hosts, targets, m, portals, aluaState, nextId, nbdExports);
  }

  SiteState withPortals(List<String> p) {
    return new SiteState(
        version, siteUuid, hosts, targets, mappings, p, aluaState, nextMappingId, nbdExports);
  }

  SiteState withNbdExports(List<NbdExport> e) {
    return new SiteState(
        version, siteUuid, hosts, targets, mappings, portals, aluaState, nextMappingId, e);
  }

  SiteState withAluaState(String s) {
    return new SiteState(
        version, siteUuid, hosts, targets, mappings, portals, s, nextMappingId, nbdExports);
  }
}
