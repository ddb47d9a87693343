package io.duet.scsi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * The ALUA view of a replicated logical unit: both sites' target port groups, each with a base
 * state the node derives from the replication state of the unit's consistency group, and the hosts'
 * {@link Proximity}. The state a host sees for a group follows from the two: an ACTIVE group is
 * active/optimized for hosts local to it (or for every host under {@link Proximity#ALL}) and
 * active/non-optimized for the others. Both sites build the same view from the same inputs, so
 * REPORT TARGET PORT GROUPS answers a host the same through every path. One view may serve every
 * unit of a consistency group. Thread-safe.
 */
public final class UnitAlua {

  /** A port group's state before proximity is applied. */
  public enum BaseState {
    /** Serving I/O: optimized or not depending on the host. */
    ACTIVE,
    STANDBY,
    UNAVAILABLE,
    TRANSITIONING
  }

  /** A target port group of one site: id, base state and the relative ids of its ports. */
  public record PortGroup(int id, BaseState state, List<Integer> relativePortIds) {
    public PortGroup {
      Objects.requireNonNull(state, "state");
      relativePortIds = PortGroupReport.checkedGroup(id, relativePortIds);
      for (int port : relativePortIds) {
        if (port < 1 || port > 0xffff) {
          throw new IllegalArgumentException("relative port id out of range: " + port);
        }
      }
    }
  }

  /** RTPG status code of a group whose state the device changed itself (SPC-4 6.36). */
  private static final int STATUS_IMPLICIT_CHANGE = 0x02;

  /** Everything a host's view depends on; immutable, replaced whole on every change. */
  record Snapshot(
      Map<Integer, PortGroup> groups, Map<Integer, Integer> statusCodes, Proximity proximity) {
    /** The state {@code initiatorName} sees for {@code groupId}, or null for a foreign group. */
    AluaState state(String initiatorName, int groupId) {
      PortGroup g = groups.get(groupId);
      if (g == null) {
        return null;
      }
      return switch (g.state()) {
        case ACTIVE ->
            optimizedFor(initiatorName, groupId)
                ? AluaState.ACTIVE_OPTIMIZED
                : AluaState.ACTIVE_NON_OPTIMIZED;
        case STANDBY -> AluaState.STANDBY;
        case UNAVAILABLE -> AluaState.UNAVAILABLE;
        case TRANSITIONING -> AluaState.TRANSITIONING;
      };
    }

    private boolean optimizedFor(String initiatorName, int groupId) {
      int preferred = proximity.preferredGroup(initiatorName);
      return preferred == groupId || !groups.containsKey(preferred);
    }

    /** Every group as {@code initiatorName} sees it, in id order (what RTPG reports). */
    List<PortGroupReport.Group> report(String initiatorName) {
      List<PortGroupReport.Group> out = new ArrayList<>(groups.size());
      for (PortGroup g : groups.values()) {
        out.add(
            new PortGroupReport.Group(
                g.id(),
                state(initiatorName, g.id()),
                statusCodes.getOrDefault(g.id(), 0),
                g.relativePortIds()));
      }
      return out;
    }

    /** Whether {@code initiatorName} sees any group in another state in {@code other}. */
    boolean differsFor(String initiatorName, Snapshot other) {
      if (!groups.keySet().equals(other.groups.keySet())) {
        return true;
      }
      for (int id : groups.keySet()) {
        if (state(initiatorName, id) != other.state(initiatorName, id)) {
          return true;
        }
      }
      return false;
    }
  }

  private volatile Snapshot snapshot;

  /** Told (before, after) of every change; units raise 2A/06 where a host's view changed. */
  private final List<BiConsumer<Snapshot, Snapshot>> listeners = new CopyOnWriteArrayList<>();

  /**
   * @param groups the port groups of both sites, each id once
   * @param proximity which group is local to which host
   */
  public UnitAlua(List<PortGroup> groups, Proximity proximity) {
    Map<Integer, PortGroup> m = new TreeMap<>();
    for (PortGroup g : groups) {
      if (m.put(g.id(), g) != null) {
        throw new IllegalArgumentException("duplicate port group id " + g.id());
      }
    }
    Map<Integer, Integer> owners = new TreeMap<>();
    for (PortGroup g : m.values()) {
      for (int port : g.relativePortIds()) {
        Integer other = owners.put(port, g.id());
        if (other != null) {
          throw new IllegalArgumentException(
              "relative port " + port + " is in groups " + other + " and " + g.id());
        }
      }
    }
    this.snapshot =
        new Snapshot(
            Collections.unmodifiableMap(m),
            Map.of(),
            Objects.requireNonNull(proximity, "proximity"));
  }

  /** The port groups with their base states, in id order. */
  public List<PortGroup> groups() {
    return List.copyOf(snapshot.groups().values());
  }

  /** The base state of a group; IllegalArgumentException for an unknown id. */
  public BaseState baseState(int groupId) {
    return require(snapshot, groupId).state();
  }

  /**
   * The state {@code initiatorName} sees for group {@code groupId}, or null when not a group here.
   */
  public AluaState state(String initiatorName, int groupId) {
    return snapshot.state(initiatorName, groupId);
  }

  /**
   * Sets a group's base state (the node, from the consistency group's replication state). Every I_T
   * nexus whose view changes gets UA 2A/06 ASYMMETRIC ACCESS STATE CHANGED.
   */
  public void setBaseState(int groupId, BaseState state) {
    Objects.requireNonNull(state, "state");
    Snapshot before;
    Snapshot after;
    synchronized (this) {
      before = snapshot;
      PortGroup g = require(before, groupId);
      if (g.state() == state) {
        return;
      }
      Map<Integer, PortGroup> groups = new TreeMap<>(before.groups());
      groups.put(groupId, new PortGroup(groupId, state, g.relativePortIds()));
      Map<Integer, Integer> codes = new TreeMap<>(before.statusCodes());
      codes.put(groupId, STATUS_IMPLICIT_CHANGE);
      after =
          new Snapshot(Collections.unmodifiableMap(groups), Map.copyOf(codes), before.proximity());
      snapshot = after;
    }
    notifyChange(before, after);
  }

  /**
   * Replaces the hosts' proximity (a host moved to another site, or was added); hosts whose view
   * changes get UA 2A/06.
   */
  public void setProximity(Proximity proximity) {
    Objects.requireNonNull(proximity, "proximity");
    Snapshot before;
    Snapshot after;
    synchronized (this) {
      before = snapshot;
      after = new Snapshot(before.groups(), before.statusCodes(), proximity);
      snapshot = after;
    }
    notifyChange(before, after);
  }

  Snapshot snapshot() {
    return snapshot;
  }

  void addListener(BiConsumer<Snapshot, Snapshot> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  void removeListener(BiConsumer<Snapshot, Snapshot> listener) {
    listeners.remove(listener);
  }

  /** Outside the lock: listeners take the units' unit-attention locks. */
  private void notifyChange(Snapshot before, Snapshot after) {
    for (var l : listeners) {
      l.accept(before, after);
    }
  }

  private static PortGroup require(Snapshot s, int groupId) {
    PortGroup g = s.groups().get(groupId);
    if (g == null) {
      throw new IllegalArgumentException("no port group " + groupId);
    }
    return g;
  }
}
