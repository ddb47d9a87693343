package io.duet.sync;

import java.util.List;

/**
 * The outcome of comparing every region's digest across the two sites.
 *
 * @param regionsCompared regions whose digests were compared
 * @param differing the regions whose digests differ, in volume and region order
 * @param repairScheduled whether the differing regions were marked dirty for a resync from the
 *     leader
 */
public record VerifyReport(long regionsCompared, List<Region> differing, boolean repairScheduled) {
  public VerifyReport {
    differing = List.copyOf(differing);
  }

  /** One region of one volume of the group. */
  public record Region(int volume, long region) {}
}
