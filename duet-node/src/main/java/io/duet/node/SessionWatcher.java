package io.duet.node;

import io.duet.iscsi.IscsiServer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns iSCSI session logins and logouts into site events by comparing the session list at a fixed
 * interval (the iSCSI layer has no callbacks; a session shorter than one interval may go unseen,
 * which is acceptable for an operator's event log).
 */
final class SessionWatcher implements AutoCloseable {
  static final Duration INTERVAL_DEFAULT = Duration.ofSeconds(1);

  private static final Logger log = LoggerFactory.getLogger(SessionWatcher.class);

  private final Supplier<List<IscsiServer.SessionInfo>> sessions;
  private final EventLog events;
  private final Duration interval;
  private final Map<String, IscsiServer.SessionInfo> known = new HashMap<>();
  private final Thread thread;
  private volatile boolean stopped;

  SessionWatcher(
      Supplier<List<IscsiServer.SessionInfo>> sessions, EventLog events, Duration interval) {
    this.sessions = sessions;
    this.events = events;
    this.interval = interval;
    this.thread = Thread.ofVirtual().name("duet-session-watcher").unstarted(this::run);
  }

  void start() {
    thread.start();
  }

  private void run() {
    while (!stopped) {
      try {
        poll();
        Thread.sleep(interval);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // The next poll retries; a failing poll must not end the watcher for the site's lifetime.
        log.warn("session poll failed: {}", e.toString());
      }
    }
  }

  /** One comparison step; package-private so a test can drive it without waiting. */
  synchronized void poll() {
    Map<String, IscsiServer.SessionInfo> now = new HashMap<>();
    for (IscsiServer.SessionInfo s : sessions.get()) {
      now.put(key(s), s);
    }
    for (Map.Entry<String, IscsiServer.SessionInfo> e : now.entrySet()) {
      if (!known.containsKey(e.getKey())) {
        IscsiServer.SessionInfo s = e.getValue();
        events.record(
            "session.login",
            s.initiatorName(),
            s.initiatorName() + " logged in to " + s.targetName() + " from " + s.remoteAddress());
      }
    }
    for (Map.Entry<String, IscsiServer.SessionInfo> e : known.entrySet()) {
      if (!now.containsKey(e.getKey())) {
        IscsiServer.SessionInfo s = e.getValue();
        events.record(
            "session.logout", s.initiatorName(), s.initiatorName() + " left " + s.targetName());
      }
    }
    known.clear();
    known.putAll(now);
  }

  private static String key(IscsiServer.SessionInfo s) {
    return s.initiatorName() + "/" + s.isid() + "/" + s.tsih() + "/" + s.targetName();
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
  }
}
