package io.duet.mediator;

import java.nio.file.Path;
import java.util.List;

/**
 * The mediator as a child process for {@link MediatorProcessIT}: production start-up (system clock;
 * PBKDF2 with fewer iterations, to keep the test quick on a loaded machine), loopback port 0, one
 * {@code ready} line on stdout, then runs until killed.
 */
final class ChildMediator {
  static final int MAX_FAILED_LOGINS = 3;

  private ChildMediator() {}

  public static void main(String[] args) throws Exception {
    MediatorConfig cfg =
        new MediatorConfig(
            Path.of(args[0]),
            "127.0.0.1",
            0,
            List.of(),
            List.of(),
            Long.parseLong(args[1]),
            1000,
            MAX_FAILED_LOGINS,
            600_000);
    MediatorServer server =
        MediatorServer.start(cfg, MediatorClock.SYSTEM, new java.security.SecureRandom(), 10_000);
    System.out.println("ready " + server.url());
    System.out.flush();
    Thread.currentThread().join();
  }
}
