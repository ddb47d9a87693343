package io.duet.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Positional data I/O on a volume file that survives interrupts.
 *
 * <p>A {@link FileChannel} closes itself for everyone when any thread blocked in it is interrupted.
 * Commands run on virtual threads that task management may interrupt (ABORT TASK), so one aborted
 * command would otherwise break the volume for every host. Here the interrupted call fails, the
 * channel is reopened, and other callers that saw the close retry on the new channel. Positional
 * reads and writes are idempotent, so a retry is safe.
 */
final class DataChannel implements AutoCloseable {
  private static final int MAX_REOPEN_RETRIES = 64;
  private static final int ZERO_CHUNK_BYTES = 1 << 20;
  private static final ByteBuffer ZEROS =
      ByteBuffer.allocateDirect(ZERO_CHUNK_BYTES).asReadOnlyBuffer();

  private final Path path;
  private volatile FileChannel channel;
  private volatile boolean closed;

  DataChannel(Path path) throws IOException {
    this.path = path;
    this.channel = openChannel(path);
  }

  /** Fills {@code dst}; bytes past the end of the file read as zeros. Advances dst's position. */
  void readFully(ByteBuffer dst, long position) throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int n = readOnce(dst, pos);
      if (n < 0) {
        // The file is shorter than the volume only after a crash in the middle of a resize.
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      pos += n;
    }
  }

  /** Writes all of {@code src}, advancing its position. */
  void writeFully(ByteBuffer src, long position) throws IOException {
    long pos = position;
    while (src.hasRemaining()) {
      pos += writeOnce(src, pos);
    }
  }

  /** Writes {@code length} zero bytes at {@code position}. */
  void writeZeros(long position, long length) throws IOException {
    long done = 0;
    while (done < length) {
      int n = (int) Math.min(ZERO_CHUNK_BYTES, length - done);
      writeFully(ZEROS.duplicate().limit(n), position + done);
      done += n;
    }
  }

  /**
   * {@code fdatasync(2)}: on Linux {@code FileChannel.force(false)} is exactly that call, and,
   * unlike a raw downcall, it tells the virtual-thread scheduler that the carrier is blocked, so a
   * slow disk flush does not starve every other command of the two carriers.
   */
  void fdatasync() throws IOException {
    for (int attempt = 0; ; attempt++) {
      FileChannel ch = channel;
      try {
        ch.force(false);
        return;
      } catch (ClosedByInterruptException e) {
        reopen(ch);
        throw e;
      } catch (ClosedChannelException e) {
        // A flush on a reopened channel still covers every write that completed before it.
        recover(ch, e, attempt);
      }
    }
  }

  private int readOnce(ByteBuffer dst, long pos) throws IOException {
    for (int attempt = 0; ; attempt++) {
      FileChannel ch = channel;
      try {
        return ch.read(dst, pos);
      } catch (ClosedByInterruptException e) {
        reopen(ch);
        throw e;
      } catch (ClosedChannelException e) {
        recover(ch, e, attempt);
      }
    }
  }

  private int writeOnce(ByteBuffer src, long pos) throws IOException {
    for (int attempt = 0; ; attempt++) {
      FileChannel ch = channel;
      try {
        return ch.write(src, pos);
      } catch (ClosedByInterruptException e) {
        reopen(ch);
        throw e;
      } catch (ClosedChannelException e) {
        recover(ch, e, attempt);
      }
    }
  }

  /** Another thread's interrupt closed the channel under us: reopen it and let the caller retry. */
  private void recover(FileChannel failed, ClosedChannelException e, int attempt)
      throws IOException {
    if (closed || attempt >= MAX_REOPEN_RETRIES) {
      throw e;
    }
    reopen(failed);
  }

  private synchronized void reopen(FileChannel failed) throws IOException {
    if (closed || channel != failed) {
      return;
    }
    failed.close();
    channel = openChannel(path);
  }

  private static FileChannel openChannel(Path path) throws IOException {
    return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  long size() throws IOException {
    return channel.size();
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    channel.close();
  }
}
