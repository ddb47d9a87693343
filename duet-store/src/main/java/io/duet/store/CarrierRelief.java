package io.duet.store;

import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Runs slow native calls off virtual threads. A foreign-function call pins its virtual thread to
 * the carrier for the whole call, and the scheduler does not add a carrier to compensate (as it
 * does for JDK file I/O). A punch-hole over gigabytes can take long enough to stall every other
 * command on a small machine, so virtual callers hand such calls to a few platform threads and park
 * instead. Platform callers run the call directly.
 */
final class CarrierRelief {
  /** One native call that may fail with an {@link IOException}. */
  @FunctionalInterface
  interface NativeCall {
    void run() throws IOException;
  }

  private static final int THREADS = 4;
  private static final int QUEUE_CAPACITY = 256;
  private static final ThreadPoolExecutor EXECUTOR = newExecutor();

  private CarrierRelief() {}

  static void run(NativeCall call) throws IOException {
    if (!Thread.currentThread().isVirtual()) {
      call.run();
      return;
    }
    Future<Void> future =
        EXECUTOR.submit(
            () -> {
              call.run();
              return null;
            });
    // Wait even if interrupted: callers hold range locks that must outlive the call itself.
    boolean interrupted = false;
    try {
      while (true) {
        try {
          future.get();
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          throw rethrow(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static IOException rethrow(Throwable cause) {
    if (cause instanceof IOException io) {
      return io;
    }
    if (cause instanceof RuntimeException re) {
      throw re;
    }
    if (cause instanceof Error error) {
      throw error;
    }
    return new IOException("native call failed", cause);
  }

  private static ThreadPoolExecutor newExecutor() {
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUE_CAPACITY),
            Thread.ofPlatform().daemon().name("duet-store-native-", 0).factory(),
            // Back-pressure when saturated: the caller runs the call itself (pinned, but bounded).
            new ThreadPoolExecutor.CallerRunsPolicy());
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }
}
