package io.duet.sync.proto;

import java.util.Objects;
import java.util.UUID;

/**
 * The messages two sites exchange about one consistency group. Each travels in a {@link Frame} that
 * adds the group id and the sender's epoch; {@link FrameCodec} turns them into bytes.
 *
 * <p>Volumes are named by their index in the group's (identically ordered) volume list; offsets and
 * lengths are bytes. Request ids are chosen by the requesting site and echoed in replies.
 */
public sealed interface Message {

  /** What a replicated write does to its range. */
  enum WriteKind {
    WRITE,
    WRITE_ATOMIC,
    /** Zeroes that may be deallocated. */
    ZEROES,
    /** Zeroes that stay allocated. */
    ZEROES_KEEP,
    UNMAP;

    /** Whether the message carries the bytes to write. */
    public boolean carriesData() {
      return this == WRITE || this == WRITE_ATOMIC;
    }
  }

  /** Why a site refused a peer's request. */
  enum Refusal {
    /** The receiver is not the leader (any more): the sender should order the write itself. */
    NOT_LEADER,
    /** The receiver cannot serve the request now (resync, lost peer, fenced). */
    UNAVAILABLE,
    /** The receiver's local storage failed. */
    IO_ERROR
  }

  /**
   * Opens or answers a session: who I am, whom I take for the leader (with the frame's epoch), how
   * many volumes the group has here, my session number, and the peer's session number this hello
   * answers ({@code echo}, 0 when it opens a session), and whether my copy may lack un-flushed
   * writes the peer holds ({@code stale}: I lost power since we were last in sync).
   */
  record Hello(UUID siteId, UUID leaderId, int volumeCount, long session, long echo, boolean stale)
      implements Message {
    public Hello {
      Objects.requireNonNull(siteId, "siteId");
      Objects.requireNonNull(leaderId, "leaderId");
    }
  }

  /** Part of the follower's dirty map for one volume (region indexes, ascending). */
  record DirtyRegions(int volume, long[] regions) implements Message {}

  /** The follower has sent its whole dirty map; the leader may start the resync. */
  record DirtyDone() implements Message {}

  /**
   * A write in the leader's order. {@code originRequest} is the follower's request id when the
   * follower's host issued it (or its compare-and-write matched), otherwise 0.
   */
  record OrderedWrite(
      long seq,
      int volume,
      long offset,
      long length,
      WriteKind kind,
      boolean fua,
      long originRequest,
      byte[] data)
      implements Message {}

  /** A write the follower's host issued, sent to the leader to be ordered. */
  record ForwardedWrite(
      long requestId,
      int volume,
      long offset,
      long length,
      WriteKind kind,
      boolean fua,
      byte[] data)
      implements Message {}

  /** The follower has applied the ordered write {@code seq}. */
  record WriteApplied(long seq) implements Message {}

  /** Ordered write {@code seq} is applied at both sites: reads of its range need not wait. */
  record WriteCommitted(long seq) implements Message {}

  /**
   * The follower has applied these ordered writes (one message for every write it applied in one
   * pass of its event loop; ascending is not required).
   */
  record WritesApplied(long[] seqs) implements Message {}

  /** These ordered writes are applied at both sites: reads of their ranges need not wait. */
  record WritesCommitted(long[] seqs) implements Message {}

  /** The receiver refuses request {@code requestId}. */
  record RequestRefused(long requestId, Refusal reason) implements Message {}

  /** Make every write to {@code volume} that completed before this request durable. */
  record FlushRequest(long requestId, int volume) implements Message {}

  /** Reply to {@link FlushRequest}. */
  record Flushed(long requestId, boolean ok) implements Message {}

  /** A compare-and-write the follower's host issued; only the leader executes it. */
  record CompareAndWriteRequest(
      long requestId, int volume, long offset, boolean fua, byte[] expected, byte[] data)
      implements Message {
    public CompareAndWriteRequest {
      if (expected.length != data.length) {
        throw new IllegalArgumentException("expected and data lengths differ");
      }
    }
  }

  /**
   * A compare-and-write that did not match: nothing was written. (A match comes back as an {@link
   * OrderedWrite} carrying the request id.)
   */
  record CompareAndWriteMismatch(long requestId, long mismatchOffset) implements Message {}

  /**
   * Liveness and lease renewal. {@code echoNanos} is the latest {@code senderNanos} the leader has
   * received from the follower (0 if it grants no lease): the follower's lease runs until that
   * time, on its own clock, plus the lease duration.
   *
   * <p>{@code preElect}, from the leader: it cannot renew its lease at the mediator and asks the
   * follower not to take over if the link fails (the leader is pre-elected as survivor); from the
   * follower: it has promised so. A leader's heartbeat without the flag withdraws the request.
   */
  record Heartbeat(long senderNanos, long echoNanos, boolean preElect) implements Message {}

  /** The leader's copy of one dirty region. */
  record ResyncData(int volume, long region, byte[] data) implements Message {}

  /** The follower has applied (and cleaned) one resync region. */
  record ResyncAck(int volume, long region) implements Message {}

  /** Every dirty region has been copied; the follower may serve again. */
  record ResyncDone() implements Message {}

  /** Ask for digests of {@code count} regions starting at {@code firstRegion}. */
  record DigestRequest(long requestId, int volume, long firstRegion, int count)
      implements Message {}

  /** Region digests in answer to a {@link DigestRequest}. */
  record DigestResponse(long requestId, int volume, long firstRegion, long[] digests)
      implements Message {}

  /** Planned switchover: the sender hands leadership to {@code newLeader} at the frame's epoch. */
  record Handoff(UUID newLeader) implements Message {
    public Handoff {
      Objects.requireNonNull(newLeader, "newLeader");
    }
  }

  /** The receiver's epoch is stale: {@code leaderId} leads at the frame's epoch. */
  record EpochNotice(UUID leaderId, String reason) implements Message {
    public EpochNotice {
      Objects.requireNonNull(leaderId, "leaderId");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * A command for the group's replicated unit state (persistent reservations, LUN reset) that the
   * follower's host issued, sent to the leader to be ordered. The bytes are the SCSI layer's own
   * deterministic encoding; the replicator never looks inside.
   */
  record SharedRequest(long requestId, int volume, byte[] command) implements Message {
    public SharedRequest {
      Objects.requireNonNull(command, "command");
    }
  }

  /**
   * A unit-state command in the leader's order, already applied at the leader, with the leader's
   * {@code result}. {@code originRequest} is the follower's request id when the follower's host
   * issued it (the follower answers its host with this result), otherwise 0.
   */
  record SharedOrdered(long seq, int volume, long originRequest, byte[] command, byte[] result)
      implements Message {
    public SharedOrdered {
      Objects.requireNonNull(command, "command");
      Objects.requireNonNull(result, "result");
    }
  }

  /** The follower has applied the unit-state command {@code seq}. */
  record SharedApplied(long seq) implements Message {}

  /**
   * The leader's whole unit state of one volume, sent while resynchronizing (before {@link
   * ResyncDone}); the follower replaces its own with it.
   */
  record SharedSnapshot(int volume, byte[] snapshot) implements Message {
    public SharedSnapshot {
      Objects.requireNonNull(snapshot, "snapshot");
    }
  }

  /**
   * A site-to-site administrative request or its answer, outside any consistency group (sent with
   * the nil group id): creating a group's twin volumes, exchanging the sites' port groups and
   * portals. The body is the node's own encoding; the replicator never sees these.
   */
  record Control(long requestId, boolean response, byte[] body) implements Message {
    public Control {
      Objects.requireNonNull(body, "body");
    }
  }
}
