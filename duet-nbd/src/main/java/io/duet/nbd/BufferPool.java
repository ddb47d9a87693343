package io.duet.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Direct buffers for request payloads, shared by every connection of a server. A heap buffer handed
 * to a socket or file channel costs an extra copy through a JDK temporary direct buffer (and that
 * temporary is cached per thread, unbounded in size); these buffers go to the kernel as they are.
 *
 * <p>Buffers come in power-of-two classes from {@link #MIN_CLASS_BYTES} to {@link
 * Nbd#MAX_PAYLOAD_BYTES}. Released buffers are kept for reuse while the pool holds at most {@code
 * retainedBytesMax} idle bytes; beyond that a released buffer is dropped, and the garbage collector
 * returns its memory (the JVM's {@code -XX:MaxDirectMemorySize} bounds what may wait for that).
 * Freeing explicitly through a shared {@code Arena} was measured at about half a millisecond per
 * buffer, too slow for a request path. How many bytes are in use at once is bounded by the callers
 * (each connection's buffered-bytes semaphore). Thread-safe.
 */
final class BufferPool {
  static final int MIN_CLASS_BYTES = 4096;
  private static final int MIN_SHIFT = Integer.numberOfTrailingZeros(MIN_CLASS_BYTES);
  private static final int CLASSES =
      Integer.numberOfTrailingZeros(Nbd.MAX_PAYLOAD_BYTES) - MIN_SHIFT + 1;

  /** A pooled buffer and its size class. */
  static final class Lease {
    private final ByteBuffer buffer;
    private final int sizeClass;

    private Lease(ByteBuffer buffer, int sizeClass) {
      this.buffer = buffer;
      this.sizeClass = sizeClass;
    }

    /** The buffer, cleared and limited to the length asked for when it was acquired. */
    ByteBuffer buffer() {
      return buffer;
    }
  }

  private final long retainedBytesMax;
  private final List<ArrayDeque<Lease>> free; // by size class
  private long retainedBytes; // guarded by this

  BufferPool(long retainedBytesMax) {
    if (retainedBytesMax < 0) {
      throw new IllegalArgumentException("retainedBytesMax must be >= 0");
    }
    this.retainedBytesMax = retainedBytesMax;
    List<ArrayDeque<Lease>> classes = new ArrayList<>(CLASSES);
    for (int i = 0; i < CLASSES; i++) {
      classes.add(new ArrayDeque<>());
    }
    this.free = List.copyOf(classes);
  }

  /** A buffer of exactly {@code bytes} remaining (0 to {@link Nbd#MAX_PAYLOAD_BYTES}). */
  Lease acquire(int bytes) {
    if (bytes < 0 || bytes > Nbd.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("buffer of " + bytes + " bytes");
    }
    int c = sizeClass(bytes);
    Lease lease;
    synchronized (this) {
      lease = free.get(c).pollLast(); // the most recently used one is the likeliest to be in cache
      if (lease != null) {
        retainedBytes -= capacity(c);
      }
    }
    if (lease == null) {
      lease = new Lease(ByteBuffer.allocateDirect((int) capacity(c)), c);
    }
    lease.buffer.clear().limit(bytes);
    return lease;
  }

  /** Returns {@code lease} to the pool; it must not be used afterwards. Null is ignored. */
  void release(Lease lease) {
    if (lease == null) {
      return;
    }
    long size = capacity(lease.sizeClass);
    synchronized (this) {
      if (retainedBytes + size <= retainedBytesMax) {
        retainedBytes += size;
        free.get(lease.sizeClass).addLast(lease);
      }
    }
  }

  /** Idle bytes held for reuse (tests, diagnostics). */
  synchronized long retainedBytes() {
    return retainedBytes;
  }

  private static int sizeClass(int bytes) {
    if (bytes <= MIN_CLASS_BYTES) {
      return 0;
    }
    return 32 - Integer.numberOfLeadingZeros(bytes - 1) - MIN_SHIFT;
  }

  private static long capacity(int sizeClass) {
    return (long) MIN_CLASS_BYTES << sizeClass;
  }
}
