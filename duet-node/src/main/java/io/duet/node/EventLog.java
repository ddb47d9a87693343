package io.duet.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The site's events: the last {@link #RING_CAPACITY_DEFAULT} in memory for the API, every one
 * appended as a JSON line to {@code events.log} in the data directory, and pushed to listeners
 * ({@code duet demo --json} streams them). Event ids continue across restarts.
 */
final class EventLog implements AutoCloseable {
  static final int RING_CAPACITY_DEFAULT = 1000;

  /** How much of the end of the log file is read at start to find the last id. */
  private static final int TAIL_SCAN_BYTES = 64 * 1024;

  private static final Logger log = LoggerFactory.getLogger(EventLog.class);

  /** The log is rotated to {@code events.log.1} past this size, so it never fills the disk. */
  static final long MAX_FILE_BYTES = 16L << 20;

  private final Path path;
  private final long maxFileBytes;
  private FileChannel file;
  private final int capacity;
  private final Clock clock;
  private final ObjectMapper json;
  private final ArrayDeque<NodeEvent> ring;
  private final List<Consumer<NodeEvent>> listeners = new CopyOnWriteArrayList<>();
  private long lastId;

  EventLog(Path path, int capacity, Clock clock, ObjectMapper json) throws IOException {
    this(path, capacity, clock, json, MAX_FILE_BYTES);
  }

  EventLog(Path path, int capacity, Clock clock, ObjectMapper json, long maxFileBytes)
      throws IOException {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive");
    }
    this.capacity = capacity;
    this.path = path;
    this.maxFileBytes = maxFileBytes;
    this.clock = clock;
    this.json = json;
    this.ring = new ArrayDeque<>(Math.min(capacity, 1024));
    this.lastId = lastIdIn(path, json);
    this.file =
        FileChannel.open(
            path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  }

  /** Records an event; listeners run on the caller's thread after it is in the log. */
  NodeEvent record(String type, String subject, String message) {
    NodeEvent event;
    synchronized (this) {
      event =
          new NodeEvent(
              ++lastId,
              Instant.ofEpochMilli(clock.millis()).toString(),
              type,
              subject,
              message,
              NodeEvent.levelOf(type));
      if (ring.size() == capacity) {
        ring.removeFirst();
      }
      ring.addLast(event);
      append(event);
    }
    if (NodeEvent.WARNING.equals(event.level())) {
      log.warn("event {} {} {}", type, subject, message);
    } else {
      log.info("event {} {} {}", type, subject, message);
    }
    for (Consumer<NodeEvent> listener : listeners) {
      try {
        listener.accept(event);
      } catch (RuntimeException e) {
        // A broken listener (e.g. a closed stdout) must not fail the operation that made the event.
        log.warn("event listener failed: {}", e.toString());
      }
    }
    return event;
  }

  /** Events with an id greater than {@code sinceId}, oldest first, at most {@code limit}. */
  synchronized List<NodeEvent> since(long sinceId, int limit) {
    List<NodeEvent> out = new ArrayList<>();
    for (NodeEvent e : ring) {
      if (e.id() > sinceId && out.size() < limit) {
        out.add(e);
      }
    }
    return out;
  }

  /** The newest {@code n} events, oldest first. */
  synchronized List<NodeEvent> recent(int n) {
    List<NodeEvent> all = new ArrayList<>(ring);
    return List.copyOf(all.subList(Math.max(0, all.size() - n), all.size()));
  }

  void addListener(Consumer<NodeEvent> listener) {
    listeners.add(listener);
  }

  void removeListener(Consumer<NodeEvent> listener) {
    listeners.remove(listener);
  }

  private void append(NodeEvent event) {
    try {
      byte[] line = (json.writeValueAsString(event) + "\n").getBytes(StandardCharsets.UTF_8);
      if (file.size() + line.length > maxFileBytes) {
        rotate();
      }
      ByteBuffer buf = ByteBuffer.wrap(line);
      while (buf.hasRemaining()) {
        file.write(buf);
      }
    } catch (IOException e) {
      // The in-memory ring still has the event; losing the file copy must not fail an admin call.
      log.warn("cannot append to the event log: {}", e.toString());
    }
  }

  /** Keeps one previous generation: events.log becomes events.log.1 and a new file starts. */
  private void rotate() throws IOException {
    file.close();
    Files.move(
        path,
        path.resolveSibling(path.getFileName() + ".1"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    file =
        FileChannel.open(
            path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  }

  /** The highest event id in the last lines of the file, 0 for a new or unreadable log. */
  private static long lastIdIn(Path path, ObjectMapper json) throws IOException {
    if (!Files.exists(path) || Files.size(path) == 0) {
      // Just rotated (or new): the previous generation holds the last id.
      Path previous = path.resolveSibling(path.getFileName() + ".1");
      return Files.exists(previous) && Files.size(previous) > 0 ? lastIdIn(previous, json) : 0;
    }
    byte[] tail;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      int n = (int) Math.min(size, TAIL_SCAN_BYTES);
      ByteBuffer buf = ByteBuffer.allocate(n);
      ch.position(size - n);
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        // read until full
      }
      tail = buf.array();
    }
    long max = 0;
    for (String line : new String(tail, StandardCharsets.UTF_8).split("\n")) {
      try {
        JsonNode node = json.readTree(line);
        if (node != null && node.path("id").isIntegralNumber()) {
          max = Math.max(max, node.get("id").asLong());
        }
      } catch (IOException e) {
        // A torn last line (crash mid-append) or the cut first line of the tail: skip it.
      }
    }
    return max;
  }

  @Override
  public void close() throws IOException {
    file.close();
  }
}
