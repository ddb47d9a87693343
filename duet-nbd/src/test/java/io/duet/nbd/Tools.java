package io.duet.nbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real NBD clients installed on the machine (nbdinfo, nbdcopy, qemu-img, fio). */
final class Tools {
  private static final long TIMEOUT_S = 120;

  private Tools() {}

  /** The result of one run: exit status and the merged output. */
  record Result(int exit, String output) {}

  static boolean installed(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  static Result run(List<String> command) throws IOException, InterruptedException {
    return run(command, Map.of());
  }

  static Result run(List<String> command, Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(command + " did not finish in " + TIMEOUT_S + " s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Runs and insists on exit status 0, returning the output. */
  static String ok(String... command) throws IOException, InterruptedException {
    Result r = run(List.of(command));
    if (r.exit() != 0) {
      throw new AssertionError(
          String.join(" ", command) + " exited " + r.exit() + ":\n" + r.output());
    }
    return r.output();
  }
}
