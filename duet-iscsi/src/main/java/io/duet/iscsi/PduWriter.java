package io.duet.iscsi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * Writes PDUs to a connection: header, data, padding and digests in one gathering write from reused
 * direct buffers. Callers fill {@link #header()} and call {@link #send} while holding {@link
 * #lock()}, which also orders StatSN assignment with the bytes on the wire.
 */
final class PduWriter {
  private static final byte[] ZEROS = new byte[4];

  private final GatheringByteChannel channel;
  private final ReentrantLock lock = new ReentrantLock();
  private final Bhs bhs = new Bhs();
  private final ByteBuffer headerBuffer = ByteBuffer.allocateDirect(Bhs.LENGTH + 4);
  private final ByteBuffer tailBuffer = ByteBuffer.allocateDirect(8);
  private final ByteBuffer[] vector = new ByteBuffer[3];
  private final CRC32C crc = new CRC32C();
  private boolean headerDigest;
  private boolean dataDigest;

  PduWriter(GatheringByteChannel channel) {
    this.channel = channel;
  }

  ReentrantLock lock() {
    return lock;
  }

  /** Digests start with the first PDU after the final login response. Call under the lock. */
  void configure(boolean headerDigest, boolean dataDigest) {
    this.headerDigest = headerDigest;
    this.dataDigest = dataDigest;
  }

  /** The header to fill, cleared. Call under the lock. */
  Bhs header() {
    assert lock.isHeldByCurrentThread();
    bhs.clear();
    return bhs;
  }

  /**
   * Sends the filled header with {@code data} (position..limit, may be null) as its data segment;
   * the data buffer's position is left unchanged. Call under the lock.
   */
  void send(ByteBuffer data) throws IOException {
    assert lock.isHeldByCurrentThread();
    int length = data == null ? 0 : data.remaining();
    bhs.dataSegmentLength(length);
    headerBuffer.clear();
    headerBuffer.put(bhs.bytes);
    if (headerDigest) {
      crc.reset();
      crc.update(bhs.bytes, 0, Bhs.LENGTH);
      putDigest(headerBuffer, (int) crc.getValue());
    }
    headerBuffer.flip();
    int pad = (4 - (length & 3)) & 3;
    tailBuffer.clear();
    tailBuffer.put(ZEROS, 0, pad);
    if (dataDigest && length > 0) {
      int start = data.position();
      crc.reset();
      crc.update(data);
      data.position(start);
      crc.update(ZEROS, 0, pad);
      putDigest(tailBuffer, (int) crc.getValue());
    }
    tailBuffer.flip();
    vector[0] = headerBuffer;
    int count = 1;
    int savedPosition = 0;
    if (length > 0) {
      savedPosition = data.position();
      vector[count++] = data;
    }
    if (tailBuffer.hasRemaining()) {
      vector[count++] = tailBuffer;
    }
    try {
      long total = headerBuffer.remaining() + (long) length + tailBuffer.remaining();
      long written = 0;
      while (written < total) {
        long n = channel.write(vector, 0, count);
        if (n < 0) {
          throw new IOException("channel closed");
        }
        written += n;
      }
    } finally {
      if (length > 0) {
        data.position(savedPosition);
      }
      vector[1] = null;
      vector[2] = null;
    }
  }

  private static void putDigest(ByteBuffer buffer, int digest) {
    buffer.put((byte) digest);
    buffer.put((byte) (digest >>> 8));
    buffer.put((byte) (digest >>> 16));
    buffer.put((byte) (digest >>> 24));
  }
}
