package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventLogTest {
  @TempDir Path dir;
  final Clock clock = Clock.fixed(Instant.parse("2026-11-23T10:00:00Z"), ZoneOffset.UTC);

  @Test
  void ringKeepsTheNewestAndIdsContinueAfterReopen() throws Exception {
    Path file = dir.resolve("events.log");
    try (EventLog log = new EventLog(file, 3, clock, Json.mapper())) {
      for (int i = 0; i < 5; i++) {
        log.record("test.event", "s" + i, "event " + i);
      }
      assertThat(log.since(0, 100)).extracting(NodeEvent::id).containsExactly(3L, 4L, 5L);
      assertThat(log.since(4, 100)).extracting(NodeEvent::id).containsExactly(5L);
      assertThat(log.recent(2)).extracting(NodeEvent::subject).containsExactly("s3", "s4");
      assertThat(log.since(0, 1)).hasSize(1);
      assertThat(log.recent(1).get(0).time()).isEqualTo("2026-11-23T10:00:00Z");
    }
    // A crash mid-append leaves a torn last line; it is skipped.
    Files.writeString(file, "{\"id\":6,\"ty", StandardOpenOption.APPEND);
    try (EventLog log = new EventLog(file, 3, clock, Json.mapper())) {
      assertThat(log.record("test.event", "", "after").id()).isEqualTo(6);
    }
    assertThat(Files.readAllLines(file)).hasSize(6);
  }

  @Test
  void listenersSeeEventsAndABrokenOneDoesNotBreakRecording() throws Exception {
    try (EventLog log = new EventLog(dir.resolve("events.log"), 10, clock, Json.mapper())) {
      List<NodeEvent> seen = new ArrayList<>();
      log.addListener(
          e -> {
            throw new IllegalStateException("closed stdout");
          });
      log.addListener(seen::add);
      log.record("a.b", "x", "hello");
      assertThat(seen).singleElement().extracting(NodeEvent::message).isEqualTo("hello");
    }
  }

  @Test
  void forcedFailoversWarningsAndFailuresAreWarnings() throws Exception {
    try (EventLog log = new EventLog(dir.resolve("events.log"), 10, clock, Json.mapper())) {
      assertThat(log.record("cg.forced-failover", "cg1", "forced").level())
          .isEqualTo(NodeEvent.WARNING);
      assertThat(log.record("cg.warning", "cg1", "w").level()).isEqualTo(NodeEvent.WARNING);
      assertThat(log.record("portal.failed", "p", "f").level()).isEqualTo(NodeEvent.WARNING);
      assertThat(log.record("cg.created", "cg1", "c").level()).isEqualTo(NodeEvent.INFO);
    }
  }

  @Test
  void rotatesPastTheSizeLimitAndKeepsCounting() throws Exception {
    Path file = dir.resolve("events.log");
    try (EventLog log = new EventLog(file, 10, clock, Json.mapper(), 1000)) {
      for (int i = 0; i < 30; i++) {
        log.record("test.event", "s", "a message of some length " + i);
      }
    }
    assertThat(Files.size(file)).isLessThanOrEqualTo(1000);
    assertThat(Files.size(dir.resolve("events.log.1"))).isLessThanOrEqualTo(1000);
    try (EventLog log = new EventLog(file, 10, clock, Json.mapper(), 1000)) {
      assertThat(log.record("test.event", "", "next").id()).isEqualTo(31);
    }
  }
}
