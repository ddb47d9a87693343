package io.duet.iscsi;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * An endless in-memory stream: the same bytes over and over, handed out in reads of at most {@code
 * chunkBytes} (a socket rarely returns a whole large PDU in one read). Stands in for the TCP socket
 * so the benchmark measures the reader, not the network.
 */
final class LoopChannel implements ReadableByteChannel {
  private final byte[] stream;
  private final int chunkBytes;
  private int position;

  LoopChannel(byte[] stream, int chunkBytes) {
    if (stream.length == 0 || chunkBytes <= 0) {
      throw new IllegalArgumentException("empty stream or chunk");
    }
    this.stream = stream.clone();
    this.chunkBytes = chunkBytes;
  }

  @Override
  public int read(ByteBuffer dst) {
    int n = Math.min(Math.min(dst.remaining(), chunkBytes), stream.length - position);
    dst.put(stream, position, n);
    position += n;
    if (position == stream.length) {
      position = 0;
    }
    return n;
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}
}
