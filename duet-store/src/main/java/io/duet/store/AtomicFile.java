package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * A small file replaced atomically and checked on every read: after a crash a reader sees either
 * the old or the new content, and never silently a damaged one.
 *
 * <p>Frame (big-endian): magic {@code "DUET"} (4 bytes), format version (int, 1), payload length
 * (int), payload, CRC32C of everything before it (int). {@link #write} writes a temporary file
 * beside the target, fsyncs it, renames it over the target and fsyncs the directory.
 */
public final class AtomicFile {
  /** Payloads are small state; a larger length field means a damaged file, not a big one. */
  public static final int MAX_PAYLOAD_BYTES = 16 << 20;

  static final int MAGIC = 0x44554554; // "DUET"
  static final int VERSION = 1;
  static final int HEADER_BYTES = 12;
  static final int TRAILER_BYTES = 4;
  private static final String TEMP_SUFFIX = ".tmp";

  // Writers of the same file in this process share a temp name, so they take turns.
  private static final int LOCK_STRIPES = 64;
  private static final ReentrantLock[] WRITE_LOCKS = newLocks();

  private AtomicFile() {}

  /**
   * Atomically replaces {@code file} with a framed {@code payload}; durable on return.
   *
   * @throws IllegalArgumentException if the payload exceeds {@link #MAX_PAYLOAD_BYTES}
   */
  public static void write(Path file, byte[] payload) throws IOException {
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "payload of " + payload.length + " bytes exceeds " + MAX_PAYLOAD_BYTES + " for " + file);
    }
    Path target = file.toAbsolutePath();
    Path temp = target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
    ReentrantLock lock = WRITE_LOCKS[Math.floorMod(target.hashCode(), LOCK_STRIPES)];
    lock.lock();
    try {
      try (FileChannel ch =
          FileChannel.open(
              temp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        ByteBuffer frame = frame(payload);
        while (frame.hasRemaining()) {
          ch.write(frame);
        }
        ch.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      fsyncDirectory(target.getParent());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Reads and verifies {@code file}.
   *
   * @return the payload, or empty if the file does not exist
   * @throws CorruptMetadataException if the frame, length or checksum is wrong
   */
  public static Optional<byte[]> read(Path file) throws IOException {
    byte[] bytes;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > HEADER_BYTES + MAX_PAYLOAD_BYTES + TRAILER_BYTES) {
        throw new CorruptMetadataException(file, "file of " + size + " bytes is too large");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) size);
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        // keep reading until full or end of file
      }
      bytes = Arrays.copyOf(buf.array(), buf.position());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return Optional.of(unframe(file, bytes));
  }

  /**
   * Creates {@code directory} and any missing parents, each one durable in its own parent before
   * the next is made: a file later made durable inside a new directory is not lost with it.
   */
  public static void createDirectories(Path directory) throws IOException {
    Path abs = directory.toAbsolutePath();
    if (Files.isDirectory(abs)) {
      return;
    }
    Path parent = abs.getParent();
    if (parent != null) {
      createDirectories(parent);
    }
    try {
      Files.createDirectory(abs);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      if (!Files.isDirectory(abs)) {
        throw e;
      }
      return; // made by someone else meanwhile, who makes it durable
    }
    if (parent != null) {
      fsyncDirectory(parent);
    }
  }

  /** Deletes {@code file} (if present) and makes the removal durable. */
  public static void delete(Path file) throws IOException {
    Path target = file.toAbsolutePath();
    if (Files.deleteIfExists(target)) {
      fsyncDirectory(target.getParent());
    }
  }

  static ByteBuffer frame(byte[] payload) {
    ByteBuffer frame =
        ByteBuffer.allocate(HEADER_BYTES + payload.length + TRAILER_BYTES)
            .order(ByteOrder.BIG_ENDIAN);
    frame.putInt(MAGIC).putInt(VERSION).putInt(payload.length).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(frame.array(), 0, frame.position());
    frame.putInt((int) crc.getValue());
    return frame.flip();
  }

  static byte[] unframe(Path file, byte[] bytes) throws CorruptMetadataException {
    if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
      throw new CorruptMetadataException(file, "truncated: only " + bytes.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    int magic = buf.getInt();
    if (magic != MAGIC) {
      throw new CorruptMetadataException(file, "bad magic 0x" + Integer.toHexString(magic));
    }
    int version = buf.getInt();
    int length = buf.getInt();
    if (length < 0 || length != bytes.length - HEADER_BYTES - TRAILER_BYTES) {
      throw new CorruptMetadataException(
          file,
          "length field says "
              + length
              + " payload bytes but the file holds "
              + (bytes.length - HEADER_BYTES - TRAILER_BYTES));
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, HEADER_BYTES + length);
    int stored = ByteBuffer.wrap(bytes, HEADER_BYTES + length, TRAILER_BYTES).getInt();
    if (stored != (int) crc.getValue()) {
      throw new CorruptMetadataException(file, "CRC32C mismatch");
    }
    // Checked after the CRC, so a damaged version field reads as damage, not as a newer format.
    if (version != VERSION) {
      throw new CorruptMetadataException(file, "unsupported frame version " + version);
    }
    return Arrays.copyOfRange(bytes, HEADER_BYTES, HEADER_BYTES + length);
  }

  /** Makes a rename or unlink in {@code directory} durable. */
  static void fsyncDirectory(Path directory) throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  private static ReentrantLock[] newLocks() {
    ReentrantLock[] locks = new ReentrantLock[LOCK_STRIPES];
    for (int i = 0; i < LOCK_STRIPES; i++) {
      locks[i] = new ReentrantLock();
    }
    return locks;
  }
}
