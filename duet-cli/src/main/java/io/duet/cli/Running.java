package io.duet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.node.Node;
import io.duet.node.NodeEvent;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CountDownLatch;

/**
 * What {@code site run} and {@code demo} share: the machine-readable lines on stdout (one {@code
 * ready} object, then one object per event) and staying up until the process is told to stop,
 * closing the site on SIGTERM/SIGINT.
 */
final class Running {
  private final ObjectMapper compact = new ObjectMapper();
  private final PrintWriter out;

  Running(PrintWriter out) {
    this.out = out;
  }

  /**
   * {@code {"event":"ready","sites":[{name, uuid, api, token, iscsi[], nbd[], portals[], target,
   * dataDir}]}}
   */
  ObjectNode ready(Node node) {
    ObjectNode root = compact.createObjectNode().put("event", "ready");
    ObjectNode site = root.putArray("sites").addObject();
    site.put("name", node.name())
        .put("uuid", node.uuid())
        .put("api", node.apiUrl())
        .put("token", node.token());
    ArrayNode iscsi = site.putArray("iscsi");
    node.iscsiUrls().forEach(iscsi::add);
    ArrayNode nbd = site.putArray("nbd");
    node.nbdUrls().forEach(nbd::add);
    ArrayNode portals = site.putArray("portals");
    node.portals().forEach(p -> portals.add(p.toString()));
    site.put("target", node.defaultTarget());
    site.put("dataDir", node.config().dataDir().toString());
    return root;
  }

  /** Prints one JSON object on one line and flushes (a reader waits for whole lines). */
  void line(ObjectNode value) {
    try {
      String text = compact.writeValueAsString(value);
      synchronized (out) {
        out.println(text);
        out.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Streams every event of {@code node} from now on as JSON lines. */
  void streamEvents(Node node) {
    node.addEventListener(this::event);
  }

  private void event(NodeEvent e) {
    ObjectNode n =
        compact
            .createObjectNode()
            .put("event", e.type())
            .put("id", e.id())
            .put("time", e.time())
            .put("subject", e.subject())
            .put("message", e.message());
    line(n);
  }

  /**
   * Blocks until the JVM shuts down; the shutdown hook closes {@code node} and, when given, deletes
   * {@code tempDir}.
   */
  static void runUntilStopped(Node node, Path tempDir) throws InterruptedException {
    runUntilStopped(node::close, tempDir);
  }

  /**
   * Blocks until the JVM shuts down; the shutdown hook runs {@code stop} and then, when given,
   * deletes {@code tempDir} (after stop, so no site still writes into it).
   */
  static void runUntilStopped(Runnable stop, Path tempDir) throws InterruptedException {
    CountDownLatch never = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .name("duet-shutdown")
                .unstarted(
                    () -> {
                      stop.run();
                      if (tempDir != null) {
                        deleteTree(tempDir);
                      }
                    }));
    never.await();
  }

  /**
   * Exits the JVM (running the shutdown hooks, which close the site) once {@code in} reaches its
   * end: the parent that holds the other end of the pipe has gone, however it went.
   */
  static void exitOnEndOfInput(java.io.InputStream in) {
    Thread.ofPlatform()
        .daemon()
        .name("duet-stdin-watch")
        .start(
            () -> {
              try {
                while (in.read() >= 0) {
                  // whatever the parent writes is ignored; only the end matters
                }
              } catch (IOException e) {
                // a broken pipe is an end too
              }
              System.exit(0);
            });
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      System.err.println("duet: could not delete " + dir + ": " + e.getMessage());
    }
  }
}
