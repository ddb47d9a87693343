package io.duet.scsi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The target port groups a site's logical units report in REPORT TARGET PORT GROUPS, with their
 * ALUA states. One group per site. Changing a state raises UA 2A/06 on every nexus of every LU that
 * uses this object. Thread-safe.
 */
public final class AluaGroups {

  /** A target port group: id, state and the relative ids of the ports in it. */
  public record PortGroup(int id, AluaState state, List<Integer> relativePortIds) {
    public PortGroup {
      Objects.requireNonNull(state, "state");
      relativePortIds = PortGroupReport.checkedGroup(id, relativePortIds);
    }
  }

  /** RTPG status code: the state was changed by the device itself (replication, operator). */
  private static final int STATUS_IMPLICIT_CHANGE = 0x02;

  /** Immutable snapshot, replaced whole on every change; readers never lock. */
  private volatile Map<Integer, PortGroup> byId;

  private volatile Map<Integer, Integer> statusCodes = Map.of();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  public AluaGroups(List<PortGroup> groups) {
    Map<Integer, PortGroup> m = new TreeMap<>();
    for (PortGroup g : groups) {
      if (m.put(g.id(), g) != null) {
        throw new IllegalArgumentException("duplicate port group id " + g.id());
      }
    }
    this.byId = java.util.Collections.unmodifiableMap(m);
  }

  public List<PortGroup> groups() {
    return List.copyOf(byId.values());
  }

  /**
   * The access state of a group. A port whose group was never configured is treated as
   * active/optimized, so a single-site setup without ALUA configuration serves I/O.
   */
  public AluaState state(int groupId) {
    PortGroup g = byId.get(groupId);
    return g == null ? AluaState.ACTIVE_OPTIMIZED : g.state();
  }

  /** Sets a group's state (the API, later replication, drives this). */
  public void setState(int groupId, AluaState state) {
    Objects.requireNonNull(state, "state");
    synchronized (this) {
      PortGroup g = require(groupId);
      if (g.state() == state) {
        return;
      }
      replace(new PortGroup(groupId, state, g.relativePortIds()));
      Map<Integer, Integer> codes = new TreeMap<>(statusCodes);
      codes.put(groupId, STATUS_IMPLICIT_CHANGE);
      statusCodes = Map.copyOf(codes);
    }
    // Outside the lock: listeners take the LUs' unit-attention locks.
    for (Runnable l : listeners) {
      l.run();
    }
  }

  /** Adds a port to a group (a portal was added). */
  public synchronized void addPort(int groupId, int relativePortId) {
    PortGroup g = require(groupId);
    if (g.relativePortIds().contains(relativePortId)) {
      return;
    }
    List<Integer> ports = new ArrayList<>(g.relativePortIds());
    ports.add(relativePortId);
    replace(new PortGroup(groupId, g.state(), ports));
  }

  /** RTPG status code of a group: 0 (none) or 2 (changed implicitly). */
  int statusCode(int groupId) {
    return statusCodes.getOrDefault(groupId, 0);
  }

  /** Runs {@code listener} after every state change (ScsiSite raises the unit attentions). */
  void addListener(Runnable listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  private PortGroup require(int groupId) {
    PortGroup g = byId.get(groupId);
    if (g == null) {
      throw new IllegalArgumentException("no port group " + groupId);
    }
    return g;
  }

  private void replace(PortGroup g) {
    Map<Integer, PortGroup> m = new TreeMap<>(byId);
    m.put(g.id(), g);
    byId = java.util.Collections.unmodifiableMap(m);
  }
}
