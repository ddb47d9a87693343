package io.duet.node;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * A test's view of durability: how many pages of a file the kernel holds dirty or under writeback,
 * by {@code cachestat(2)} (Linux 6.5+). A write that is only in the page cache shows here until an
 * fdatasync makes it durable (or the kernel writes it back on its own, tens of seconds later, which
 * a test that looks at once does not meet). Being the kernel's own account, it needs no seam in the
 * code under test.
 */
final class PageCache {
  /** cachestat's number in the syscall table every architecture shares since Linux 5.x. */
  private static final long SYS_CACHESTAT = 451;

  private static final int O_RDONLY = 0;
  private static final int ENOSYS = 38;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  /** int open(const char *path, int flags, ... mode). */
  private static final MethodHandle OPEN =
      downcall(
          "open",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
          Linker.Option.firstVariadicArg(2));

  /** long syscall(long number, ...): every argument passed as a long, as the kernel reads it. */
  private static final MethodHandle SYSCALL =
      downcall(
          "syscall",
          FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG),
          Linker.Option.firstVariadicArg(1));

  private static final MethodHandle CLOSE =
      downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

  private PageCache() {}

  /**
   * Pages of {@code file} that are not yet durable (dirty or under writeback), or empty when the
   * kernel has no cachestat.
   */
  static OptionalLong notDurablePages(Path file) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment errno = arena.allocate(ERRNO_STATE);
      int fd = (int) OPEN.invokeExact(errno, arena.allocateFrom(file.toString()), O_RDONLY, 0);
      if (fd < 0) {
        throw new IOException("open " + file + ": errno " + (int) ERRNO.get(errno, 0L));
      }
      try {
        // struct cachestat_range {u64 off, len}: all zero asks for the whole file.
        MemorySegment range = arena.allocate(16);
        // struct cachestat {u64 nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted}
        MemorySegment stat = arena.allocate(40);
        long r = (long) SYSCALL.invokeExact(errno, SYS_CACHESTAT, (long) fd, range, stat, 0L);
        if (r < 0) {
          int e = (int) ERRNO.get(errno, 0L);
          if (e == ENOSYS) {
            return OptionalLong.empty();
          }
          throw new IOException("cachestat " + file + ": errno " + e);
        }
        return OptionalLong.of(stat.get(JAVA_LONG, 8) + stat.get(JAVA_LONG, 16));
      } finally {
        int closed = (int) CLOSE.invokeExact(errno, fd);
        assert closed == 0 : "close failed";
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  // Binding libc is this class's whole job; the tests run with --enable-native-access.
  @SuppressWarnings("restricted")
  private static MethodHandle downcall(
      String name, FunctionDescriptor descriptor, Linker.Option... extra) {
    MemorySegment symbol =
        LINKER
            .defaultLookup()
            .find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
    Linker.Option[] options = new Linker.Option[extra.length + 1];
    options[0] = Linker.Option.captureCallState("errno");
    System.arraycopy(extra, 0, options, 1, extra.length);
    return LINKER.downcallHandle(symbol, descriptor, options);
  }
}
