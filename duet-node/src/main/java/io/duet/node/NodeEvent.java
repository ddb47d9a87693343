package io.duet.node;

import java.util.Objects;

/**
 * Something that happened on a site, as the event log, the API and {@code duet demo --json} report
 * it.
 *
 * @param id increases by one per event, also across restarts
 * @param time ISO-8601 UTC timestamp
 * @param type dotted kind, e.g. {@code volume.created}
 * @param subject what it is about (a volume, host, portal ... name), may be empty
 * @param message one human-readable line
 * @param level {@code info}, or {@code warning} for what an operator must look at (a forced
 *     failover that may have lost data, something that failed)
 */
public record NodeEvent(
    long id, String time, String type, String subject, String message, String level) {
  public static final String INFO = "info";
  public static final String WARNING = "warning";

  public NodeEvent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(level, "level");
  }

  /**
   * The level of an event of {@code type}: warnings for failures, forced failovers and a lost
   * mediator.
   */
  static String levelOf(String type) {
    return type.endsWith(".failed")
            || type.equals("cg.warning")
            || type.equals("cg.forced-failover")
            || type.equals("cg.mediator.lost")
        ? WARNING
        : INFO;
  }
}
