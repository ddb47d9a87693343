package io.duet.sync.link;

/** Waits between reconnect attempts; injected so tests and the simulator control time. */
@FunctionalInterface
public interface Sleeper {
  void sleep(long millis) throws InterruptedException;

  /** The real thing. */
  Sleeper SYSTEM = Thread::sleep;
}
