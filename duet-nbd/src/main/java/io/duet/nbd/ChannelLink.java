package io.duet.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A plain-TCP {@link Link} on a blocking {@link SocketChannel}. Small reads (request headers) are
 * served from a direct read-ahead buffer, so a burst of pipelined requests costs one system call;
 * large payloads are read straight into the caller's buffer. Writes are gathering: a reply header
 * and its data leave in one {@code writev}, without being copied together first.
 */
final class ChannelLink implements Link {
  static final int READ_AHEAD_BYTES = 64 << 10;

  private final SocketChannel channel;
  // Between calls: position..limit holds bytes received but not yet consumed.
  private final ByteBuffer readAhead = ByteBuffer.allocateDirect(READ_AHEAD_BYTES);

  /**
   * @param leftover bytes a previous reader of the same stream received but did not consume; they
   *     come first
   */
  ChannelLink(SocketChannel channel, byte[] leftover) {
    if (!channel.isBlocking()) {
      throw new IllegalArgumentException("the channel must be in blocking mode");
    }
    if (leftover.length > READ_AHEAD_BYTES) {
      throw new IllegalArgumentException("leftover of " + leftover.length + " bytes");
    }
    this.channel = channel;
    readAhead.put(leftover).flip();
  }

  @Override
  public void readFully(ByteBuffer dst) throws IOException {
    while (dst.hasRemaining()) {
      if (readAhead.hasRemaining()) {
        int n = Math.min(readAhead.remaining(), dst.remaining());
        dst.put(dst.position(), readAhead, readAhead.position(), n);
        dst.position(dst.position() + n);
        readAhead.position(readAhead.position() + n);
      } else if (dst.isDirect() && dst.remaining() >= READ_AHEAD_BYTES / 2) {
        // Big enough to be worth its own system calls, and the kernel may fill it directly.
        if (channel.read(dst) < 0) {
          throw new EOFException("connection closed in the middle of a request");
        }
      } else {
        fill();
      }
    }
  }

  @Override
  public void skip(long bytes) throws IOException {
    long left = bytes;
    while (left > 0) {
      if (!readAhead.hasRemaining()) {
        fill();
      }
      int n = (int) Math.min(left, readAhead.remaining());
      readAhead.position(readAhead.position() + n);
      left -= n;
    }
  }

  @Override
  public boolean hasBuffered() {
    return readAhead.hasRemaining();
  }

  @Override
  public void write(ByteBuffer... srcs) throws IOException {
    long left = 0;
    for (ByteBuffer b : srcs) {
      left += b.remaining();
    }
    while (left > 0) {
      left -= channel.write(srcs);
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Closing a channel that failed already: nothing left to release.
    }
  }

  /** Refills the (empty) read-ahead buffer with whatever the socket has, blocking for one byte. */
  private void fill() throws IOException {
    readAhead.clear();
    int n = channel.read(readAhead);
    readAhead.flip();
    if (n < 0) {
      throw new EOFException("connection closed");
    }
  }
}
