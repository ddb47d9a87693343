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
      List<Volume> volumes) {}

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
      Resync resync) {}

  /** The outcome of {@code POST /cgs/{name}/verify}. */
  public record Verify(long regionsCompared, List<Region> differingRegions, boolean repaired) {}

  public record Region(String volume, long offset, long length) {}
}
