package io.duet.testkit.sim;

import java.lang.reflect.Constructor;
import java.util.concurrent.Executor;

/**
 * Host threads inside the simulation: virtual threads whose scheduler is the simulator's queue. A
 * host calls {@link io.duet.sync.ReplicatedVolume}'s blocking methods; when one parks waiting for
 * the replicator, its continuation returns control to the simulator, and the replicator's
 * completion (on the simulated loop) queues the continuation again. So host code runs on the
 * simulator's thread, one step at a time, deterministically.
 *
 * <p>The JDK builds such threads only through a non-public constructor (used by its own tests), so
 * the JVM needs {@code --add-opens java.base/java.lang=ALL-UNNAMED}; duet-testkit's Surefire
 * configuration passes it.
 */
final class VirtualHosts {
  private static final Constructor<?> BUILDER = builderConstructor();

  private VirtualHosts() {}

  private static Constructor<?> builderConstructor() {
    try {
      Constructor<?> c =
          Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder")
              .getDeclaredConstructor(Executor.class);
      c.setAccessible(true);
      return c;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "the simulator needs --add-opens java.base/java.lang=ALL-UNNAMED: " + e, e);
    }
  }

  /** Starts {@code body} on a virtual thread scheduled by {@code scheduler}. */
  static Thread start(String name, Executor scheduler, Runnable body) {
    try {
      Thread.Builder.OfVirtual b = (Thread.Builder.OfVirtual) BUILDER.newInstance(scheduler);
      return b.name(name).start(body);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot build a simulated host thread", e);
    }
  }
}
