package io.duet.node.cg;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.node.AdminException;
import io.duet.store.LocalVolume;
import io.duet.sync.ReplicationStatus;
import io.duet.sync.SyncSettings;
import io.duet.sync.SystemTimers;
import io.duet.sync.link.LinkChannels;
import io.duet.sync.peering.PeerRecord;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * The site's consistency groups: the persisted records, one running {@link ReplicatedGroup} per
 * group, the control links to the paired sites and every operation of the CG REST contract. A
 * change that involves the peer (create, add a volume, delete) is asked of the peer first and done
 * here only once the peer agreed, so a refusal leaves both sites as they were.
 *
 * <p>Operations run one at a time under one lock, whether an operator or the peer asked.
 */
public final class ConsistencyGroups implements AutoCloseable {

  /** How long an operator call waits for a switchover, failover or verify to finish. */
  static final long OPERATION_TIMEOUT_MS = 120_000;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  final GroupSite site;
  final ControlWire wire;
  private final Clock clock;
  private final CgFile file;
  private final SystemTimers timers = new SystemTimers();
  private final ExecutorService workers =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("cg-control").factory());
  final ReentrantLock lock = new ReentrantLock();

  /** Changed under {@link #lock} only; read without it by the groups' event loops (handover). */
  private final Map<String, Entry> groups = Collections.synchronizedMap(new LinkedHashMap<>());

  private final PeerControls controls;
  private final PeerRequests peerRequests;
  private final GroupActions actions;
  private final GroupRunner runner;
  private volatile boolean closed;

  /** A group: its record and, while it runs, its replicator. */
  static final class Entry {
    volatile CgRecord record;
    volatile ReplicatedGroup running;
    GroupWatcher watcher;

    /** The operator's operation running on the group here (verify, switchover ...), or null. */
    volatile String operation;

    /** Why the group could not start here (its last attempt), or null. */
    volatile String problem;

    Entry(CgRecord record) {
      this.record = record;
    }
  }

  public ConsistencyGroups(GroupSite site, ObjectMapper json, Clock clock) {
    this.site = site;
    this.wire = new ControlWire(json);
    this.clock = clock;
    this.file = new CgFile(site.dataDir(), json);
    this.peerRequests = new PeerRequests(this);
    this.controls =
        new PeerControls(site, wire, timers, workers, peerRequests::handle, this::peerInfoChanged);
    this.actions = new GroupActions(this);
    this.runner = new GroupRunner(site, clock, timers, actions::leaderInSync);
  }

  /** Loads the saved groups and starts each one whose peer link exists. */
  public void start() throws IOException {
    lock.lock();
    try {
      for (CgRecord r : file.load()) {
        Entry e = new Entry(r);
        groups.put(r.id(), e);
        startOrReport(e);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Starts a saved group; if it cannot start, says why in an event and in its view (lock held). */
  private void startOrReport(Entry e) {
    try {
      runner.run(e);
    } catch (IOException | RuntimeException x) {
      String why = x.getMessage() == null ? x.toString() : x.getMessage();
      e.problem = why;
      site.event(
          x instanceof MissingStateException ? "cg.state.missing" : "cg.failed",
          e.record.name(),
          "consistency group " + e.record.name() + " not started: " + why);
    }
  }

  /**
   * Serves the peer's control requests over {@code channels} and sends this site's there. Called
   * for every paired site, at start and when a new one pairs.
   */
  public void attachPeer(UUID peerSiteId, LinkChannels channels) {
    controls.attach(peerSiteId, channels);
    lock.lock();
    try {
      for (Entry e : groups.values()) {
        if (e.running == null && e.record.peerSiteId().equals(peerSiteId.toString())) {
          startOrReport(e);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** A peer's ports, targets and portals as it reported them on its link coming up. */
  private void peerInfoChanged(UUID peerId, SiteInfo info) {
    lock.lock();
    try {
      boolean changed = false;
      for (Entry e : groups.values()) {
        if (e.record.peerSiteId().equals(peerId.toString()) && !info.equals(e.record.peer())) {
          e.record = e.record.withPeer(info);
          changed = true;
        }
      }
      if (changed) {
        save();
      }
    } catch (IOException e) {
      site.event("cg.warning", "", "cannot save the peer's new ports: " + e.getMessage());
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- operator requests

  /** What {@code POST /cgs} asks. Null fields take their defaults. */
  public record CreateRequest(
      String name,
      String policy,
      String peer,
      List<String> volumes,
      String leader,
      Boolean autoResync,
      Boolean autoRecover,
      Long resyncRate) {

    /** Refuses a malformed request (400) before anything is looked up. */
    void check() {
      if (!CgRecord.ACTIVE_ACTIVE.equals(policy)) {
        throw AdminException.invalid(
            "policy must be 'active-active'"
                + (policy == null ? " (field 'policy' is required)" : ", got '" + policy + "'"));
      }
      if (leader != null && !leader.equals("local") && !leader.equals("peer")) {
        throw AdminException.invalid("leader must be 'local' or 'peer', got '" + leader + "'");
      }
      if (resyncRate != null && resyncRate <= 0) {
        throw AdminException.invalid("resyncRate must be positive");
      }
      if (peer == null || peer.isBlank()) {
        throw AdminException.invalid("field 'peer' is required (a peer name as in GET /peers)");
      }
      if (volumes == null || volumes.isEmpty()) {
        throw AdminException.invalid("field 'volumes' must name at least one volume");
      }
      if (new HashSet<>(volumes).size() != volumes.size()) {
        throw AdminException.invalid("field 'volumes' names a volume twice");
      }
    }

    /**
     * The new group's record: this site is the source of the initial synchronization and leads
     * until it is done; the operator's choice of leader is the preferred one.
     */
    CgRecord record(UUID me, PeerRecord p, List<CgRecord.VolumeSpec> specs, SiteInfo peerInfo) {
      String self = me.toString();
      String preferred = "peer".equals(leader) ? p.siteId().toString() : self;
      return new CgRecord(
          UUID.randomUUID().toString(),
          name,
          CgRecord.ACTIVE_ACTIVE,
          p.siteId().toString(),
          p.name(),
          self,
          preferred,
          preferred.equals(self),
          autoResync == null || autoResync,
          autoRecover == null || autoRecover,
          resyncRate == null ? SyncSettings.RESYNC_RATE_DEFAULT_BYTES_PER_SECOND : resyncRate,
          specs,
          peerInfo);
    }
  }

  public CgViews.Group create(CreateRequest req) throws IOException {
    String name = validName(req.name());
    req.check();
    lock.lock();
    try {
      if (byName(name).isPresent()) {
        throw AdminException.conflict("a consistency group named '" + name + "' exists already");
      }
      PeerRecord peer =
          site.peerByName(req.peer())
              .orElseThrow(() -> AdminException.notFound("no peer named '" + req.peer() + "'"));
      List<CgRecord.VolumeSpec> specs = new ArrayList<>();
      for (String v : req.volumes()) {
        LocalVolume lv =
            site.store().get(v).orElseThrow(() -> AdminException.notFound("no volume '" + v + "'"));
        requireFree(lv.identity().name());
        specs.add(spec(lv));
      }
      SiteInfo mine = site.info();
      SiteInfo theirs = controls.siteInfo(peer.siteId());
      String clash = mine.clashWith(theirs);
      if (clash != null) {
        throw AdminException.conflict(clash);
      }
      CgRecord r = req.record(site.siteId(), peer, specs, theirs);
      ControlWire.Request undo =
          new ControlWire.Request(ControlWire.CG_DELETE, mine, null, r.id(), null);
      try {
        controls.ask(
            peer.siteId(), new ControlWire.Request(ControlWire.CG_CREATE, mine, r, null, null));
      } catch (AdminException e) {
        if (e.kind() == AdminException.Kind.UNAVAILABLE) {
          // The peer may have created it before its answer was lost.
          controls.tell(peer.siteId(), undo);
        }
        throw e;
      }
      try {
        adopt(r, volumeNames(r));
      } catch (IOException | RuntimeException e) {
        // Best effort: the peer's record without ours would wait for a session forever.
        controls.tell(peer.siteId(), undo);
        throw e;
      }
      site.event(
          "cg.created",
          name,
          "consistency group "
              + name
              + " created with "
              + peer.name()
              + ", volumes "
              + volumeNames(r)
              + "; initial synchronization from "
              + site.name());
      return GroupViews.view(site, groups.get(r.id()));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Every group as this site sees it. Reads take no lock: an operation waiting for the peer (up to
   * the control timeout) must not stall status, discovery or a watching CLI.
   */
  public List<CgViews.Group> list() {
    return snapshot().stream().map(e -> GroupViews.view(site, e)).toList();
  }

  public CgViews.Group get(String name) {
    return GroupViews.view(
        site,
        snapshot().stream()
            .filter(e -> e.record.name().equals(name))
            .findFirst()
            .orElseThrow(() -> AdminException.notFound("no consistency group '" + name + "'")));
  }

  private List<Entry> snapshot() {
    synchronized (groups) {
      return List.copyOf(groups.values());
    }
  }

  /** The short form of every group, for the site status. */
  public List<CgViews.Summary> summaries() {
    return list().stream()
        .map(
            g ->
                new CgViews.Summary(
                    g.name(),
                    g.role(),
                    g.syncState(),
                    g.availability(),
                    g.link(),
                    g.resync(),
                    g.mediator()))
        .toList();
  }

  /** The peer sites of the groups that hold any of {@code volumes} (for discovery). */
  public List<SiteInfo> peersOf(Set<String> volumes) {
    return snapshot().stream()
        .map(e -> e.record)
        .filter(r -> r.peer() != null)
        .filter(r -> r.volumes().stream().anyMatch(v -> volumes.contains(v.name())))
        .map(CgRecord::peer)
        .distinct()
        .toList();
  }

  /** A group replicated with {@code peerSiteId}, if any (the node keeps such a peer). */
  public Optional<String> groupWithPeer(UUID peerSiteId) {
    lock.lock();
    try {
      return groups.values().stream()
          .filter(e -> e.record.peerSiteId().equals(peerSiteId.toString()))
          .map(e -> e.record.name())
          .findFirst();
    } finally {
      lock.unlock();
    }
  }

  /** The group a volume belongs to, if any (the node refuses to delete or resize it). */
  public Optional<String> groupOf(String volume) {
    lock.lock();
    try {
      return groups.values().stream()
          .filter(e -> e.record.hasVolume(volume))
          .map(e -> e.record.name())
          .findFirst();
    } finally {
      lock.unlock();
    }
  }

  public CgViews.Group addVolume(String name, String volume) throws IOException {
    if (volume == null || volume.isBlank()) {
      throw AdminException.invalid("field 'volume' is required");
    }
    lock.lock();
    try {
      Entry e = find(name);
      LocalVolume lv =
          site.store()
              .get(volume)
              .orElseThrow(() -> AdminException.notFound("no volume '" + volume + "'"));
      requireFree(lv.identity().name());
      ReplicationStatus s = GroupViews.status(e);
      if (s == null || s.role() != ReplicationStatus.Role.LEADER) {
        throw AdminException.conflict(
            "add volumes at the group's leader site ("
                + leaderName(e.record, s)
                + "): the initial copy runs from the leader");
      }
      CgRecord.VolumeSpec spec = spec(lv);
      controls.ask(
          UUID.fromString(e.record.peerSiteId()),
          new ControlWire.Request(
              ControlWire.CG_ADD_VOLUME, site.info(), null, e.record.id(), spec));
      List<CgRecord.VolumeSpec> vs = new ArrayList<>(e.record.volumes());
      vs.add(spec);
      restart(e, e.record.withVolumes(vs), Set.of(spec.name()));
      site.event(
          "cg.volume.added", name, "volume " + spec.name() + " added to consistency group " + name);
      return GroupViews.view(site, e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes the group at both sites; volumes stay. With {@code force}, deletes it here even when
   * the peer cannot be reached (the peer keeps its record until deleted there).
   */
  public void delete(String name, boolean force) throws IOException {
    lock.lock();
    try {
      Entry e = find(name);
      try {
        controls.ask(
            UUID.fromString(e.record.peerSiteId()),
            new ControlWire.Request(ControlWire.CG_DELETE, site.info(), null, e.record.id(), null));
      } catch (AdminException x) {
        if (!force || x.kind() != AdminException.Kind.UNAVAILABLE) {
          throw x;
        }
        site.event(
            "cg.warning",
            name,
            "consistency group " + name + " deleted here only: " + x.getMessage());
      }
      drop(e);
      site.event("cg.deleted", name, "consistency group " + name + " deleted; its volumes stay");
    } finally {
      lock.unlock();
    }
  }

  /**
   * The site's mediator was added, changed or removed: every running group switches to it now (a
   * group started later gets it when it starts).
   */
  public void mediatorChanged() {
    lock.lock();
    try {
      for (Entry e : groups.values()) {
        ReplicatedGroup g = e.running;
        if (g != null) {
          g.useMediator(runner.mediator(e.record));
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** The go-live checks of a group (see {@link GroupValidation}). */
  public CgViews.Validation validate(String name) {
    return new GroupValidation(this).validate(name);
  }

  /** Changes the group's resync settings here (the replicator restarts with them). */
  public CgViews.Group update(String name, Boolean autoResync, Boolean autoRecover, Long rate)
      throws IOException {
    return actions.update(name, autoResync, autoRecover, rate);
  }

  /** Compares the sites' region digests (at the leader), optionally repairing from it. */
  public CgViews.Verify verify(String name, boolean repair) {
    return actions.verify(name, repair);
  }

  /** Planned switchover at the leader: the peer leads once this returns. */
  public CgViews.Group switchover(String name) {
    return actions.switchover(name);
  }

  /** Forced failover to this site; refused without {@code force}. */
  public CgViews.Group failover(String name, boolean force, String reason) {
    return actions.failover(name, force, reason);
  }

  /** Starts a resync now (when auto-resync is off). */
  public void resync(String name) {
    actions.resync(name);
  }

  /**
   * Rebuilds the group's replication state here and restarts it, copying every region from the site
   * that leads (see {@link FullResync}).
   */
  public CgViews.Group resyncFull(String name) throws IOException {
    return new FullResync(this).run(name);
  }

  // ---------------------------------------------------------------- shared with PeerRequests

  Optional<Entry> byName(String name) {
    return groups.values().stream().filter(e -> e.record.name().equals(name)).findFirst();
  }

  Optional<Entry> byId(String id) {
    return Optional.ofNullable(groups.get(id));
  }

  /** Refuses a volume that is in a group already. */
  void requireFree(String volume) {
    for (Entry e : groups.values()) {
      if (e.record.hasVolume(volume)) {
        throw AdminException.conflict(
            "volume '" + volume + "' is in consistency group '" + e.record.name() + "' already");
      }
    }
  }

  /**
   * Records a new group durably and starts it (lock held). Its replication state, with {@code
   * initialSync}'s allocated extents marked, is durable before the record (see {@link
   * ReplicatedGroup#prepare}).
   */
  void adopt(CgRecord r, Set<String> initialSync) throws IOException {
    ReplicatedGroup.prepare(r, site.store(), runner.groupDir(r.id()), initialSync);
    Entry e = new Entry(r);
    groups.put(r.id(), e);
    try {
      save();
    } catch (IOException x) {
      groups.remove(r.id());
      throw x;
    }
    runner.run(e);
  }

  /** Replaces a group's record durably, the replicator running on (lock held). */
  void replace(Entry e, CgRecord next) throws IOException {
    CgRecord old = e.record;
    e.record = next;
    try {
      save();
    } catch (IOException x) {
      e.record = old;
      throw x;
    }
  }

  /**
   * Replaces a group's record durably and restarts its replicator with it (lock held); the state of
   * the volumes in {@code initialSync} is made first (see {@link ReplicatedGroup#prepare}).
   */
  void restart(Entry e, CgRecord next, Set<String> initialSync) throws IOException {
    runner.stop(e, false);
    CgRecord old = e.record;
    try {
      ReplicatedGroup.prepare(next, site.store(), runner.groupDir(next.id()), initialSync);
      e.record = next;
      save();
    } catch (IOException x) {
      e.record = old;
      runner.run(e);
      throw x;
    }
    runner.run(e);
  }

  /** Stops a group, forgets it durably and removes its replication state (lock held). */
  void drop(Entry e) throws IOException {
    runner.stop(e, true);
    groups.remove(e.record.id());
    save();
    ReplicatedGroup.removeState(e.record, site.store(), runner.groupDir(e.record.id()));
    site.forgetAtMediator(UUID.fromString(e.record.id()), e.record.name());
  }

  static CgRecord.VolumeSpec spec(LocalVolume v) {
    return new CgRecord.VolumeSpec(
        v.identity().name(),
        v.identity().uuid().toString(),
        v.identity().naaHex(),
        v.identity().serial(),
        v.sizeBytes(),
        v.blockSize());
  }

  static Set<String> volumeNames(CgRecord r) {
    Set<String> names = new java.util.LinkedHashSet<>();
    r.volumes().forEach(v -> names.add(v.name()));
    return names;
  }

  // ---------------------------------------------------------------- internals

  void save() throws IOException {
    file.save(groups.values().stream().map(e -> e.record).toList());
  }

  Entry entry(String groupId) {
    return groups.get(groupId);
  }

  boolean closed() {
    return closed;
  }

  ExecutorService workers() {
    return workers;
  }

  PeerControls controls() {
    return controls;
  }

  GroupRunner runner() {
    return runner;
  }

  Entry find(String name) {
    return byName(name)
        .orElseThrow(() -> AdminException.notFound("no consistency group '" + name + "'"));
  }

  ReplicatedGroup running(String name) {
    lock.lock();
    try {
      Entry e = find(name);
      ReplicatedGroup g = e.running;
      if (g == null) {
        throw AdminException.unavailable(
            "consistency group '"
                + name
                + "' is not running here: "
                + (e.problem != null ? e.problem : "no link to its peer"));
      }
      return g;
    } finally {
      lock.unlock();
    }
  }

  private String leaderName(CgRecord r, ReplicationStatus s) {
    String leader = s == null ? r.sourceSiteId() : s.leaderId().toString();
    return leader.equals(site.siteId().toString()) ? site.name() : r.peerName();
  }

  private static String validName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw AdminException.invalid(
          "name must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit),"
              + " got "
              + (name == null ? "none" : "'" + name + "'"));
    }
    return name;
  }

  @Override
  public void close() {
    closed = true;
    lock.lock();
    try {
      for (Entry e : groups.values()) {
        runner.stop(e, false);
      }
    } finally {
      lock.unlock();
    }
    controls.close();
    workers.shutdownNow();
    timers.close();
  }
}
