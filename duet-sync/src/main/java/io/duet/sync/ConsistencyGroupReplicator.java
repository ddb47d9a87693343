package io.duet.sync;

import io.duet.sync.ReplicationStatus.Availability;
import io.duet.sync.ReplicationStatus.LinkState;
import io.duet.sync.ReplicationStatus.Role;
import io.duet.sync.ReplicationStatus.SyncState;
import io.duet.sync.UnavailableException.Reason;
import io.duet.sync.dirty.ActivityLog;
import io.duet.sync.proto.Frame;
import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.FrameException;
import io.duet.sync.proto.Message;
import io.duet.sync.proto.Message.*;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Synchronous active/active replication of one consistency group at one site: the session with the
 * peer (hello, epochs, heartbeats, the follower's lease), the leader's write ordering, the
 * follower's application of it, resync, switchover and forced failover.
 *
 * <p>Every piece of state is confined to one event loop (the injected {@link Executor}, which must
 * run tasks one at a time); disk work goes to the injected I/O executor and reports back to the
 * loop; time comes from {@link SyncTimers}. The deterministic simulator drives it by supplying all
 * three. Hosts reach it through the {@link ReplicatedVolume}s it hands out.
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

  private enum Session {
    DOWN,
    HANDSHAKING,
    UP
  }

  final UUID groupId;
  final UUID siteId;
  final UUID peerId;
  final List<VolumeReplica> volumes;
  final SyncSettings settings;
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
  private final FlushCoordinator flushes;
  final SharedCommands shared;
  private final List<ReplicatedVolume> replicatedVolumes = new ArrayList<>();

  // ---- loop-confined state ----
  private long epoch;
  private UUID leaderId;
  private Session session = Session.DOWN;
  private int sessionNo;
  private boolean closed;
  /** Leader: the peer (or an operator) has confirmed this site's epoch since it started. */
  private boolean provenCurrent;
  PeerState peerState = PeerState.ABSENT;
  /** Follower: the leader finished resyncing this site in the current session. */
  private boolean followerSynced;
  private long leaseUntilNanos;
  /** Follower: a lease was granted since the last resync (so its expiry means something). */
  private boolean leaseGranted;
  private long lastHeardNanos;
  private long lastPeerSenderNanos;
  private long sessionStartNanos;
  private long lastPeerReceiptNanos;
  /** Leader: receipt time of the newest follower heartbeat echoed as a lease grant. */
  private long grantBaseNanos;
  private SyncTimers.Cancellable aloneTimer;
  private long handoffEpoch = -1;
  private CompletableFuture<Void> handoff;
  final List<Runnable> heldDuringHandoff = new ArrayList<>();
  private long nextRequestId = 1;
  private volatile ReplicationStatus status;
  private long droppedOutsideSession;
  private long droppedStale;

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
    this.status = computeStatus();
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
    return open(config, transport, loop, io, timers, listener, SharedStateMachine.NONE);
  }

  /**
   * Opens the group like {@link #open(GroupConfig, Transport, Executor, Executor, SyncTimers,
   * ReplicationListener)}, replicating the volumes' unit state through {@code machine} (see
   * {@link #executeShared}).
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
    EpochStore epochs = EpochStore.open(config.stateDirectory(), config.initialLeaderId());
    for (VolumeReplica v : config.volumes()) {
      // Crash recovery: whatever may have been in flight may differ from the peer.
      for (ActivityLog.Range r : v.activity().activeAtOpen()) {
        v.dirty().markDirty(r.offset(), r.length());
      }
      v.activity().releaseActiveAtOpen();
    }
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
   * Planned switchover: hands leadership to the peer without stopping I/O (writes in flight
   * drain, new ones wait briefly, epoch+1). Fails unless this site leads and the group is in sync.
   */
  public CompletableFuture<Void> switchover() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    post(() -> startHandoff(f));
    return afterPublish(f);
  }

  /**
   * Forced failover: makes this site the leader at epoch+1 although the peer is unreachable.
   * Writes the old leader acknowledged after losing contact are lost; the old leader is fenced
   * when it returns and resynchronized from this site.
   */
  public CompletableFuture<Void> forceFailover(String reason) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    post(() -> forcePromote(reason, f));
    return afterPublish(f);
  }

  /**
   * Compares every region's digest across the sites (at the leader of an in-sync group) and
   * reports the regions that differ; with {@code repair}, marks them dirty and resyncs them from
   * the leader (the follower is briefly unavailable while it catches up).
   */
  public CompletableFuture<VerifyReport> verify(boolean repair) {
    CompletableFuture<VerifyReport> f = new CompletableFuture<>();
    post(() -> verifier.start(repair, f));
    return afterPublish(f);
  }

  /**
   * Applies a unit-state command (a persistent reservation change, a LUN reset, as the SCSI layer
   * encodes it) to {@code volume} at both sites, in the one order the leader gives all such
   * commands, and completes with the leader's result. It completes once both sites have applied
   * it, or, when the leader serves alone, under the rule that acknowledges a write alone (the
   * follower installs the leader's state before it serves again). Fails with {@link
   * UnavailableException} where a write would; then the command may or may not have taken effect.
   * The future completes on the event loop: dependent stages must not block.
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
            endSession("closed");
            closed = true;
            leader.abortAll(new UnavailableException(Reason.CLOSED, "replicator closed"));
            shared.abortAll(new UnavailableException(Reason.CLOSED, "replicator closed"));
            cancelAloneTimer();
          }
          done.complete(null);
        });
    done.join();
  }

  // ---------------------------------------------------------------- loop plumbing

  /**
   * A future that completes like {@code inner}, but only after the status reflecting the change
   * has been published, so a caller that reads {@link #status()} next sees it.
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
    loop.execute(
        () -> {
          try {
            task.run();
          } finally {
            publish();
          }
        });
  }

  /** A unit of disk work whose result is handed back to the loop. */
  interface IoTask {
    void run() throws IOException;
  }

  /** Runs {@code work} on the I/O executor, then {@code then} on the loop with its error or null. */
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
    return sessionNo;
  }

  boolean isLeader() {
    return leaderId.equals(siteId);
  }

  boolean sessionUp() {
    return session == Session.UP;
  }

  long newRequestId() {
    return nextRequestId++;
  }

  boolean handoffDraining() {
    return handoff != null;
  }

  /** Sends one message in the current epoch; a refused send ends the session. */
  boolean send(Message m) {
    if (session == Session.DOWN) {
      return false;
    }
    boolean sent = transport.send(FrameCodec.encode(new Frame(groupId, epoch, m)));
    if (!sent && session == Session.UP) {
      // The link is down or its bounded queue is full: the peer cannot follow this stream any
      // more, so this session ends and a new one (with a resync of what differs) begins. Later,
      // not here: callers are mid-update and must not see the session change under them.
      int at = sessionNo;
      post(
          () -> {
            if (sessionNo == at && session == Session.UP) {
              restartSession("send failed");
            }
          });
    }
    return sent;
  }

  /** Whether this site serves host I/O now, or why not. */
  UnavailableException unavailability() {
    if (closed) {
      return new UnavailableException(Reason.CLOSED, "replicator closed");
    }
    if (isLeader()) {
      return provenCurrent
          ? null
          : new UnavailableException(Reason.NOT_CONFIRMED, "epoch not confirmed by the peer yet");
    }
    if (session != Session.UP) {
      return new UnavailableException(Reason.PEER_LOST, "no session with the leader");
    }
    if (!followerSynced) {
      return new UnavailableException(Reason.OUT_OF_SYNC, "resynchronizing from the leader");
    }
    if (!leaseGranted || now() - leaseUntilNanos >= 0) {
      return new UnavailableException(Reason.PEER_LOST, "lease from the leader expired");
    }
    return null;
  }

  // ---------------------------------------------------------------- host entry points

  /** Admits a read of {@code [offset, offset+length)} once no write in flight overlaps it. */
  CompletableFuture<RangeSequencer.Entry> admitRead(int volume, long offset, long length) {
    CompletableFuture<RangeSequencer.Entry> f = new CompletableFuture<>();
    post(
        () -> {
          UnavailableException u = unavailability();
          if (u != null) {
            f.completeExceptionally(u);
            return;
          }
          RangeSequencer seq = sequencers[volume];
          RangeSequencer.Entry[] slot = new RangeSequencer.Entry[1];
          // When admitted at once, enqueue runs the callback before slot[0] is set; handled below.
          slot[0] =
              seq.enqueue(offset, length, true, () -> readAdmitted(f, seq, slot[0]));
          if (slot[0].admitted()) {
            readAdmitted(f, seq, slot[0]);
          }
        });
    return f;
  }

  private void readAdmitted(
      CompletableFuture<RangeSequencer.Entry> f, RangeSequencer seq, RangeSequencer.Entry slot) {
    if (slot == null || f.isDone()) {
      return;
    }
    // Admitted, possibly later: the site may have stopped serving meanwhile.
    UnavailableException late = unavailability();
    if (late != null) {
      seq.release(slot);
      f.completeExceptionally(late);
    } else {
      f.complete(slot);
    }
  }

  void releaseSlot(int volume, RangeSequencer.Entry entry) {
    post(() -> sequencers[volume].release(entry));
  }

  /** Starts a host write, compare-and-write or flush. */
  void submit(HostRequest r) {
    post(() -> dispatchHost(r));
  }

  void submitShared(SharedCommands.Call c) {
    post(() -> dispatchShared(c));
  }

  private void dispatchShared(SharedCommands.Call c) {
    UnavailableException u = unavailability();
    if (u != null) {
      c.done().completeExceptionally(u);
    } else if (handoff != null) {
      heldDuringHandoff.add(() -> dispatchShared(c));
    } else {
      shared.submit(c);
    }
  }

  private void dispatchHost(HostRequest r) {
    UnavailableException u = unavailability();
    if (u != null) {
      r.done.completeExceptionally(u);
      return;
    }
    if (r.type == HostRequest.Type.FLUSH) {
      flushes.start(r);
    } else if (handoff != null) {
      heldDuringHandoff.add(() -> dispatchHost(r));
    } else if (isLeader()) {
      leader.submitHost(r);
    } else {
      follower.forward(r);
    }
  }

  // ---------------------------------------------------------------- session

  private void start() {
    transport.setReceiver(
        new Transport.Receiver() {
          @Override
          public void onFrame(byte[] frame) {
            post(() -> receive(frame));
          }

          @Override
          public void onLinkUp() {
            post(() -> linkUp());
          }

          @Override
          public void onLinkDown() {
            post(() -> linkDown());
          }
        });
    scheduleTick();
    if (transport.isUp()) {
      linkUp();
    }
  }

  private void linkUp() {
    if (!closed && session == Session.DOWN) {
      startSession();
    }
  }

  private void linkDown() {
    endSession("link down");
  }

  private void startSession() {
    session = Session.HANDSHAKING;
    sessionNo++;
    send(new Hello(siteId, leaderId, volumes.size(), sessionNo, 0));
  }

  /** Ends the current session and, the link being up, offers a new one to the peer. */
  void restartSession(String reason) {
    if (session == Session.UP) {
      listener.onWarning("session with the peer restarted: " + reason);
    }
    endSession(reason);
    if (!closed && transport.isUp()) {
      startSession();
    }
  }

  private void endSession(String reason) {
    Session was = session;
    session = Session.DOWN;
    sessionNo++;
    if (was != Session.UP) {
      return;
    }
    resync.stop();
    verifier.sessionLost();
    follower.sessionLost();
    shared.sessionLost();
    followerSynced = false;
    leaseGranted = false;
    if (isLeader()) {
      peerLost(false);
    }
    flushes.settle(isLeader() && peerState == PeerState.ABSENT);
    if (handoff != null) {
      finishHandoffFailed("session lost during switchover: " + reason);
    }
  }

  /**
   * The leader lost its follower. If the follower may hold a lease, acknowledgements wait until
   * it has provably ended ({@code grantBase + lease + margin}); otherwise the leader goes alone now.
   * {@code peerStopped}: the follower told us (by restarting the session) that it stopped serving.
   */
  private void peerLost(boolean peerStopped) {
    if (peerState == PeerState.IN_SYNC && !peerStopped) {
      peerState = PeerState.LOST;
      long deadline = grantBaseNanos + ms(settings.leaseMs() + settings.leaseMarginMs());
      long delay = deadline - now();
      if (delay <= 0) {
        goAlone();
      } else {
        cancelAloneTimer();
        aloneTimer = timers.schedule(delay, () -> post(this::aloneTimerFired));
      }
    } else if (peerState != PeerState.ABSENT && (peerState != PeerState.LOST || peerStopped)) {
      goAlone();
    }
  }

  private void aloneTimerFired() {
    aloneTimer = null;
    if (peerState == PeerState.LOST) {
      goAlone();
    }
  }

  private void goAlone() {
    cancelAloneTimer();
    peerState = PeerState.ABSENT;
    leader.coverUnacked();
    shared.peerGone();
    flushes.settle(true);
  }

  private void cancelAloneTimer() {
    if (aloneTimer != null) {
      aloneTimer.cancel();
      aloneTimer = null;
    }
  }

  private void receive(byte[] bytes) {
    if (closed) {
      return;
    }
    Frame frame;
    try {
      frame = FrameCodec.decode(bytes);
    } catch (FrameException e) {
      listener.onWarning("protocol error from peer, restarting the session: " + e.getMessage());
      restartSession("protocol error");
      return;
    }
    if (!frame.groupId().equals(groupId)) {
      listener.onWarning("frame for another consistency group " + frame.groupId() + " ignored");
      return;
    }
    if (frame.message() instanceof Hello h) {
      onHello(frame.epoch(), h);
      return;
    }
    if (session != Session.UP) {
      droppedOutsideSession++;
      return; // the tail of a session that has ended on this side
    }
    if (frame.message() instanceof Handoff h) {
      onHandoff(frame.epoch(), h);
      return;
    }
    if (frame.epoch() > epoch) {
      adoptEpoch(frame.epoch(), frame.message() instanceof EpochNotice n ? n.leaderId() : peerId);
      restartSession("peer is at a higher epoch");
      return;
    }
    if (frame.epoch() < epoch && !(frame.epoch() == epoch - 1 && handoffEpoch == epoch)) {
      send(new EpochNotice(leaderId, "epoch " + frame.epoch() + " is stale, current " + epoch));
      droppedStale++;
      return;
    }
    lastHeardNanos = now();
    dispatch(frame.message());
  }

  private void dispatch(Message m) {
    switch (m) {
      case Heartbeat h -> onHeartbeat(h);
      case DirtyRegions d -> resync.onPeerDirty(d);
      case DirtyDone d -> resync.onPeerDirtyDone();
      case OrderedWrite w -> follower.onOrderedWrite(w);
      case ForwardedWrite w -> leader.onForwardedWrite(w);
      case WriteApplied a -> leader.onWriteApplied(a.seq());
      case WriteCommitted c -> follower.onCommitted(c.seq());
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
      case ResyncDone r -> onResyncDone();
      case DigestRequest d -> follower.onDigestRequest(d);
      case DigestResponse d -> verifier.onResponse(d);
      case EpochNotice n -> {} // same epoch: nothing to learn
      case Control c -> {} // node-level traffic travels outside groups; a stray one means nothing
      case Hello h -> throw new AssertionError("handled before dispatch");
      case Handoff h -> throw new AssertionError("handled before dispatch");
    }
  }

  /**
   * Session handshake. A hello with {@code echo == 0} opens a session: the receiver drops its own
   * (the peer stopped serving before it sent the hello), answers with a hello echoing the
   * opener's session number, and is up. A hello that echoes this site's pending opening completes
   * the handshake; one echoing an abandoned opening is stale and ignored. Both sides therefore
   * start exactly one session per exchange, even when both open at once.
   */
  private void onHello(long peerEpoch, Hello h) {
    if (!h.siteId().equals(peerId) || h.volumeCount() != volumes.size()) {
      listener.onWarning(
          "peer hello does not match this group (site "
              + h.siteId()
              + ", "
              + h.volumeCount()
              + " volumes); session refused");
      endSession("mismatched peer");
      return;
    }
    if (h.echo() == 0) {
      if (session == Session.UP) {
        listener.onWarning("the peer restarted the session");
      }
      endSession("peer opened a new session");
      session = Session.HANDSHAKING;
      sessionNo++;
      if (!reconcileEpoch(peerEpoch, h)) {
        return;
      }
      send(new Hello(siteId, leaderId, volumes.size(), sessionNo, h.session()));
      established();
    } else if (session == Session.HANDSHAKING && h.echo() == sessionNo) {
      if (reconcileEpoch(peerEpoch, h)) {
        established();
      }
    }
  }

  private boolean reconcileEpoch(long peerEpoch, Hello h) {
    if (peerEpoch > epoch) {
      adoptEpoch(peerEpoch, h.leaderId());
    } else if (peerEpoch == epoch && !h.leaderId().equals(leaderId)) {
      listener.onWarning("peer names another leader at the same epoch " + epoch + "; refused");
      endSession("leader conflict");
      return false;
    }
    return true;
  }

  private void established() {
    if (isLeader() && peerState == PeerState.LOST) {
      peerLost(true); // the follower answered or opened a session: it no longer serves
    }
    session = Session.UP;
    lastHeardNanos = now();
    sessionStartNanos = lastHeardNanos;
    // Only this session's heartbeats may be echoed as lease grants.
    lastPeerSenderNanos = 0;
    handoffEpoch = -1;
    if (isLeader()) {
      provenCurrent = true;
      peerState = PeerState.SYNCING;
      resync.expectPeerDirty();
    } else {
      followerSynced = false;
      resync.sendOwnDirtyMap();
    }
  }

  /** Persists {@code newEpoch} (durable before anything acts on it) and takes its leader. */
  private void adoptEpoch(long newEpoch, UUID newLeader) {
    boolean wasLeader = isLeader();
    persistEpoch(newEpoch, newLeader);
    if (wasLeader && !isLeader()) {
      // Fenced: the peer was promoted. Every region we touched that it may lack is already in
      // our dirty map (alone writes) or is marked now, so the resync from the new leader fixes it.
      listener.onWarning("fenced: the peer leads at epoch " + newEpoch + "; resynchronizing");
      provenCurrent = false;
      peerState = PeerState.ABSENT;
      cancelAloneTimer();
      leader.abortAll(new UnavailableException(Reason.FENCED, "fenced at epoch " + newEpoch));
      shared.abortAll(new UnavailableException(Reason.FENCED, "fenced at epoch " + newEpoch));
    }
  }

  private void persistEpoch(long newEpoch, UUID newLeader) {
    try {
      epochStore.persist(new EpochStore.State(newEpoch, newLeader));
    } catch (IOException e) {
      // Without a durable epoch this site must not act on the new one: stop serving entirely.
      closed = true;
      listener.onWarning("cannot persist epoch " + newEpoch + ", replicator stopped: " + e);
      throw new IllegalStateException("epoch not persisted", e);
    }
    epoch = newEpoch;
    leaderId = newLeader;
  }

  private void onHeartbeat(Heartbeat h) {
    lastPeerSenderNanos = h.senderNanos();
    lastPeerReceiptNanos = now();
    // An echo of a heartbeat sent before this session began grants nothing.
    if (!isLeader() && followerSynced && h.echoNanos() != 0
        && h.echoNanos() - sessionStartNanos >= 0) {
      long until = h.echoNanos() + ms(settings.leaseMs());
      if (!leaseGranted || until - leaseUntilNanos > 0) {
        leaseUntilNanos = until;
        leaseGranted = true;
      }
    }
  }

  private void onResyncDone() {
    if (isLeader()) {
      return;
    }
    int at = sessionNo;
    runIo(
        () -> {
          for (VolumeReplica v : volumes) {
            v.local().flush();
            v.dirty().sync();
          }
        },
        err -> {
          if (sessionNo != at) {
            return;
          }
          if (err != null) {
            restartSession("cannot make the resync durable: " + err.getMessage());
            return;
          }
          followerSynced = true;
          leaseGranted = false;
        });
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
  }

  private void scheduleTick() {
    timers.schedule(ms(settings.heartbeatIntervalMs()), () -> post(this::tick));
  }

  private void tick() {
    if (closed) {
      return;
    }
    scheduleTick();
    long now = now();
    if (session != Session.UP) {
      return;
    }
    if (now - lastHeardNanos > ms(settings.peerTimeoutMs())) {
      restartSession("peer silent for " + settings.peerTimeoutMs() + " ms");
      return;
    }
    if (!isLeader() && followerSynced && leaseGranted && now - leaseUntilNanos >= 0) {
      listener.onWarning("lease from the leader expired; this site stops serving");
      restartSession("lease expired");
      return;
    }
    long echo = 0;
    if (isLeader() && peerState == PeerState.IN_SYNC && lastPeerSenderNanos != 0) {
      echo = lastPeerSenderNanos;
      grantBaseNanos = Math.max(grantBaseNanos, lastPeerReceiptNanos);
    }
    send(new Heartbeat(now, echo));
  }

  // ---------------------------------------------------------------- switchover and failover

  private void startHandoff(CompletableFuture<Void> f) {
    if (!isLeader() || session != Session.UP || peerState != PeerState.IN_SYNC || handoff != null) {
      f.completeExceptionally(
          new IllegalStateException("switchover refused: this site must lead an in-sync group"));
      return;
    }
    handoff = f;
    checkHandoff();
  }

  /** Called whenever a leader write finishes: completes the handoff once nothing is in flight. */
  void checkHandoff() {
    if (handoff == null || leader.inFlight() > 0 || shared.inFlight() > 0) {
      return;
    }
    CompletableFuture<Void> f = handoff;
    persistEpoch(epoch + 1, peerId);
    handoffEpoch = epoch;
    send(new Handoff(peerId));
    // Our own lease as the new follower, counted from before the peer can receive the handoff.
    leaseUntilNanos = now() + ms(settings.leaseMs());
    leaseGranted = true;
    followerSynced = true;
    provenCurrent = false;
    peerState = PeerState.ABSENT;
    handoff = null;
    releaseHeld();
    f.complete(null);
  }

  private void finishHandoffFailed(String why) {
    CompletableFuture<Void> f = handoff;
    handoff = null;
    releaseHeld();
    f.completeExceptionally(new IllegalStateException(why));
  }

  private void releaseHeld() {
    List<Runnable> held = new ArrayList<>(heldDuringHandoff);
    heldDuringHandoff.clear();
    held.forEach(Runnable::run);
  }

  private void onHandoff(long newEpoch, Handoff h) {
    if (newEpoch != epoch + 1 || !h.newLeader().equals(siteId) || isLeader()) {
      listener.onWarning("unexpected handoff to " + h.newLeader() + " at epoch " + newEpoch);
      restartSession("bad handoff");
      return;
    }
    persistEpoch(newEpoch, siteId);
    lastHeardNanos = now();
    provenCurrent = true;
    peerState = PeerState.IN_SYNC;
    // The old leader counts its lease from before it sent the handoff; we count from receipt.
    grantBaseNanos = now();
    followerSynced = false;
  }

  private void forcePromote(String reason, CompletableFuture<Void> f) {
    if (isLeader() && provenCurrent) {
      f.completeExceptionally(new IllegalStateException("this site already leads"));
      return;
    }
    if (session == Session.UP) {
      f.completeExceptionally(
          new IllegalStateException("the peer is connected: use a planned switchover"));
      return;
    }
    persistEpoch(epoch + 1, siteId);
    provenCurrent = true;
    peerState = PeerState.ABSENT;
    listener.onWarning(
        "FORCED FAILOVER to this site at epoch "
            + epoch
            + " ("
            + reason
            + "): writes the old leader acknowledged after losing contact may be lost");
    f.complete(null);
  }

  // ---------------------------------------------------------------- status

  /** A readable dump of the loop's state, for diagnosing a stuck test or a support bundle. */
  CompletableFuture<String> describe() {
    CompletableFuture<String> f = new CompletableFuture<>();
    post(
        () -> {
          StringBuilder sb = new StringBuilder();
          sb.append("session=").append(session).append('#').append(sessionNo);
          sb.append(" peer=").append(peerState).append(" synced=").append(followerSynced);
          sb.append(" dropped=").append(droppedOutsideSession).append('/').append(droppedStale);
          for (int i = 0; i < sequencers.length; i++) {
            sb.append("\n seq").append(i).append(": ");
            for (RangeSequencer.Entry e : sequencers[i].snapshot()) {
              sb.append('[').append(e.offset).append('+').append(e.end - e.offset)
                  .append(e.shared ? " r" : " w").append(e.admitted() ? " A] " : " q] ");
            }
          }
          sb.append("\n leader: ").append(leader.describe());
          sb.append("\n resync: ").append(resync.describe());
          f.complete(sb.toString());
        });
    return f;
  }

  private void publish() {
    ReplicationStatus next = computeStatus();
    if (!next.equals(status)) {
      status = next;
      listener.onStatus(next);
    }
  }

  private ReplicationStatus computeStatus() {
    boolean leads = leaderId.equals(siteId);
    SyncState sync;
    if (leads) {
      sync =
          switch (peerState) {
            case IN_SYNC -> SyncState.IN_SYNC;
            case SYNCING -> SyncState.RESYNCING;
            case ABSENT, LOST -> SyncState.OUT_OF_SYNC;
          };
    } else if (session == Session.UP) {
      sync = followerSynced ? SyncState.IN_SYNC : SyncState.RESYNCING;
    } else {
      sync = SyncState.OUT_OF_SYNC;
    }
    boolean serving = unavailability() == null;
    return new ReplicationStatus(
        leads ? Role.LEADER : Role.FOLLOWER,
        sync,
        session == Session.UP ? LinkState.UP : LinkState.DOWN,
        serving ? Availability.SERVING : Availability.UNAVAILABLE,
        epoch,
        leaderId,
        resync.bytesDone(),
        resync.bytesTotal(),
        resync.etaSeconds());
  }

  static long ms(long millis) {
    return millis * 1_000_000L;
  }
}
