package io.duet.sync;

import io.duet.sync.UnavailableException.Reason;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.Message;
import io.duet.sync.proto.Message.CompareAndWriteMismatch;
import io.duet.sync.proto.Message.CompareAndWriteRequest;
import io.duet.sync.proto.Message.Control;
import io.duet.sync.proto.Message.DigestRequest;
import io.duet.sync.proto.Message.DigestResponse;
import io.duet.sync.proto.Message.DirtyDone;
import io.duet.sync.proto.Message.DirtyRegions;
import io.duet.sync.proto.Message.EpochNotice;
import io.duet.sync.proto.Message.FlushRequest;
import io.duet.sync.proto.Message.Flushed;
import io.duet.sync.proto.Message.ForwardedWrite;
import io.duet.sync.proto.Message.Heartbeat;
import io.duet.sync.proto.Message.Hello;
import io.duet.sync.proto.Message.OrderedWrite;
import io.duet.sync.proto.Message.RequestRefused;
import io.duet.sync.proto.Message.ResyncAck;
import io.duet.sync.proto.Message.ResyncData;
import io.duet.sync.proto.Message.ResyncDone;
import io.duet.sync.proto.Message.SharedApplied;
import io.duet.sync.proto.Message.SharedOrdered;
import io.duet.sync.proto.Message.SharedRequest;
import io.duet.sync.proto.Message.SharedSnapshot;
import io.duet.sync.proto.Message.WriteApplied;
import io.duet.sync.proto.Message.WriteCommitted;
import io.duet.sync.proto.Message.WritesApplied;
import io.duet.sync.proto.Message.WritesCommitted;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Synchronous active/active replication of one consistency group at one site: the session with the
 * peer, the leader's write ordering, the follower's application of it, replicated unit state,
 * resync, verify, switchover and forced failover. This class holds the role state (epoch, leader,
 * the leader's view of its follower) and wires the pieces, each its own class: {@link PeerSession}
 * (handshake, epochs of frames), {@link LeaseKeeper} (heartbeats, the follower's lease), {@link
 * LeaderHandoff} (switchover, forced failover), {@link HostGate} (host I/O in), {@link
 * LeaderPipeline} and {@link FollowerPipeline} (writes), {@link SharedCommands}, {@link
 * ResyncDriver}, {@link Verifier} and {@link FlushCoordinator}.
 *
 * <p>Every piece of state is confined to one event loop (the injected {@link Executor}, which must
 * run tasks one at a time); disk work goes to the injected I/O executor and reports back to the
 * loop — except the two rare, order-critical fdatasyncs of a role change (persisting a new epoch,
 * marking a fenced leader's writes dirty), which must be durable before the loop acts on them. Time
 * comes from {@link SyncTimers}. The deterministic simulator drives it by supplying all three.
 * Hosts reach it through the {@link ReplicatedVolume}s it hands out.
 *
 * <p>Safety rules, in one place: the leader acknowledges a write when both sites applied it, or
 * once the region is durably marked dirty after the follower provably stopped serving (its lease,
 * renewed only by the leader's heartbeats and measured from the follower's own send time, has run
 * out plus a drift margin, or it said so by restarting the session). A site adopts a higher epoch
 * durably before acting on it, and a fenced leader serves again only after a resync.
 */
public final class ConsistencyGroupReplicator implements AutoCloseable {
  /** A leader's view of its follower. */
  enum PeerState {
    /** No session; the leader writes alone and marks what it writes dirty. */
    ABSENT,
    /** The session is lost while the follower may still hold a lease: acks wait for it to end. */
    LOST,
    /** Session up, follower not serving yet (dirty map exchange and resync). */
    SYNCING,
    /** Session up, follower serving under a lease. */
    IN_SYNC
  }

  final UUID groupId;
  final UUID siteId;
  final UUID peerId;
  final List<VolumeReplica> volumes;

  /** Written on the loop only, replaced whole by {@link #updateSettings}. */
  volatile SyncSettings settings;

  final Transport transport;
  final SyncTimers timers;
  final ReplicationListener listener;
  private final Executor loop;
  private final Executor io;
  private final EpochStore epochStore;
  private final RangeSequencer[] sequencers;
  final LeaderPipeline leader;
  final FollowerPipeline follower;
  final ResyncDriver resync;
  final Verifier verifier;
  final FlushCoordinator flushes;
  final SharedCommands shared;
  final PeerSession session;
  final LeaseKeeper lease;
  final FailoverKeeper failover;
  final PowerLossRecovery power;
  final LeaderHandoff handoff;
  final AckBatcher acks;
  private final HostGate gate;

  /** Host write data in flight, shared by the group's volumes. */
  final DataBudget dataBudget = new DataBudget(DataBudget.DEFAULT_BYTES);

  private final List<ReplicatedVolume> replicatedVolumes = new ArrayList<>();

  // ---- loop-confined state ----
  private long epoch;
  private UUID leaderId;
  private boolean closed;

  /** Leader: the peer (or an operator) has confirmed this site's epoch since it started. */
  boolean provenCurrent;

  PeerState peerState = PeerState.ABSENT;

  /** Follower: the leader finished resyncing this site in the current session. */
  boolean followerSynced;

  private long nextRequestId = 1;
  private volatile ReplicationStatus status;

  private ConsistencyGroupReplicator(
      GroupConfig config,
      EpochStore epochStore,
      Transport transport,
      Executor loop,
      Executor io,
      SyncTimers timers,
      ReplicationListener listener,
      SharedStateMachine machine) {
    this.groupId = config.groupId();
    this.siteId = config.siteId();
    this.peerId = config.peerId();
    this.volumes = config.volumes();
    this.settings = config.settings();
    this.transport = transport;
    this.loop = loop;
    this.io = io;
    this.timers = timers;
    this.listener = listener;
    this.epochStore = epochStore;
    this.epoch = epochStore.current().epoch();
    this.leaderId = epochStore.current().leaderId();
    this.sequencers = new RangeSequencer[volumes.size()];
    for (int i = 0; i < sequencers.length; i++) {
      sequencers[i] = new RangeSequencer();
      VolumeReplica v = volumes.get(i);
      replicatedVolumes.add(
          new ReplicatedVolume(this, i, v.local(), v.activity().extentSizeBytes()));
    }
    this.leader = new LeaderPipeline(this);
    this.follower = new FollowerPipeline(this);
    this.resync = new ResyncDriver(this);
    this.verifier = new Verifier(this);
    this.flushes = new FlushCoordinator(this);
    this.shared = new SharedCommands(this, machine);
    this.session = new PeerSession(this);
    this.lease = new LeaseKeeper(this);
    this.failover = new FailoverKeeper(this);
    this.power = new PowerLossRecovery(this, epochStore);
    this.handoff = new LeaderHandoff(this);
    this.acks = new AckBatcher(this);
    this.gate = new HostGate(this);
    this.status = StatusReport.compute(this);
  }

  /**
   * Opens the group at this site: loads (or creates) the persisted epoch, adds the activity logs'
   * extents from an unclean stop to the dirty maps, and starts. The site serves nothing until a
   * session with the peer (or a forced failover) has confirmed its epoch.
   */
  public static ConsistencyGroupReplicator open(
      GroupConfig config,
      Transport transport,
      Executor loop,
      Executor io,
      SyncTimers timers,
      ReplicationListener listener)
      throws IOException {
    return open(
        config, transport, loop, io, timers, listener, SharedStateMachine.NONE, Mediator.NONE);
  }

  /**
   * Opens the group like {@link #open(GroupConfig, Transport, Executor, Executor, SyncTimers,
   * ReplicationListener)}, replicating the volumes' unit state through {@code machine} (see {@link
   * #executeShared}).
   */
  public static ConsistencyGroupReplicator open(
      GroupConfig config,
      Transport transport,
      Executor loop,
      Executor io,
      SyncTimers timers,
      ReplicationListener listener,
      SharedStateMachine machine)
      throws IOException {
    return open(config, transport, loop, io, timers, listener, machine, Mediator.NONE);
  }

  /**
   * Opens the group with automatic failover through {@code mediator} (or {@link Mediator#NONE}):
   * the leader holds a lease at the mediator, records there before it goes on alone, and the
   * follower takes over when the mediator grants it (replication.md section 3).
   */
  public static ConsistencyGroupReplicator open(
      GroupConfig config,
      Transport transport,
      Executor loop,
      Executor io,
      SyncTimers timers,
      ReplicationListener listener,
      SharedStateMachine machine,
      Mediator mediator)
      throws IOException {
    Objects.requireNonNull(mediator, "mediator");
    EpochStore epochs = EpochStore.open(config.stateDirectory(), config.initialLeaderId());
    // Crash recovery: whatever may have been in flight may differ from the peer.
    boolean unclean = PowerLossRecovery.recoverActivityLogs(config.volumes());
    String afterPowerLoss = PowerLossRecovery.recordBoot(epochs, timers.bootId(), unclean);
    // Only now: a crash before the stale flag was durable must find the extents again.
    PowerLossRecovery.releaseActivityLogs(config.volumes());
    ConsistencyGroupReplicator g =
        new ConsistencyGroupReplicator(
            config,
            epochs,
            Objects.requireNonNull(transport, "transport"),
            Objects.requireNonNull(loop, "loop"),
            Objects.requireNonNull(io, "io"),
            Objects.requireNonNull(timers, "timers"),
            Objects.requireNonNull(listener, "listener"),
            Objects.requireNonNull(machine, "machine"));
    if (afterPowerLoss != null) {
      g.post(() -> listener.onWarning(afterPowerLoss));
    }
    g.post(() -> g.failover.configure(mediator));
    g.post(g::start);
    return g;
  }

  /** The replicated volumes, in the group's order; each has its local volume's identity. */
  public List<ReplicatedVolume> volumes() {
    return List.copyOf(replicatedVolumes);
  }

  /** The latest status (updated on the event loop after every event). */
  public ReplicationStatus status() {
    return status;
  }

  /**
   * Planned switchover: hands leadership to the peer without stopping I/O (writes in flight drain,
   * new ones wait briefly, epoch+1). Fails unless this site leads and the group is in sync.
   */
  public CompletableFuture<Void> switchover() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    post(() -> handoff.start(f));
    return afterPublish(f);
  }

  /**
   * Forced failover: makes this site the leader at epoch+1 although the peer is unreachable. Writes
   * the old leader acknowledged after losing contact are lost; the old leader is fenced when it
   * returns and resynchronized from this site. With a mediator, this site records the failover
   * there first and serves only once the old leader's lease has ended; the future completes then,
   * with a sentence saying what it waited for.
   */
  public CompletableFuture<String> forceFailover(String reason) {
    CompletableFuture<String> f = new CompletableFuture<>();
    post(() -> handoff.forcePromote(reason, f));
    return afterPublish(f);
  }

  /**
   * Compares every region's digest across the sites (at the leader of an in-sync group) and reports
   * the regions that differ; with {@code repair}, marks them dirty and resyncs them from the leader
   * (the follower is briefly unavailable while it catches up).
   */
  public CompletableFuture<VerifyReport> verify(boolean repair) {
    CompletableFuture<VerifyReport> f = new CompletableFuture<>();
    post(() -> verifier.start(repair, f));
    return afterPublish(f);
  }

  /**
   * Applies a unit-state command (a persistent reservation change, a LUN reset, as the SCSI layer
   * encodes it) to {@code volume} at both sites, in the one order the leader gives all such
   * commands, and completes with the leader's result. It completes once both sites have applied it,
   * or, when the leader serves alone, under the rule that acknowledges a write alone (the follower
   * installs the leader's state before it serves again). Fails with {@link UnavailableException}
   * where a write would; then the command may or may not have taken effect. The future completes on
   * the event loop: dependent stages must not block.
   */
  public CompletableFuture<byte[]> executeShared(int volume, byte[] command) {
    Objects.requireNonNull(command, "command");
    if (volume < 0 || volume >= volumes.size()) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("no volume " + volume + " in this group"));
    }
    if (command.length > FrameCodec.MAX_DATA_BYTES) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("unit-state command of " + command.length + " bytes"));
    }
    SharedCommands.Call call =
        new SharedCommands.Call(volume, command.clone(), new CompletableFuture<>());
    submitShared(call);
    return call.done();
  }

  /**
   * Changes the resync rate, window, auto-resync and auto-recover of the running group without
   * restarting the session: a new rate applies from the next region copied, and turning on
   * auto-resync (auto-recover) starts the resync (lets the resynced follower serve) that was
   * waiting for the operator. Takes effect on the event loop, shortly after this returns.
   *
   * @throws IllegalArgumentException the heartbeat, lease, lease margin or peer timeout differ from
   *     the running ones: both sites derive the lease from them, so they change only on reopen
   */
  public void updateSettings(SyncSettings next) {
    Objects.requireNonNull(next, "settings");
    if (!next.sameTiming(settings)) { // off the loop, but the timing fields never change
      throw new IllegalArgumentException(
          "heartbeat, lease and peer timeout cannot change while the group runs");
    }
    post(
        () -> {
          SyncSettings before = settings;
          settings = next;
          resync.settingsChanged(before);
        });
  }

  /**
   * Uses {@code next} (or {@link Mediator#NONE}) from now on, without restarting the session. A
   * follower that lost its leader before the change does not take over through the new mediator; a
   * leader alone records itself as the survivor there first.
   */
  public void setMediator(Mediator next) {
    Objects.requireNonNull(next, "mediator");
    post(() -> failover.configure(next));
  }

  /** Starts a resync now (needed only when {@code autoResync} is off). */
  public void resyncNow() {
    post(resync::requestStart);
  }

  /** Lets the resynced follower serve again (needed only when {@code autoRecover} is off). */
  public void recoverNow() {
    post(resync::recover);
  }

  /** Stops replicating: pending operations fail, the session ends. Volumes stay open. */
  @Override
  public void close() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    post(
        () -> {
          if (!closed) {
            session.end("closed");
            closed = true;
            leader.abortAll(unavailability());
            shared.abortAll(unavailability());
            lease.cancelAloneTimer();
          }
          done.complete(null);
        });
    done.join();
  }

  // ---------------------------------------------------------------- loop plumbing

  /**
   * A future that completes like {@code inner}, but only after the status reflecting the change has
   * been published, so a caller that reads {@link #status()} next sees it.
   */
  private <T> CompletableFuture<T> afterPublish(CompletableFuture<T> inner) {
    CompletableFuture<T> outer = new CompletableFuture<>();
    inner.whenComplete(
        (v, e) ->
            post(
                () -> {
                  if (e != null) {
                    outer.completeExceptionally(e);
                  } else {
                    outer.complete(v);
                  }
                }));
    return outer;
  }

  /** Runs {@code task} on the event loop and publishes the status afterwards. */
  void post(Runnable task) {
    try {
      loop.execute(
          () -> {
            try {
              task.run();
            } finally {
              publish();
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // The group was closed and its loop shut down: disk work or a timer that finished after it
      // has nobody left to tell (the close made everything durable itself).
    }
  }

  /** A unit of disk work whose result is handed back to the loop. */
  interface IoTask {
    void run() throws IOException;
  }

  /**
   * Runs {@code work} on the I/O executor, then {@code then} on the loop with its error or null.
   */
  void runIo(IoTask work, java.util.function.Consumer<IOException> then) {
    io.execute(
        () -> {
          IOException error = null;
          try {
            work.run();
          } catch (IOException e) {
            error = e;
          } catch (RuntimeException e) {
            error = new IOException("local I/O failed: " + e, e);
          }
          IOException result = error;
          post(() -> then.accept(result));
        });
  }

  RangeSequencer sequencer(int volume) {
    return sequencers[volume];
  }

  long now() {
    return timers.nanoTime();
  }

  long epoch() {
    return epoch;
  }

  int sessionNo() {
    return session.number();
  }

  UUID leaderId() {
    return leaderId;
  }

  boolean isClosed() {
    return closed;
  }

  boolean isLeader() {
    return leaderId.equals(siteId);
  }

  boolean sessionUp() {
    return session.up();
  }

  long newRequestId() {
    return nextRequestId++;
  }

  boolean handoffDraining() {
    return handoff.draining();
  }

  /** Holds a request until the handoff in progress has finished. */
  void holdDuringHandoff(Runnable task) {
    handoff.hold(task);
  }

  /** Sends one message in the current epoch; a refused send ends the session. */
  boolean send(Message m) {
    return session.send(m);
  }

  /** Ends the current session and, the link being up, offers a new one to the peer. */
  void restartSession(String reason) {
    session.restart(reason);
  }

  /** Called whenever a leader operation finishes: completes a handoff once nothing is in flight. */
  void checkHandoff() {
    handoff.check();
  }

  /** Why a site does not serve: the typed reason and the words for the operator. */
  private record NotServing(Reason reason, String detail) {}

  private static final NotServing CLOSED = new NotServing(Reason.CLOSED, "replicator closed");
  private static final NotServing NOT_CONFIRMED =
      new NotServing(Reason.NOT_CONFIRMED, "epoch not confirmed by the peer yet");
  private static final NotServing NO_SESSION =
      new NotServing(Reason.PEER_LOST, "no session with the leader");
  private static final NotServing RESYNCING =
      new NotServing(Reason.OUT_OF_SYNC, "resynchronizing from the leader");
  private static final NotServing NO_MEDIATOR_LEASE =
      new NotServing(
          Reason.NO_LEASE, "no lease from the mediator and no promise from the follower");
  private static final NotServing LEASE_EXPIRED =
      new NotServing(Reason.PEER_LOST, "lease from the leader expired");

  /** Why this site does not serve host I/O now, or null when it does (allocates nothing). */
  private NotServing notServing() {
    if (closed) {
      return CLOSED;
    }
    if (isLeader()) {
      if (!provenCurrent) {
        return NOT_CONFIRMED;
      }
      return failover.leaderMayServe() ? null : NO_MEDIATOR_LEASE;
    }
    if (!session.up()) {
      return NO_SESSION;
    }
    if (!followerSynced) {
      return RESYNCING;
    }
    return lease.holdsLease() ? null : LEASE_EXPIRED;
  }

  boolean serving() {
    return notServing() == null;
  }

  /** Whether this site serves host I/O now (null), or the error that says why not. */
  UnavailableException unavailability() {
    NotServing why = notServing();
    return why == null ? null : new UnavailableException(why.reason(), why.detail());
  }

  // ---------------------------------------------------------------- host entry points

  /** Admits a read of {@code [offset, offset+length)} once no write in flight overlaps it. */
  CompletableFuture<RangeSequencer.Entry> admitRead(int volume, long offset, long length) {
    return gate.admitRead(volume, offset, length);
  }

  void releaseSlot(int volume, RangeSequencer.Entry entry) {
    post(() -> sequencers[volume].release(entry));
  }

  /** Starts a host write, compare-and-write or flush. */
  void submit(HostRequest r) {
    post(() -> gate.dispatchHost(r));
  }

  /** Starts a host's unit-state command. */
  void submitShared(SharedCommands.Call c) {
    post(() -> gate.dispatchShared(c));
  }

  // ---------------------------------------------------------------- session and roles

  private void start() {
    session.attach();
    lease.scheduleTick();
    if (transport.isUp()) {
      session.linkUp();
    }
  }

  /** The session that was up has ended: every piece drops what depended on it. */
  void sessionEnded(String reason) {
    failover.sessionLost(); // reads followerSynced before it is reset below
    resync.stop();
    verifier.sessionLost();
    follower.sessionLost();
    shared.sessionLost();
    acks.sessionLost();
    followerSynced = false;
    lease.revoke();
    if (isLeader()) {
      lease.peerLost(false);
    }
    flushes.settle(isLeader() && peerState == PeerState.ABSENT);
    handoff.sessionLost(reason);
    if (!isLeader()) {
      power.quiesce();
    }
  }

  /** A session is up: the leader collects the follower's dirty map, the follower sends it. */
  void sessionEstablished() {
    failover.sessionStarted();
    if (power.handBackIfStale()) {
      return;
    }
    if (isLeader()) {
      provenCurrent = true;
      peerState = PeerState.SYNCING;
      resync.expectPeerDirty();
    } else {
      followerSynced = false;
      follower.whenSettled(resync::sendOwnDirtyMap);
    }
  }

  /** The follower provably stopped serving: mark what it may lack, then acknowledge alone. */
  void goAlone() {
    power.recordAlone();
    lease.cancelAloneTimer();
    peerState = PeerState.ABSENT;
    leader.coverUnacked();
    shared.peerGone();
    flushes.settle(true);
  }

  /** A message of the current session, in the current epoch. */
  void dispatch(Message m) {
    switch (m) {
      case Heartbeat h -> lease.onHeartbeat(h);
      case DirtyRegions d -> resync.onPeerDirty(d);
      case DirtyDone d -> resync.onPeerDirtyDone();
      case OrderedWrite w -> follower.onOrderedWrite(w);
      case ForwardedWrite w -> leader.onForwardedWrite(w);
      case WriteApplied a -> leader.onWriteApplied(a.seq());
      case WriteCommitted c -> follower.onCommitted(c.seq());
      case WritesApplied a -> {
        for (long seq : a.seqs()) {
          leader.onWriteApplied(seq);
        }
      }
      case WritesCommitted c -> {
        for (long seq : c.seqs()) {
          follower.onCommitted(seq);
        }
      }
      case RequestRefused r -> {
        if (!verifier.onRefused(r) && !shared.onRefused(r)) {
          follower.onRefused(r);
        }
      }
      case SharedRequest r -> shared.onRequest(r);
      case SharedOrdered o -> shared.onOrdered(o);
      case SharedApplied a -> shared.onApplied(a);
      case SharedSnapshot n -> shared.onSnapshot(n);
      case FlushRequest f -> flushes.onRequest(f);
      case Flushed f -> flushes.onFlushed(f);
      case CompareAndWriteRequest c -> leader.onCompareAndWriteRequest(c);
      case CompareAndWriteMismatch c -> follower.onCompareAndWriteMismatch(c);
      case ResyncData r -> follower.onResyncData(r);
      case ResyncAck r -> resync.onAck(r);
      case ResyncDone r -> follower.onResyncDone();
      case DigestRequest d -> follower.onDigestRequest(d);
      case DigestResponse d -> verifier.onResponse(d);
      case EpochNotice n -> {} // same epoch: nothing to learn
      case Control c -> {} // node-level traffic travels outside groups; a stray one means nothing
      case Hello h -> throw new AssertionError("handled before dispatch");
      case Message.Handoff h -> throw new AssertionError("handled before dispatch");
    }
  }

  /** Persists {@code newEpoch} (durable before anything acts on it) and takes its leader. */
  void adoptEpoch(long newEpoch, UUID newLeader) {
    boolean wasLeader = isLeader();
    persistEpoch(newEpoch, newLeader);
    if (wasLeader && !isLeader()) {
      // Fenced: the peer was promoted. Every region we touched that it may lack is already in
      // our dirty map (alone writes) or is marked now, so the resync from the new leader fixes it.
      listener.onWarning("fenced: the peer leads at epoch " + newEpoch + "; resynchronizing");
      provenCurrent = false;
      peerState = PeerState.ABSENT;
      lease.cancelAloneTimer();
      failover.fenced();
      leader.abortAll(new UnavailableException(Reason.FENCED, "fenced at epoch " + newEpoch));
      shared.abortAll(new UnavailableException(Reason.FENCED, "fenced at epoch " + newEpoch));
      flushes.settle(false); // flushes waiting for the follower's lease to end: fail them too
    }
  }

  /** Stops acting on anything: a role change could not be made durable. */
  void stop(String why) {
    closed = true;
    listener.onWarning(why);
  }

  void persistEpoch(long newEpoch, UUID newLeader) {
    try {
      epochStore.persist(epochStore.current().next(newEpoch, newLeader));
    } catch (IOException e) {
      // Without a durable epoch this site must not act on the new one: stop serving entirely.
      stop("cannot persist epoch " + newEpoch + ", replicator stopped: " + e);
      throw new IllegalStateException("epoch not persisted", e);
    }
    epoch = newEpoch;
    leaderId = newLeader;
  }

  /** Leader: the follower is resynced; grant it leases from now on. */
  void followerRecovered() {
    // The unit state travels last: commands applied from here on are sent to the follower.
    if (!shared.sendSnapshots()) {
      restartSession("unit state cannot be replicated");
      return;
    }
    peerState = PeerState.IN_SYNC;
    send(new ResyncDone());
    power.recordInSync();
  }

  // ---------------------------------------------------------------- status

  /** A readable dump of the loop's state, for diagnosing a stuck test or a support bundle. */
  public CompletableFuture<String> describe() {
    CompletableFuture<String> f = new CompletableFuture<>();
    post(() -> f.complete(StatusReport.describe(this, sequencers)));
    return f;
  }

  private void publish() {
    ReplicationStatus next = StatusReport.compute(this);
    if (!next.equals(status)) {
      status = next;
      listener.onStatus(next);
    }
  }

  static long ms(long millis) {
    return millis * 1_000_000L;
  }
}
