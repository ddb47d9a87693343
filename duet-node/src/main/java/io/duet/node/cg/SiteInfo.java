package io.duet.node.cg;

import java.util.List;
import java.util.Objects;

/**
 * What one site tells its peer about itself for a consistency group's hosts: its name and id, its
 * ALUA target port group and relative port ids (REPORT TARGET PORT GROUPS lists both sites'), and
 * its iSCSI targets and portals (SendTargets discovery at either site lists both sites').
 *
 * @param targets iSCSI target names, the site's default target first
 * @param portals iSCSI portals as {@code host:port}
 */
public record SiteInfo(
    String name,
    String siteId,
    int portGroupId,
    List<Integer> relativePortIds,
    List<String> targets,
    List<String> portals,
    int portalGroupTag) {
  public SiteInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(siteId, "siteId");
    relativePortIds = List.copyOf(relativePortIds == null ? List.of() : relativePortIds);
    targets = List.copyOf(targets == null ? List.of() : targets);
    portals = List.copyOf(portals == null ? List.of() : portals);
  }

  /**
   * Why the two sites' ports cannot form one ALUA view (same port group or a shared relative port
   * id), or null when they can.
   */
  String clashWith(SiteInfo other) {
    if (portGroupId == other.portGroupId) {
      return "sites "
          + name
          + " and "
          + other.name
          + " both use target port group "
          + portGroupId
          + "; give each site its own portGroupId in site.yaml";
    }
    for (int id : relativePortIds) {
      if (other.relativePortIds.contains(id)) {
        return "sites "
            + name
            + " and "
            + other.name
            + " both use relative target port id "
            + id
            + "; give each site its own relativeTargetPortId in site.yaml";
      }
    }
    return null;
  }
}
