package io.duet.sync.dirty;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Creates or replaces a file so that a crash leaves either the old file or the complete new one:
 * write a temporary sibling, fsync it, rename it over the target, fsync the directory. Both the
 * dirty map and the activity log are born this way, so a half-initialized file never exists.
 */
final class FreshFile {
  private static final String TEMP_SUFFIX = ".new";

  private FreshFile() {}

  /** Writes the new content into an empty channel. */
  @FunctionalInterface
  interface Content {
    void writeTo(FileChannel ch) throws IOException;
  }

  static void install(Path target, Content content) throws IOException {
    Path abs = target.toAbsolutePath();
    Path temp = abs.resolveSibling(abs.getFileName() + TEMP_SUFFIX);
    try (FileChannel ch =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      content.writeTo(ch);
      ch.force(true);
    }
    Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(abs.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long at = position;
    while (buf.hasRemaining()) {
      at += ch.write(buf, at);
    }
  }

  /** Reads until {@code buf} is full or the file ends; returns the bytes read. */
  static int readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    int total = 0;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, position + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
