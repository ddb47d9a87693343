package io.duet.sync;

import io.duet.store.Volume;
import io.duet.sync.dirty.ActivityLog;
import io.duet.sync.dirty.DirtyRegions;
import java.util.Objects;

/**
 * One volume of a consistency group at this site: its local store, its dirty map for the peer and
 * its activity log. The replicator does not own them; whoever opened them closes them.
 */
public record VolumeReplica(Volume local, DirtyRegions dirty, ActivityLog activity) {
  public VolumeReplica {
    Objects.requireNonNull(local, "local");
    Objects.requireNonNull(dirty, "dirty");
    Objects.requireNonNull(activity, "activity");
  }
}
