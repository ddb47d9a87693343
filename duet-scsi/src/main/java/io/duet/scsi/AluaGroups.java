package io.duet.scsi;

import java.util.List;

/**
 * The target port groups a site's logical units report in REPORT TARGET PORT GROUPS, with their
 * ALUA states. One group per site. Changing a state raises UA 2A/06 on every nexus of every LU
 * that uses this object. Thread-safe.
 *
 * <p>CONTRACT SKELETON — the implementation replaces these bodies.
 */
public final class AluaGroups {

  /** A target port group: id, state and the relative ids of the ports in it. */
  public record PortGroup(int id, AluaState state, List<Integer> relativePortIds) {}

  public AluaGroups(List<PortGroup> groups) {
    throw new UnsupportedOperationException("skeleton");
  }

  public List<PortGroup> groups() {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Sets a group's state (the API, later replication, drives this). */
  public void setState(int groupId, AluaState state) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Adds a port to a group (a portal was added). */
  public void addPort(int groupId, int relativePortId) {
    throw new UnsupportedOperationException("skeleton");
  }
}
