package io.duet.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Starts {@code duet ARGS...} as a child JVM from this JVM's class path and waits for its {@code
 * {"event":"ready",...}} line on standard output; standard error is appended to a log file. Sites
 * and the mediator both announce themselves this way.
 */
final class DuetJvm {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A started process and the ready line it printed. */
  record Started(Process process, JsonNode ready) {}

  private DuetJvm() {}

  static Started launch(List<String> duetArgs, Path log, Duration readyTimeout)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-Xmx512m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.duet.cli.DuetCli");
    cmd.addAll(duetArgs);
    Process process =
        new ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    BlockingQueue<String> lines = new ArrayBlockingQueue<>(1024);
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.offer(line);
                }
              } catch (IOException e) {
                // the process died; the wait below reports it
              } finally {
                lines.offer("");
              }
            });
    String what = duetArgs.isEmpty() ? "duet" : "duet " + duetArgs.get(0);
    long deadline = System.nanoTime() + readyTimeout.toNanos();
    while (true) {
      String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        process.destroyForcibly();
        throw new IOException(
            what + " did not become ready within " + readyTimeout + "; log: " + tail(log));
      }
      if (line.isEmpty()) { // standard output closed: the process is ending
        if (process.waitFor(10, TimeUnit.SECONDS)) {
          throw new IOException(
              what + " exited with " + process.exitValue() + " before ready; log: " + tail(log));
        }
        continue;
      }
      if (line.startsWith("{") && line.contains("\"ready\"")) {
        return new Started(process, JSON.readTree(line));
      }
    }
  }

  static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    List<String> all = Files.readAllLines(log);
    return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
  }

  /**
   * SIGTERM and wait; SIGKILL after 20 s, or at once when the caller is interrupted (which stays
   * set). Nothing to do for a process that is gone or null. Never throws, so try-with-resources can
   * stop children while a test unwinds.
   */
  static void stop(Process process) {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (process.waitFor(20, TimeUnit.SECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process.destroyForcibly();
  }

  /** Sends {@code signal} (e.g. {@code STOP}, {@code CONT}) to {@code process}. */
  static void signal(Process process, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + signal + " " + process.pid() + " failed");
    }
  }
}
