package io.duet.node.cg;

import io.duet.store.AtomicFile;
import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import io.duet.sync.ConsistencyGroupReplicator;
import io.duet.sync.GroupConfig;
import io.duet.sync.GroupState;
import io.duet.sync.Mediator;
import io.duet.sync.ReplicatedVolume;
import io.duet.sync.ReplicationListener;
import io.duet.sync.SharedStateMachine;
import io.duet.sync.SyncSettings;
import io.duet.sync.SyncTimers;
import io.duet.sync.Transport;
import io.duet.sync.VolumeReplica;
import io.duet.sync.dirty.ActivityLog;
import io.duet.sync.dirty.ActivityLogFile;
import io.duet.sync.dirty.DirtyMap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One consistency group running at this site: per volume its dirty map and activity log (in the
 * volume's state directory), the replicator with its own single-threaded event loop and an I/O
 * executor, on the group's channel of the peer link. Closing stops replication and closes the
 * files; the volumes stay open in the store.
 */
final class ReplicatedGroup implements AutoCloseable {
  private final ConsistencyGroupReplicator replicator;
  private final ExecutorService loop;
  private final ExecutorService io;
  private final List<AutoCloseable> files;
  private Mediator mediator;

  private ReplicatedGroup(
      ConsistencyGroupReplicator replicator,
      ExecutorService loop,
      ExecutorService io,
      List<AutoCloseable> files,
      Mediator mediator) {
    this.replicator = replicator;
    this.loop = loop;
    this.io = io;
    this.files = files;
    this.mediator = mediator;
  }

  static String dirtyMapFile(String groupId) {
    return "sync-" + groupId + ".dmap";
  }

  static String activityLogFile(String groupId) {
    return "sync-" + groupId + ".al";
  }

  /**
   * Makes a group's replication state durable before its record says the group (or a new volume of
   * it) exists: the group's epoch unless it has one, and for each volume in {@code fresh} a new
   * activity log and a dirty map with its allocated extents marked, so the first resync copies them
   * (only data: holes are already equal at both sites). A crash after the record is saved then
   * finds every mark it needs; a crash before leaves files no record names, replaced next time.
   */
  static void prepare(CgRecord r, VolumeStore store, Path groupDir, Set<String> fresh)
      throws IOException {
    if (!GroupState.exists(groupDir)) {
      GroupState.create(groupDir, UUID.fromString(r.sourceSiteId()));
    }
    for (CgRecord.VolumeSpec spec : r.volumes()) {
      if (fresh.contains(spec.name())) {
        LocalVolume v = volume(r, store, spec);
        freshState(r, store, v, allocated(v));
      }
    }
  }

  /**
   * Rebuilds a group's replication state at this site for a full resync: every volume's dirty map
   * with every region marked (so the union with the peer's copies everything) and an empty activity
   * log. The epoch is kept; a lost one must be recreated first ({@link GroupState#recreateStale}).
   * Only while the group is stopped here.
   */
  static void rebuildForFullResync(CgRecord r, VolumeStore store) throws IOException {
    for (CgRecord.VolumeSpec spec : r.volumes()) {
      LocalVolume v = volume(r, store, spec);
      freshState(r, store, v, List.of(new ActivityLog.Range(0, v.sizeBytes())));
    }
  }

  private static void freshState(
      CgRecord r, VolumeStore store, LocalVolume v, List<ActivityLog.Range> dirtyRanges)
      throws IOException {
    Path dir = store.stateDirectory(v.identity());
    AtomicFile.createDirectories(dir);
    Path map = dir.resolve(dirtyMapFile(r.id()));
    Path log = dir.resolve(activityLogFile(r.id()));
    // The map first: a crash between the two leaves a marked map and an old log, both safe.
    Files.deleteIfExists(map);
    try (DirtyMap dirty = DirtyMap.open(map, v.sizeBytes(), DirtyMap.REGION_SIZE_DEFAULT_BYTES)) {
      dirty.markAllDirty(dirtyRanges);
    }
    Files.deleteIfExists(log);
    openLog(log, v).close();
  }

  /**
   * What of the group's replication state is missing at this site, or an empty list. Any of it
   * missing for a group whose record exists means it was lost (a replaced or damaged data
   * directory): starting afresh would resync too little, so the group does not start.
   */
  static List<String> missingState(CgRecord r, VolumeStore store, Path groupDir) {
    List<String> missing = new ArrayList<>();
    if (!GroupState.exists(groupDir)) {
      missing.add("its epoch (" + groupDir + ")");
    }
    for (CgRecord.VolumeSpec spec : r.volumes()) {
      Optional<LocalVolume> v = store.get(spec.name());
      if (v.isEmpty()) {
        continue; // open reports the missing volume itself
      }
      Path dir = store.stateDirectory(v.get().identity());
      for (String f : List.of(dirtyMapFile(r.id()), activityLogFile(r.id()))) {
        if (!Files.exists(dir.resolve(f))) {
          missing.add(spec.name() + "'s " + (f.endsWith(".dmap") ? "dirty map" : "activity log"));
        }
      }
    }
    return missing;
  }

  /** Opens the group's files (made by {@link #prepare}) and starts its replicator. */
  static ReplicatedGroup open(
      CgRecord r,
      UUID siteId,
      VolumeStore store,
      Path stateDir,
      Transport channel,
      SyncTimers timers,
      ReplicationListener listener,
      SharedStateMachine unitState,
      Mediator mediator)
      throws IOException {
    List<String> missing = missingState(r, store, stateDir);
    if (!missing.isEmpty()) {
      throw new MissingStateException(
          "consistency group "
              + r.name()
              + " has lost its replication state at this site (missing "
              + String.join(", ", missing)
              + "): it stays unavailable here; 'duet cg resync "
              + r.name()
              + " --full' rebuilds it and copies every region from the site that leads");
    }
    List<AutoCloseable> files = new ArrayList<>();
    ExecutorService loop = null;
    ExecutorService io = null;
    try {
      List<VolumeReplica> replicas = new ArrayList<>();
      for (CgRecord.VolumeSpec spec : r.volumes()) {
        LocalVolume v = volume(r, store, spec);
        Path dir = store.stateDirectory(v.identity());
        DirtyMap dirty =
            DirtyMap.open(
                dir.resolve(dirtyMapFile(r.id())),
                v.sizeBytes(),
                DirtyMap.REGION_SIZE_DEFAULT_BYTES);
        files.add(dirty);
        ActivityLogFile log = openLog(dir.resolve(activityLogFile(r.id())), v);
        files.add(log);
        replicas.add(new VolumeReplica(v, dirty, log));
      }
      SyncSettings settings = settings(r);
      GroupConfig config =
          new GroupConfig(
              UUID.fromString(r.id()),
              siteId,
              UUID.fromString(r.peerSiteId()),
              UUID.fromString(r.sourceSiteId()),
              stateDir,
              replicas,
              settings);
      String name = r.name();
      loop =
          Executors.newSingleThreadExecutor(
              task -> {
                Thread t = new Thread(task, "cg-" + name + "-loop");
                t.setDaemon(true);
                return t;
              });
      io =
          Executors.newThreadPerTaskExecutor(
              Thread.ofVirtual().name("cg-" + name + "-io").factory());
      ConsistencyGroupReplicator replicator =
          ConsistencyGroupReplicator.open(
              config, channel, loop, io, timers, listener, unitState, mediator);
      return new ReplicatedGroup(replicator, loop, io, files, mediator);
    } catch (IOException | RuntimeException e) {
      shutdown(loop, io);
      closeAll(files);
      throw e;
    }
  }

  /** The replication settings of a group: the defaults with its resync rate and automation. */
  static SyncSettings settings(CgRecord r) {
    return SyncSettings.defaults()
        .withResyncRate(r.resyncRate())
        .withAuto(r.autoResync(), r.autoRecover());
  }

  private static LocalVolume volume(CgRecord r, VolumeStore store, CgRecord.VolumeSpec spec)
      throws IOException {
    return store
        .get(spec.name())
        .orElseThrow(
            () ->
                new IOException("volume " + spec.name() + " of group " + r.name() + " is missing"));
  }

  /** The volume's activity log; its extents leave the log only with their data durable. */
  private static ActivityLogFile openLog(Path file, LocalVolume v) throws IOException {
    return ActivityLogFile.open(
        file,
        v.sizeBytes(),
        ActivityLogFile.EXTENT_SIZE_DEFAULT_BYTES,
        ActivityLogFile.MAX_ACTIVE_EXTENTS_DEFAULT,
        v::flush);
  }

  /** Every allocated extent of {@code v}, walking the volume by allocation runs. */
  static List<ActivityLog.Range> allocated(Volume v) throws IOException {
    List<ActivityLog.Range> ranges = new ArrayList<>();
    long size = v.sizeBytes();
    long offset = 0;
    while (offset < size) {
      Volume.Extent e = v.allocation(offset, size - offset);
      if (e.length() <= 0) {
        throw new IOException(
            "allocation of " + v.identity().name() + " at " + offset + " is empty");
      }
      if (e.allocated()) {
        ranges.add(new ActivityLog.Range(e.offset(), Math.min(e.length(), size - e.offset())));
      }
      offset = e.offset() + e.length();
    }
    return ranges;
  }

  /**
   * Removes a stopped group's replication state: the volumes' dirty maps and activity logs, and the
   * group's directory (its epoch). The volumes stay.
   */
  static void removeState(CgRecord r, VolumeStore store, Path groupDir) throws IOException {
    for (CgRecord.VolumeSpec v : r.volumes()) {
      Optional<LocalVolume> lv = store.get(v.name());
      if (lv.isPresent()) {
        Path dir = store.stateDirectory(lv.get().identity());
        Files.deleteIfExists(dir.resolve(dirtyMapFile(r.id())));
        Files.deleteIfExists(dir.resolve(activityLogFile(r.id())));
      }
    }
    if (Files.exists(groupDir)) {
      try (var paths = Files.walk(groupDir)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  ConsistencyGroupReplicator replicator() {
    return replicator;
  }

  /** The replicated volumes, in the group's order. */
  List<ReplicatedVolume> volumes() {
    return replicator.volumes();
  }

  /**
   * Switches the running replicator to {@code next} (the site's mediator was added, changed or
   * removed); the old connection refuses further calls. Called under the groups' lock.
   */
  void useMediator(Mediator next) {
    Mediator old = mediator;
    mediator = next;
    replicator.setMediator(next);
    closeMediator(old);
  }

  @Override
  public void close() {
    try {
      replicator.close();
    } finally {
      closeMediator(mediator);
      shutdown(loop, io);
      closeAll(files);
    }
  }

  private static void closeMediator(Mediator m) {
    if (m instanceof AutoCloseable c) {
      closeAll(List.of(c));
    }
  }

  private static void shutdown(ExecutorService loop, ExecutorService io) {
    for (ExecutorService e : new ExecutorService[] {loop, io}) {
      if (e == null) {
        continue;
      }
      e.shutdown();
      try {
        if (!e.awaitTermination(10, TimeUnit.SECONDS)) {
          e.shutdownNow();
        }
      } catch (InterruptedException x) {
        e.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void closeAll(List<AutoCloseable> files) {
    for (AutoCloseable f : files) {
      try {
        f.close();
      } catch (Exception e) {
        // Closing: a file that fails to close is reopened (and checked) at the next start.
      }
    }
  }
}
