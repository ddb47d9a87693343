package io.duet.sync.peering;

import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Replaces a small file so that a crash leaves the old content or the complete new one: temporary
 * sibling, fsync, rename, fsync of the directory. Secret files are created 0600 from the start so
 * there is no moment when another user could read them.
 */
final class DurableFile {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private DurableFile() {}

  static void replace(Path target, byte[] content, boolean secret) throws IOException {
    Path abs = target.toAbsolutePath();
    AtomicFile.createDirectories(abs.getParent());
    Path temp = abs.resolveSibling(abs.getFileName() + ".new");
    Files.deleteIfExists(temp);
    FileAttribute<?>[] attrs =
        secret && posix(abs.getParent())
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
            : new FileAttribute<?>[0];
    try (FileChannel ch =
        FileChannel.open(
            temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attrs)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(abs.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  private static boolean posix(Path dir) {
    return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
  }
}
