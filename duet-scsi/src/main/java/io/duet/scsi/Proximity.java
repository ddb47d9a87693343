package io.duet.scsi;

/**
 * Which site's ports are local to a host, by the host's initiator name: the node derives it from
 * the host's {@code site} setting. A pure function of its argument; when hosts change, the node
 * hands {@link UnitAlua#setProximity} a new one, so the unit can tell which hosts see a new state.
 */
@FunctionalInterface
public interface Proximity {
  /** Every port group is local to the host: every active group is active/optimized for it. */
  int ALL = -1;

  /**
   * The target port group id local to {@code initiatorName}, or {@link #ALL}. An id that is not a
   * group of the unit counts as {@link #ALL}.
   */
  int preferredGroup(String initiatorName);

  /** Every host is local to every site (the default for hosts without a site). */
  static Proximity all() {
    return initiatorName -> ALL;
  }
}
