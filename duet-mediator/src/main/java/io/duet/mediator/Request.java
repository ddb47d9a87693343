package io.duet.mediator;

import java.util.Objects;
import java.util.UUID;

/** A site's request about one relationship; every request carries the epoch the site holds. */
sealed interface Request {
  UUID site();

  long epoch();

  /** The site is alive and holds this view. */
  record Heartbeat(UUID site, long epoch, UUID leader, boolean inSync) implements Request {
    public Heartbeat {
      Objects.requireNonNull(site, "site");
      Objects.requireNonNull(leader, "leader");
    }
  }

  /** The leader extends its lease. */
  record RenewLease(UUID site, long epoch) implements Request {
    public RenewLease {
      Objects.requireNonNull(site, "site");
    }
  }

  /** The leader lost the follower and wants to continue alone. */
  record OutOfSync(UUID site, long epoch) implements Request {
    public OutOfSync {
      Objects.requireNonNull(site, "site");
    }
  }

  /** The follower lost the leader and wants to continue alone. */
  record Takeover(UUID site, long epoch) implements Request {
    public Takeover {
      Objects.requireNonNull(site, "site");
    }
  }

  /** The sites agreed (over their link) that the leader survives a later link failure. */
  record PreElect(UUID site, long epoch) implements Request {
    public PreElect {
      Objects.requireNonNull(site, "site");
    }
  }

  /** An operator promoted this site by force, at (at least) this epoch. */
  record ForcedFailover(UUID site, long epoch, String reason) implements Request {
    public ForcedFailover {
      Objects.requireNonNull(site, "site");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
