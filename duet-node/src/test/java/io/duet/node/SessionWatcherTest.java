package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.iscsi.IscsiServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionWatcherTest {
  @Test
  void loginsAndLogoutsBecomeEvents(@TempDir Path dir) throws Exception {
    List<IscsiServer.SessionInfo> current = new ArrayList<>();
    try (EventLog events =
        new EventLog(dir.resolve("events.log"), 100, Clock.systemUTC(), Json.mapper())) {
      SessionWatcher w =
          new SessionWatcher(() -> List.copyOf(current), events, Duration.ofHours(1));
      w.poll();
      assertThat(events.since(0, 10)).isEmpty();
      current.add(
          new IscsiServer.SessionInfo(
              "iqn.2000-01.a:b", "400001370000", 1, "iqn.t", "127.0.0.1:5", "127.0.0.1:3260", 0));
      w.poll();
      w.poll();
      assertThat(events.since(0, 10)).extracting(NodeEvent::type).containsExactly("session.login");
      current.clear();
      w.poll();
      assertThat(events.since(0, 10))
          .extracting(NodeEvent::type)
          .containsExactly("session.login", "session.logout");
      w.close();
    }
  }
}
