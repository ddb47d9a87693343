package io.duet.node.cg;

import java.util.List;

/** What the REST API returns for consistency groups, as records Jackson turns into JSON. */
public final class CgViews {
  private CgViews() {}

  /** One group as this site sees it (the contract's CG view). */
  public record Group(
      String name,
      String id,
      String policy,
      String peer,
      String peerSiteId,
      String role,
      String leader,
      String leaderSiteId,
      long epoch,
      String syncState,
      String link,
      String availability,
      Resync resync,
      boolean autoResync,
      boolean autoRecover,
      long resyncRate,
      Mediator mediator,
      String operation,
      String problem,
      List<Volume> volumes) {}

  /**
   * This site's contact with the mediator for the group.
   *
   * @param configured whether the group uses a mediator at this site
   * @param connected whether the last calls reached it
   * @param inQuorum connected, and the mediator records this site's epoch (it is current)
   * @param preElected the leader is the pre-elected survivor (the mediator is out of its reach)
   * @param leaseRemainingMs at the leader: how long its lease at the mediator still runs
   * @param lastMessage the mediator's last answer, or the last error reaching it
   */
  public record Mediator(
      boolean configured,
      boolean connected,
      boolean inQuorum,
      boolean preElected,
      long leaseRemainingMs,
      String lastMessage) {
    static final Mediator NONE = new Mediator(false, false, false, false, 0, "");

    static Mediator of(io.duet.sync.ReplicationStatus.MediatorStatus m) {
      return m == null
          ? NONE
          : new Mediator(
              m.configured(),
              m.connected(),
              m.inQuorum(),
              m.preElected(),
              m.leaseRemainingMs(),
              m.lastMessage() == null ? "" : m.lastMessage());
    }
  }

  /** Resync progress; 100 % with nothing to copy when no resync runs. */
  public record Resync(long bytesDone, long bytesTotal, long etaSeconds, double percent) {}

  public record Volume(String name, String naa, String serial, long sizeBytes) {}

  /** The short form in {@code GET /status}. */
  public record Summary(
      String name,
      String role,
      String syncState,
      String availability,
      String link,
      Resync resync,
      Mediator mediator) {}

  /** The outcome of {@code POST /cgs/{name}/verify}. */
  public record Verify(long regionsCompared, List<Region> differingRegions, boolean repaired) {}

  public record Region(String volume, long offset, long length) {}

  /**
   * What {@code GET /cgs/{name}/validate} answers: the checks before go-live, each passed or not
   * with what is missing.
   *
   * @param passed whether every check passed
   */
  public record Validation(String group, boolean passed, List<Check> checks) {}

  /**
   * One go-live check.
   *
   * @param name what is checked
   * @param passed whether it holds
   * @param detail what was found, and what to do when it does not hold
   */
  public record Check(String name, boolean passed, String detail) {}
}
