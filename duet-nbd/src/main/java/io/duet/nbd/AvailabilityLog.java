package io.duet.nbd;

import io.duet.store.Volume;
import io.duet.store.VolumeUnavailableException;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Logs when a volume stops or resumes being served at this site (a replicated volume whose site
 * turned stale, then caught up): once per turn, however many requests and connections see it, so a
 * host retrying thousands of I/Os on an unavailable export does not flood the log.
 */
final class AvailabilityLog {
  private static final System.Logger LOG = System.getLogger(AvailabilityLog.class.getName());

  /**
   * One per server process: the connections of one export share their volume's state. Keys are weak
   * so a deleted volume is forgotten.
   */
  static final AvailabilityLog SHARED = new AvailabilityLog();

  /** Volumes last seen unavailable; guarded by {@code this}. */
  private final Map<Volume, Boolean> unavailable = new WeakHashMap<>();

  /** Whether any volume is marked unavailable: the served path then costs one volatile read. */
  private volatile boolean anyUnavailable;

  /**
   * A request on {@code volume} was refused because the site must not serve it.
   *
   * @return true when this turned the volume unavailable (and was logged)
   */
  boolean unavailable(Volume volume, String export, VolumeUnavailableException e) {
    synchronized (this) {
      if (unavailable.put(volume, Boolean.TRUE) != null) {
        return false;
      }
      anyUnavailable = true;
    }
    LOG.log(
        Level.WARNING,
        "NBD export {0} is not served at this site now; requests get EIO: {1}",
        export,
        e.getMessage());
    return true;
  }

  /**
   * A request on {@code volume} was served.
   *
   * @return true when the volume had been unavailable (and its return was logged)
   */
  boolean served(Volume volume, String export) {
    if (!anyUnavailable) {
      return false;
    }
    synchronized (this) {
      if (unavailable.remove(volume) == null) {
        return false;
      }
      anyUnavailable = !unavailable.isEmpty();
    }
    LOG.log(Level.INFO, "NBD export {0} is served at this site again", export);
    return true;
  }
}
