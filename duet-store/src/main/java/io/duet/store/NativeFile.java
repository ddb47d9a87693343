package io.duet.store;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A raw Linux file descriptor with the few calls the JDK does not offer (fallocate, SEEK_DATA /
 * SEEK_HOLE, growing ftruncate), bound through the FFM API. (fdatasync needs no binding: {@code
 * FileChannel.force(false)} is that call, see {@link DataChannel#fdatasync()}.)
 *
 * <p>The descriptor is reference counted: {@link #close()} only marks it closed and the last call
 * in flight closes it. Without that, a call racing with close could act on a descriptor number the
 * kernel has already handed to another file — a punch-hole on the wrong file.
 */
final class NativeFile implements Closeable {
  static final int FALLOC_FL_KEEP_SIZE = 0x01;
  static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  static final int FALLOC_FL_ZERO_RANGE = 0x10;
  static final int SEEK_DATA = 3;
  static final int SEEK_HOLE = 4;

  static final int EINTR = 4;
  static final int ENXIO = 6;
  static final int ENOSYS = 38;
  static final int EOPNOTSUPP = 95;

  private static final int O_RDWR = 0x2;
  private static final int O_CLOEXEC = 0x80000;
  private static final int MAX_EINTR_RETRIES = 100;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE_LAYOUT.varHandle(PathElement.groupElement("errno"));
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

  private static final MethodHandle OPEN =
      downcall(
          "open",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.ADDRESS,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_INT),
          Linker.Option.firstVariadicArg(2));
  private static final MethodHandle CLOSE =
      downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
  private static final MethodHandle FALLOCATE =
      downcall(
          "fallocate",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_LONG));
  private static final MethodHandle LSEEK =
      downcall(
          "lseek",
          FunctionDescriptor.of(
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_INT));
  private static final MethodHandle FTRUNCATE =
      downcall(
          "ftruncate",
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));

  /**
   * errno capture buffers, reused so the hot path (flush, FUA, unmap) allocates no native memory. A
   * call that finds every slot busy falls back to a short-lived arena.
   */
  private static final int CAPTURE_SLOTS = 64;

  private static final AtomicReferenceArray<MemorySegment> CAPTURE_POOL = newCapturePool();

  /** Low 31 bits: calls in flight; sign bit: closed. */
  private static final int CLOSED = Integer.MIN_VALUE;

  private final Path path;
  private final int fd;
  private final AtomicInteger users = new AtomicInteger();

  private NativeFile(Path path, int fd) {
    this.path = path;
    this.fd = fd;
  }

  /** Opens an existing file read-write. */
  static NativeFile open(Path path) throws IOException {
    int fd;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment cPath = arena.allocateFrom(path.toAbsolutePath().toString());
      MemorySegment capture = arena.allocate(CAPTURE_LAYOUT);
      fd = (int) OPEN.invokeExact(capture, cPath, O_RDWR | O_CLOEXEC, 0);
      if (fd < 0) {
        throw new NativeIoException("open", path, errno(capture));
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("native open failed", t);
    }
    return new NativeFile(path, fd);
  }

  /** {@code fallocate(fd, mode, offset, length)}. */
  void fallocate(int mode, long offset, long length) throws IOException {
    CarrierRelief.run(() -> fallocateHere(mode, offset, length));
  }

  private void fallocateHere(int mode, long offset, long length) throws IOException {
    acquire();
    MemorySegment capture = takeCapture();
    try {
      for (int attempt = 0; ; attempt++) {
        int rc = (int) FALLOCATE.invokeExact(capture, fd, mode, offset, length);
        if (rc == 0) {
          return;
        }
        int errno = errno(capture);
        if (errno != EINTR || attempt >= MAX_EINTR_RETRIES) {
          throw new NativeIoException(
              "fallocate(mode=0x" + Integer.toHexString(mode) + ")", path, errno);
        }
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("native fallocate failed", t);
    } finally {
      giveCapture(capture);
      release();
    }
  }

  /**
   * {@code lseek(fd, offset, whence)} for SEEK_DATA / SEEK_HOLE.
   *
   * @return the resulting offset, or -1 when the kernel answers ENXIO (no data at or after offset)
   */
  long seek(long offset, int whence) throws IOException {
    acquire();
    MemorySegment capture = takeCapture();
    try {
      long rc = (long) LSEEK.invokeExact(capture, fd, offset, whence);
      if (rc >= 0) {
        return rc;
      }
      int errno = errno(capture);
      if (errno == ENXIO) {
        return -1;
      }
      throw new NativeIoException("lseek(whence=" + whence + ")", path, errno);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("native lseek failed", t);
    } finally {
      giveCapture(capture);
      release();
    }
  }

  /** {@code ftruncate(fd, length)}. */
  void ftruncate(long length) throws IOException {
    acquire();
    MemorySegment capture = takeCapture();
    try {
      for (int attempt = 0; ; attempt++) {
        int rc = (int) FTRUNCATE.invokeExact(capture, fd, length);
        if (rc == 0) {
          return;
        }
        int errno = errno(capture);
        if (errno != EINTR || attempt >= MAX_EINTR_RETRIES) {
          throw new NativeIoException("ftruncate", path, errno);
        }
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("native ftruncate failed", t);
    } finally {
      giveCapture(capture);
      release();
    }
  }

  /** Marks the descriptor closed; it is closed now, or by the last call still in flight. */
  @Override
  public void close() {
    while (true) {
      int u = users.get();
      if (u < 0) {
        return;
      }
      if (users.compareAndSet(u, u | CLOSED)) {
        if (u == 0) {
          closeFd();
        }
        return;
      }
    }
  }

  private void acquire() throws IOException {
    while (true) {
      int u = users.get();
      if (u < 0) {
        throw new java.nio.channels.ClosedChannelException();
      }
      if (users.compareAndSet(u, u + 1)) {
        return;
      }
    }
  }

  private void release() {
    if (users.decrementAndGet() == CLOSED) {
      closeFd();
    }
  }

  private void closeFd() {
    MemorySegment capture = takeCapture();
    try {
      // Linux releases the descriptor even when close reports an error; never retry (EINTR
      // included), or we might close a descriptor that was just reused.
      int rc = (int) CLOSE.invokeExact(capture, fd);
      assert rc == 0 || errno(capture) != 0;
    } catch (Throwable t) {
      throw new IllegalStateException("native close failed", t);
    } finally {
      giveCapture(capture);
    }
  }

  private static int errno(MemorySegment capture) {
    return (int) ERRNO.get(capture, 0L);
  }

  private static MemorySegment takeCapture() {
    int start = (int) (Thread.currentThread().threadId() & (CAPTURE_SLOTS - 1));
    for (int i = 0; i < CAPTURE_SLOTS; i++) {
      MemorySegment s = CAPTURE_POOL.getAndSet((start + i) & (CAPTURE_SLOTS - 1), null);
      if (s != null) {
        return s;
      }
    }
    // Every slot busy: an automatic arena keeps the segment alive until no longer referenced.
    return Arena.ofAuto().allocate(CAPTURE_LAYOUT);
  }

  private static void giveCapture(MemorySegment capture) {
    int start = (int) (Thread.currentThread().threadId() & (CAPTURE_SLOTS - 1));
    for (int i = 0; i < CAPTURE_SLOTS; i++) {
      if (CAPTURE_POOL.compareAndSet((start + i) & (CAPTURE_SLOTS - 1), null, capture)) {
        return;
      }
    }
  }

  private static AtomicReferenceArray<MemorySegment> newCapturePool() {
    AtomicReferenceArray<MemorySegment> pool = new AtomicReferenceArray<>(CAPTURE_SLOTS);
    for (int i = 0; i < CAPTURE_SLOTS; i++) {
      pool.set(i, Arena.global().allocate(CAPTURE_LAYOUT));
    }
    return pool;
  }

  // Restricted by design: binding libc is this class's whole job. The JVM must run with
  // --enable-native-access=ALL-UNNAMED (or the module's name) to allow it without a warning.
  @SuppressWarnings("restricted")
  private static MethodHandle downcall(
      String name, FunctionDescriptor descriptor, Linker.Option... extra) {
    MemorySegment symbol =
        LINKER
            .defaultLookup()
            .find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
    Linker.Option[] options = new Linker.Option[extra.length + 1];
    options[0] = CAPTURE_ERRNO;
    System.arraycopy(extra, 0, options, 1, extra.length);
    return LINKER.downcallHandle(symbol, descriptor, options);
  }
}
