package io.duet.iscsi;

import io.duet.scsi.LunMap;
import io.duet.scsi.TargetPort;
import java.util.List;
import java.util.Optional;

/**
 * What the iSCSI target asks the node at login and discovery time: which targets exist, who may log
 * in to them, with which CHAP secrets, and which LUNs each initiator sees. The node implements it
 * over its configuration; it must be thread-safe and cheap (called at every login).
 */
public interface TargetCatalog {

  /**
   * Targets this initiator may discover with SendTargets, each with every portal (of every site)
   * that exports it.
   */
  List<DiscoveredTarget> discover(String initiatorName);

  /** The target named {@code targetName}, if it exists on this site. */
  Optional<Target> target(String targetName);

  /**
   * CHAP credentials required of {@code initiatorName}; empty when the initiator may log in without
   * authentication.
   */
  Optional<ChapCredentials> credentials(String initiatorName);

  /** A target as SendTargets reports it. */
  record DiscoveredTarget(String name, List<Portal> portals) {}

  /** A portal address as SendTargets prints it ({@code host:port,tpgt}; IPv6 hosts in brackets). */
  record Portal(String host, int port, int portalGroupTag) {
    public String sendTargetsValue() {
      String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
      return h + ":" + port + "," + portalGroupTag;
    }
  }

  /**
   * CHAP secrets for one initiator.
   *
   * @param user the CHAP name the initiator must send (CHAP_N)
   * @param secret the secret the initiator proves it knows
   * @param mutualUser the name the target answers with in mutual CHAP, or null for one-way
   * @param mutualSecret the secret the target proves it knows, or null for one-way
   */
  record ChapCredentials(String user, byte[] secret, String mutualUser, byte[] mutualSecret) {
    public boolean mutual() {
      return mutualSecret != null;
    }
  }

  /** One target on this site. */
  interface Target {
    String name();

    /** The target port a session reaching this target through this site's portals uses. */
    TargetPort port();

    /**
     * The live LUN map for {@code initiatorName}; empty when the initiator is not allowed to log in
     * to this target (unknown initiator on a target with an ACL, or nothing mapped).
     */
    Optional<LunMap> lunsFor(String initiatorName);
  }
}
