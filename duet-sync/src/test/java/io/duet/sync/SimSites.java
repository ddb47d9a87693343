package io.duet.sync;

import io.duet.store.VolumeStore;
import io.duet.sync.ReplicationStatus.Availability;
import io.duet.sync.ReplicationStatus.SyncState;
import io.duet.sync.dirty.ActivityLogFile;
import io.duet.sync.dirty.DirtyMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Sites with one volume each on a {@link ManualScheduler}: loop, I/O, timers and link all run on
 * the test's thread, in a reproducible order, on virtual time.
 */
final class SimSites implements AutoCloseable {
  static final long MS = 1_000_000L;

  final ManualScheduler sim = new ManualScheduler();
  private final Path dir;
  private final List<Closer> closeables = new ArrayList<>();

  /** What close releases, in reverse order. */
  private interface Closer {
    void close() throws IOException;
  }

  SimSites(Path dir) {
    this.dir = dir;
  }

  ConsistencyGroupReplicator open(
      String name, UUID self, UUID peer, Transport t, SyncSettings settings) throws Exception {
    VolumeStore store = VolumeStore.open(dir.resolve(name));
    closeables.add(store::close);
    var volume = store.create(TestSite.identity(0), TestSite.VOLUME_BYTES, TestSite.BLOCK);
    DirtyMap dirty =
        DirtyMap.open(dir.resolve(name + ".dmap"), TestSite.VOLUME_BYTES, TestSite.REGION);
    ActivityLogFile log =
        ActivityLogFile.open(
            dir.resolve(name + ".al"), TestSite.VOLUME_BYTES, TestSite.EXTENT, 8, volume::flush);
    closeables.add(dirty::close);
    closeables.add(log::close);
    GroupConfig config =
        new GroupConfig(
            TestSite.GROUP,
            self,
            peer,
            TestSite.SITE_A,
            dir.resolve(name + "-state"),
            List.of(new VolumeReplica(volume, dirty, log)),
            settings);
    return ConsistencyGroupReplicator.open(config, t, sim, sim, sim, ReplicationListener.NONE);
  }

  static boolean inSync(ConsistencyGroupReplicator g) {
    return g.status().syncState() == SyncState.IN_SYNC
        && g.status().availability() == Availability.SERVING;
  }

  /** Moves virtual time until both sites are in sync (at most ten seconds of it). */
  void awaitInSync(ConsistencyGroupReplicator a, ConsistencyGroupReplicator b) {
    for (int i = 0; i < 100 && !(inSync(a) && inSync(b)); i++) {
      sim.advance(100 * MS);
    }
    if (!(inSync(a) && inSync(b))) {
      throw new AssertionError("not in sync: " + a.status() + " / " + b.status());
    }
  }

  @Override
  public void close() throws IOException {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }
}
