package io.duet.node.cg;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.node.AdminException;
import io.duet.store.LocalVolume;
import io.duet.sync.ReplicationStatus;
import io.duet.sync.SyncSettings;
import io.duet.sync.SystemTimers;
import io.duet.sync.link.ControlException;
import io.duet.sync.link.ControlLink;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
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
  /** How long this site waits for the peer's answer to a control request. */
  static final long CONTROL_TIMEOUT_MS = 20_000;

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

  private final Map<UUID, ControlLink> controls = new ConcurrentHashMap<>();
  private final PeerRequests peerRequests;
  private final GroupActions actions;
  private final GroupRunner runner;
  private volatile boolean closed;

  /** A group: its record and, while it runs, its replicator. */
  static final class Entry {
    volatile CgRecord record;
    volatile ReplicatedGroup running;
    GroupWatcher watcher;

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
        try {
          runner.run(e, Set.of());
        } catch (IOException | RuntimeException x) {
          site.event(
              "cg.failed",
              r.name(),
              "consistency group " + r.name() + " not started: " + x.getMessage());
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Serves the peer's control requests over {@code channels} and sends this site's there. Called
   * for every paired site, at start and when a new one pairs.
   */
  public void attachPeer(UUID peerSiteId, LinkChannels channels) {
    controls.computeIfAbsent(
        peerSiteId,
        id -> {
          ControlLink c =
              new ControlLink(
                  channels.control(),
                  timers,
                  body -> peerRequests.handle(id, body),
                  workers,
                  ControlLink.MAX_PENDING_DEFAULT,
                  ControlLink.MAX_HANDLING_DEFAULT);
          c.onLinkUp(() -> workers.execute(() -> refreshPeer(id, c)));
          return c;
        });
    lock.lock();
    try {
      for (Entry e : groups.values()) {
        if (e.running == null && e.record.peerSiteId().equals(peerSiteId.toString())) {
          try {
            runner.run(e, Set.of());
          } catch (IOException | RuntimeException x) {
            site.event("cg.failed", e.record.name(), "not started: " + x.getMessage());
          }
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes a group at the peer, best effort, when its creation here did not complete: its record
   * without ours would only wait for a session that never comes. (Twins it created stay.)
   */
  private void undoAtPeer(ControlLink control, SiteInfo mine, CgRecord r) {
    control.request(
        wire.encode(new ControlWire.Request(ControlWire.CG_DELETE, mine, null, r.id(), null)),
        CONTROL_TIMEOUT_MS);
  }

  /**
   * Asks a peer that just came back for its ports, targets and portals (they may have changed with
   * a restart) and keeps them in its groups' records, for discovery.
   */
  private void refreshPeer(UUID peerId, ControlLink control) {
    SiteInfo info;
    try {
      byte[] answer =
          control
              .request(
                  wire.encode(
                      new ControlWire.Request(
                          ControlWire.SITE_INFO, site.info(), null, null, null)),
                  CONTROL_TIMEOUT_MS)
              .get();
      info = wire.siteInfo(answer);
    } catch (ExecutionException | ControlException e) {
      return; // the next link-up tries again; the old information stays meanwhile
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
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
      Long resyncRate) {}

  public CgViews.Group create(CreateRequest req) throws IOException {
    String name = validName(req.name());
    if (!CgRecord.ACTIVE_ACTIVE.equals(req.policy())) {
      throw AdminException.invalid(
          "policy must be 'active-active'"
              + (req.policy() == null
                  ? " (field 'policy' is required)"
                  : ", got '" + req.policy() + "'"));
    }
    String leader = req.leader() == null ? "local" : req.leader();
    if (!leader.equals("local") && !leader.equals("peer")) {
      throw AdminException.invalid("leader must be 'local' or 'peer', got '" + leader + "'");
    }
    long rate =
        req.resyncRate() == null
            ? SyncSettings.RESYNC_RATE_DEFAULT_BYTES_PER_SECOND
            : req.resyncRate();
    if (rate <= 0) {
      throw AdminException.invalid("resyncRate must be positive");
    }
    if (req.peer() == null || req.peer().isBlank()) {
      throw AdminException.invalid("field 'peer' is required (a peer name as in GET /peers)");
    }
    if (req.volumes() == null || req.volumes().isEmpty()) {
      throw AdminException.invalid("field 'volumes' must name at least one volume");
    }
    if (new HashSet<>(req.volumes()).size() != req.volumes().size()) {
      throw AdminException.invalid("field 'volumes' names a volume twice");
    }
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
      ControlLink control = control(peer.siteId());
      SiteInfo mine = site.info();
      SiteInfo theirs = peerInfo(control, mine);
      String clash = mine.clashWith(theirs);
      if (clash != null) {
        throw AdminException.conflict(clash);
      }
      String me = site.siteId().toString();
      String preferred = leader.equals("peer") ? peer.siteId().toString() : me;
      CgRecord r =
          new CgRecord(
              UUID.randomUUID().toString(),
              name,
              CgRecord.ACTIVE_ACTIVE,
              peer.siteId().toString(),
              peer.name(),
              me,
              preferred,
              preferred.equals(me),
              req.autoResync() == null || req.autoResync(),
              req.autoRecover() == null || req.autoRecover(),
              rate,
              specs,
              theirs);
      try {
        ask(control, new ControlWire.Request(ControlWire.CG_CREATE, mine, r, null, null));
      } catch (AdminException e) {
        if (e.kind() == AdminException.Kind.UNAVAILABLE) {
          undoAtPeer(control, mine, r); // the peer may have created it before the answer was lost
        }
        throw e;
      }
      try {
        adopt(r, volumeNames(r));
      } catch (IOException | RuntimeException e) {
        undoAtPeer(control, mine, r);
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

  public List<CgViews.Group> list() {
    lock.lock();
    try {
      return groups.values().stream().map(e -> GroupViews.view(site, e)).toList();
    } finally {
      lock.unlock();
    }
  }

  public CgViews.Group get(String name) {
    lock.lock();
    try {
      return GroupViews.view(site, find(name));
    } finally {
      lock.unlock();
    }
  }

  /** The short form of every group, for the site status. */
  public List<CgViews.Summary> summaries() {
    return list().stream()
        .map(
            g ->
                new CgViews.Summary(
                    g.name(), g.role(), g.syncState(), g.availability(), g.link(), g.resync()))
        .toList();
  }

  /** The peer sites of the groups that hold any of {@code volumes} (for discovery). */
  public List<SiteInfo> peersOf(Set<String> volumes) {
    lock.lock();
    try {
      return groups.values().stream()
          .filter(e -> e.record.peer() != null)
          .filter(e -> e.record.volumes().stream().anyMatch(v -> volumes.contains(v.name())))
          .map(e -> e.record.peer())
          .distinct()
          .toList();
    } finally {
      lock.unlock();
    }
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
      ControlLink control = control(UUID.fromString(e.record.peerSiteId()));
      ask(
          control,
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
        ControlLink control = control(UUID.fromString(e.record.peerSiteId()));
        ask(
            control,
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

  /** Records a new group durably and starts it (lock held). */
  void adopt(CgRecord r, Set<String> initialSync) throws IOException {
    Entry e = new Entry(r);
    groups.put(r.id(), e);
    try {
      save();
    } catch (IOException x) {
      groups.remove(r.id());
      throw x;
    }
    runner.run(e, initialSync);
  }

  /** Replaces a group's record durably and restarts its replicator with it (lock held). */
  void restart(Entry e, CgRecord next, Set<String> initialSync) throws IOException {
    runner.stop(e, false);
    CgRecord old = e.record;
    e.record = next;
    try {
      save();
    } catch (IOException x) {
      e.record = old;
      runner.run(e, Set.of());
      throw x;
    }
    runner.run(e, initialSync);
  }

  /** Stops a group, forgets it durably and removes its replication state (lock held). */
  void drop(Entry e) throws IOException {
    runner.stop(e, true);
    groups.remove(e.record.id());
    save();
    ReplicatedGroup.removeState(e.record, site.store(), runner.groupDir(e.record.id()));
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

  Entry find(String name) {
    return byName(name)
        .orElseThrow(() -> AdminException.notFound("no consistency group '" + name + "'"));
  }

  ReplicatedGroup running(String name) {
    lock.lock();
    try {
      ReplicatedGroup g = find(name).running;
      if (g == null) {
        throw AdminException.unavailable(
            "consistency group '" + name + "' is not running (no link to its peer)");
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

  private ControlLink control(UUID peer) {
    ControlLink c = controls.get(peer);
    if (c == null) {
      throw AdminException.unavailable(
          "no link to the peer site (peering is off or it is not paired)");
    }
    return c;
  }

  /**
   * Sends a control request and waits for the answer; refusals and unreachability become 409/503.
   */
  private byte[] ask(ControlLink control, ControlWire.Request request) {
    try {
      return control.request(wire.encode(request), CONTROL_TIMEOUT_MS).get();
    } catch (ExecutionException x) {
      if (x.getCause() instanceof ControlException c) {
        throw c.unreachable()
            ? AdminException.unavailable("the peer site cannot be reached now: " + c.getMessage())
            : AdminException.conflict("the peer site refused: " + c.getMessage());
      }
      throw new IllegalStateException(x.getCause());
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      throw AdminException.unavailable("interrupted while waiting for the peer site");
    }
  }

  private SiteInfo peerInfo(ControlLink control, SiteInfo mine) {
    byte[] answer =
        ask(control, new ControlWire.Request(ControlWire.SITE_INFO, mine, null, null, null));
    try {
      return wire.siteInfo(answer);
    } catch (ControlException e) {
      throw AdminException.conflict("the peer site answered badly: " + e.getMessage());
    }
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
    controls.values().forEach(ControlLink::close);
    workers.shutdownNow();
    timers.close();
  }
}
