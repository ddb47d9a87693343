package io.duet.store;

import java.io.IOException;
import java.nio.file.Path;

/** A failed Linux system call on a volume file, carrying its errno. */
final class NativeIoException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int errno;

  NativeIoException(String call, Path path, int errno) {
    super(call + " failed on " + path + ": " + errnoName(errno) + " (errno " + errno + ")");
    this.errno = errno;
  }

  int errno() {
    return errno;
  }

  /** True for the errors that mean "this file system cannot do that", as opposed to a fault. */
  boolean unsupported() {
    return errno == NativeFile.EOPNOTSUPP || errno == NativeFile.ENOSYS;
  }

  private static String errnoName(int errno) {
    return switch (errno) {
      case 1 -> "EPERM";
      case 2 -> "ENOENT";
      case 4 -> "EINTR";
      case 5 -> "EIO";
      case 6 -> "ENXIO";
      case 9 -> "EBADF";
      case 13 -> "EACCES";
      case 19 -> "ENODEV";
      case 21 -> "EISDIR";
      case 22 -> "EINVAL";
      case 27 -> "EFBIG";
      case 28 -> "ENOSPC";
      case 29 -> "ESPIPE";
      case 30 -> "EROFS";
      case 38 -> "ENOSYS";
      case 95 -> "EOPNOTSUPP";
      case 122 -> "EDQUOT";
      default -> "errno";
    };
  }
}
