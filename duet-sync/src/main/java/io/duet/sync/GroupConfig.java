package io.duet.sync;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * What one site knows about a consistency group: its id, both sites, the leader to assume when no
 * epoch has been persisted yet, where to persist the epoch, the volumes (in the same order at both
 * sites) and the settings.
 */
public record GroupConfig(
    UUID groupId,
    UUID siteId,
    UUID peerId,
    UUID initialLeaderId,
    Path stateDirectory,
    List<VolumeReplica> volumes,
    SyncSettings settings) {
  public GroupConfig {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(siteId, "siteId");
    Objects.requireNonNull(peerId, "peerId");
    Objects.requireNonNull(initialLeaderId, "initialLeaderId");
    Objects.requireNonNull(stateDirectory, "stateDirectory");
    Objects.requireNonNull(settings, "settings");
    volumes = List.copyOf(volumes);
    if (siteId.equals(peerId)) {
      throw new IllegalArgumentException("a site cannot peer with itself");
    }
    if (!initialLeaderId.equals(siteId) && !initialLeaderId.equals(peerId)) {
      throw new IllegalArgumentException("the initial leader must be one of the two sites");
    }
    if (volumes.isEmpty()) {
      throw new IllegalArgumentException("a consistency group needs at least one volume");
    }
  }
}
