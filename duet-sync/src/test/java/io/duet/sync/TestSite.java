package io.duet.sync;

import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeIdentity;
import io.duet.store.VolumeStore;
import io.duet.sync.dirty.ActivityLogFile;
import io.duet.sync.dirty.DirtyMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** One site in a test: a volume store, dirty maps, activity logs and a replicator on a link. */
final class TestSite implements AutoCloseable {
  static final UUID GROUP = new UUID(0xC6, 1);
  static final UUID SITE_A = new UUID(0x5A, 1);
  static final UUID SITE_B = new UUID(0x5B, 2);
  static final long VOLUME_BYTES = 8L << 20;
  static final int BLOCK = 4096;
  static final long REGION = 64 * 1024;
  static final long EXTENT = 1L << 20;
  static final SyncSettings FAST = SyncSettings.defaults().withTimes(50, 1500, 100, 1000);

  final String name;
  final UUID siteId;
  final UUID peerId;
  final Path dir;
  final MemoryLink.Endpoint endpoint;
  final int volumeCount;
  SyncSettings settings;
  VolumeStore store;
  final List<LocalVolume> locals = new ArrayList<>();
  final List<DirtyMap> dirty = new ArrayList<>();
  final List<ActivityLogFile> logs = new ArrayList<>();
  ExecutorService loop;
  ExecutorService io;
  SystemTimers timers;
  ConsistencyGroupReplicator replicator;
  final List<String> warnings = new CopyOnWriteArrayList<>();

  /** The largest resyncBytesTotal any status has shown (a test resets it). */
  final java.util.concurrent.atomic.AtomicLong largestResyncTotal =
      new java.util.concurrent.atomic.AtomicLong();

  /** The volumes' unit state; survives a crash, as the SCSI layer would persist it. */
  final RecordingStateMachine machine;

  /** Size of each volume (set before the first open). */
  long volumeBytes = VOLUME_BYTES;

  /** Activity-log geometry (set before the first open). */
  long extentBytes = EXTENT;

  int maxExtents = 64;
  UnaryOperator<Volume> volumeWrapper = UnaryOperator.identity();
  UnaryOperator<Transport> transportWrapper = UnaryOperator.identity();

  TestSite(
      String name,
      UUID siteId,
      UUID peerId,
      Path dir,
      MemoryLink.Endpoint endpoint,
      int volumeCount,
      SyncSettings settings) {
    this.name = name;
    this.siteId = siteId;
    this.peerId = peerId;
    this.dir = dir;
    this.endpoint = endpoint;
    this.volumeCount = volumeCount;
    this.settings = settings;
    this.machine = new RecordingStateMachine(volumeCount);
  }

  static VolumeIdentity identity(int i) {
    UUID uuid = new UUID(0x70L, i);
    byte[] naa = new byte[16];
    naa[0] = 0x60;
    naa[15] = (byte) i;
    return new VolumeIdentity(uuid, "vol" + i, naa, "DUETTEST" + i);
  }

  TestSite open() throws IOException {
    store = VolumeStore.open(dir.resolve("store"));
    locals.clear();
    dirty.clear();
    logs.clear();
    List<VolumeReplica> replicas = new ArrayList<>();
    for (int i = 0; i < volumeCount; i++) {
      VolumeIdentity id = identity(i);
      LocalVolume v =
          store.get(id.name()).isPresent()
              ? store.get(id.name()).get()
              : store.create(id, volumeBytes, BLOCK);
      DirtyMap map = DirtyMap.open(dir.resolve("vol" + i + ".dmap"), volumeBytes, REGION);
      ActivityLogFile log =
          ActivityLogFile.open(
              dir.resolve("vol" + i + ".al"), volumeBytes, extentBytes, maxExtents, v::flush);
      locals.add(v);
      dirty.add(map);
      logs.add(log);
      replicas.add(new VolumeReplica(volumeWrapper.apply(v), map, log));
    }
    loop = Executors.newSingleThreadExecutor(r -> daemon(r, name + "-loop"));
    io = Executors.newVirtualThreadPerTaskExecutor();
    timers = new SystemTimers();
    GroupConfig config =
        new GroupConfig(GROUP, siteId, peerId, SITE_A, dir.resolve("state"), replicas, settings);
    replicator =
        ConsistencyGroupReplicator.open(
            config,
            transportWrapper.apply(endpoint),
            loop,
            io,
            timers,
            new ReplicationListener() {
              @Override
              public void onWarning(String message) {
                warnings.add(message);
              }

              @Override
              public void onStatus(ReplicationStatus status) {
                largestResyncTotal.accumulateAndGet(status.resyncBytesTotal(), Math::max);
              }
            },
            machine);
    return this;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  ReplicatedVolume volume(int i) {
    return replicator.volumes().get(i);
  }

  ReplicationStatus status() {
    return replicator.status();
  }

  long dirtyRegions() {
    long n = 0;
    for (DirtyMap m : dirty) {
      n += m.dirtyCount();
    }
    return n;
  }

  /** Stops like a killed process: nothing is closed cleanly (page cache survives, as it would). */
  void crash() throws Exception {
    endpoint.detach();
    timers.close();
    loop.shutdownNow();
    io.shutdownNow();
    try {
      loop.awaitTermination(10, TimeUnit.SECONDS);
      io.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted closing " + siteId);
    }
    store.close(); // releases the store lock; the data already written stays in the file
  }

  @Override
  public void close() throws IOException {
    if (loop.isShutdown()) {
      return;
    }
    replicator.close();
    timers.close();
    loop.shutdown();
    io.shutdown();
    try {
      loop.awaitTermination(10, TimeUnit.SECONDS);
      io.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted closing " + siteId);
    }
    for (DirtyMap m : dirty) {
      m.close();
    }
    for (ActivityLogFile l : logs) {
      l.close();
    }
    store.close();
  }
}
