package io.duet.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes transmission-phase replies for one connection. Requests are served concurrently, so every
 * reply (header and payload together) is written under one lock: replies to different requests may
 * come in any order but never interleave their bytes. The first write failure marks the writer
 * broken; later replies are dropped, as the connection is going away anyway.
 *
 * <p>The header goes through one direct buffer owned by the lock holder, and header and payload
 * leave together in one gathering write: no copy of the payload, one system call per reply.
 */
final class ReplyWriter {
  private static final int MAX_MESSAGE_BYTES = 1024;

  /** Room for the largest header: a chunk header with a BLOCK_STATUS payload of 256 descriptors. */
  private static final int HEAD_BYTES_MAX = 4096;

  private final Link link;
  private final boolean structured;
  private final ReentrantLock lock = new ReentrantLock();
  private final ByteBuffer directHead = ByteBuffer.allocateDirect(HEAD_BYTES_MAX); // under lock
  private volatile boolean broken;

  ReplyWriter(Link link, boolean structured) {
    this.link = link;
    this.structured = structured;
  }

  boolean structured() {
    return structured;
  }

  boolean broken() {
    return broken;
  }

  /** A success without payload (WRITE, FLUSH, TRIM, ...). */
  void ok(long cookie) throws IOException {
    if (structured) {
      chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, ByteBuffer.allocate(0), null);
    } else {
      simple(cookie, 0, null);
    }
  }

  /** A failed request: the errno and, with structured replies, a message for the user. */
  void error(long cookie, int errno, String message) throws IOException {
    if (!structured) {
      simple(cookie, errno, null);
      return;
    }
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(m.length, MAX_MESSAGE_BYTES);
    ByteBuffer payload = ByteBuffer.allocate(6 + n).putInt(errno).putShort((short) n).put(m, 0, n);
    chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_ERROR, payload.flip(), null);
  }

  /** Successful READ data; {@code data} holds all of it, already read without error. */
  void readData(long cookie, long offset, ByteBuffer data) throws IOException {
    if (!structured) {
      simple(cookie, 0, data);
      return;
    }
    ByteBuffer head = ByteBuffer.allocate(8).putLong(offset).flip();
    chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_OFFSET_DATA, head, data);
  }

  /** One READ chunk (structured only): data or a hole, not yet the last one. */
  void readChunk(long cookie, long offset, ByteBuffer data, long holeBytes) throws IOException {
    if (data != null) {
      ByteBuffer head = ByteBuffer.allocate(8).putLong(offset).flip();
      chunk(cookie, 0, Nbd.REPLY_TYPE_OFFSET_DATA, head, data);
    } else {
      ByteBuffer hole = ByteBuffer.allocate(12).putLong(offset).putInt((int) holeBytes).flip();
      chunk(cookie, 0, Nbd.REPLY_TYPE_OFFSET_HOLE, hole, null);
    }
  }

  /** The last chunk of a multi-chunk structured reply. */
  void done(long cookie) throws IOException {
    chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, ByteBuffer.allocate(0), null);
  }

  /** A BLOCK_STATUS reply: one context's descriptors as (length, flags) pairs. */
  void blockStatus(long cookie, int contextId, long[] lengths, int[] flags, int count)
      throws IOException {
    ByteBuffer payload = ByteBuffer.allocate(4 + 8 * count).putInt(contextId);
    for (int i = 0; i < count; i++) {
      payload.putInt((int) lengths[i]).putInt(flags[i]);
    }
    chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, payload.flip(), null);
  }

  private void simple(long cookie, int errno, ByteBuffer data) throws IOException {
    ByteBuffer head =
        ByteBuffer.allocate(16).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(errno).putLong(cookie);
    send(head.flip(), data);
  }

  private void chunk(long cookie, int flags, int type, ByteBuffer fixed, ByteBuffer data)
      throws IOException {
    long length = (long) fixed.remaining() + (data == null ? 0 : data.remaining());
    ByteBuffer head =
        ByteBuffer.allocate(20 + fixed.remaining())
            .putInt(Nbd.STRUCTURED_REPLY_MAGIC)
            .putShort((short) flags)
            .putShort((short) type)
            .putLong(cookie)
            .putInt((int) length)
            .put(fixed);
    send(head.flip(), data);
  }

  private void send(ByteBuffer header, ByteBuffer data) throws IOException {
    lock.lock();
    try {
      if (broken) {
        throw new IOException("connection already failed");
      }
      try {
        directHead.clear();
        directHead.put(header).flip();
        if (data == null) {
          link.write(directHead);
        } else {
          link.write(directHead, data);
        }
      } catch (IOException | RuntimeException e) {
        broken = true;
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }
}
