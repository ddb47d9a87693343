package io.duet.sync.link;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

/**
 * One TLS connection of a link, with its bounded send queue and its writer. The streams are made
 * once, so bytes the hello exchange buffered are not lost to the reader. A connection dies once;
 * after {@link #kill} nothing more is written or delivered from it.
 */
final class Connection {
  private static final int WRITE_BATCH = 64;

  final SSLSocket socket;
  final boolean outgoing;
  final DataInputStream in;
  final DataOutputStream out;
  private final ArrayBlockingQueue<byte[]> queue;
  private volatile boolean dead;
  private volatile Thread writer;

  Connection(SSLSocket socket, boolean outgoing, int queueFrames) throws IOException {
    this.socket = socket;
    this.outgoing = outgoing;
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
    this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 64 * 1024));
    this.queue = new ArrayBlockingQueue<>(queueFrames);
  }

  boolean offer(byte[] frame) {
    return !dead && queue.offer(frame);
  }

  boolean dead() {
    return dead;
  }

  /** Writes a frame directly (the hello exchange, before the writer runs). */
  void writeNow(byte[] frame) throws IOException {
    FrameIo.write(out, frame);
    out.flush();
  }

  /**
   * The writer loop: queued frames in order, batched before each flush; a keepalive when nothing
   * was sent for {@code keepaliveMs}. Returns (with the cause) when the connection dies.
   */
  IOException writeLoop(long keepaliveMs) {
    writer = Thread.currentThread();
    List<byte[]> batch = new ArrayList<>(WRITE_BATCH);
    try {
      while (!dead) {
        byte[] first = queue.poll(keepaliveMs, TimeUnit.MILLISECONDS);
        if (dead) {
          break;
        }
        if (first == null) {
          FrameIo.write(out, FrameIo.KEEPALIVE);
        } else {
          batch.add(first);
          queue.drainTo(batch, WRITE_BATCH - 1);
          for (byte[] f : batch) {
            FrameIo.write(out, f);
          }
          batch.clear();
        }
        out.flush();
      }
      return null;
    } catch (IOException e) {
      return e;
    } catch (InterruptedException e) {
      return null; // kill() interrupts us
    }
  }

  void kill() {
    dead = true;
    queue.clear();
    Thread w = writer;
    if (w != null) {
      w.interrupt();
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing a broken TLS socket may fail to send close_notify; it is closed either way.
    }
  }
}
