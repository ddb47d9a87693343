package io.duet.nbd;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;

/**
 * The transmission phase of one connection: this (the connection's) thread reads request headers
 * and write payloads in order, and each request is served on its own virtual thread, so replies may
 * come back out of order as the protocol allows. Two semaphores bound what one connection may hold:
 * requests in flight and buffered payload bytes. When either is exhausted the reader stops reading
 * the socket, and TCP flow control pushes back on the client.
 */
final class Transmission {
  private final Wire wire;
  private final Session session;
  private final int maxInFlight;
  private final Semaphore inFlight;
  private final Semaphore bufferedBytes;

  Transmission(Wire wire, Session session, NbdSettings settings) {
    this.wire = wire;
    this.session = session;
    this.maxInFlight = settings.maxInFlightPerConnection();
    this.inFlight = new Semaphore(maxInFlight);
    this.bufferedBytes = new Semaphore(settings.maxBufferedBytesPerConnection());
  }

  /**
   * Serves requests until DISC, end of stream, a bad request magic or a broken reply stream; then
   * waits for the requests still in flight (proto.md: DISC handles all outstanding requests).
   */
  void run() throws IOException, InterruptedException {
    ReplyWriter replies = new ReplyWriter(wire.out(), session.structured());
    Commands commands = new Commands(session, replies);
    DataInputStream in = wire.in();
    byte[] header = new byte[Nbd.REQUEST_HEADER_BYTES];
    try {
      while (!replies.broken()) {
        inFlight.acquire();
        // The permit belongs to this request from here on: released here unless a request
        // thread took it over, whatever goes wrong while reading.
        boolean handedOver = false;
        try {
          Request r;
          try {
            in.readFully(header);
            r = Request.decode(ByteBuffer.wrap(header));
          } catch (EOFException e) {
            return; // the client hung up between requests
          } catch (MalformedException e) {
            // Without a valid header we cannot know where the next request starts.
            throw new Negotiation.ProtocolViolation(e.getMessage());
          }
          if (r.type() == Nbd.CMD_DISC) {
            return;
          }
          handedOver = dispatch(r, in, commands);
        } finally {
          if (!handedOver) {
            inFlight.release();
          }
        }
      }
    } finally {
      // Let every started request reply before the caller closes the socket.
      inFlight.acquireUninterruptibly(maxInFlight);
    }
  }

  /**
   * Reads the request's payload (if any) and hands the request to a virtual thread.
   *
   * @return true once the thread owns the request's in-flight permit
   */
  private boolean dispatch(Request r, DataInputStream in, Commands commands)
      throws IOException, InterruptedException {
    int held = 0;
    ByteBuffer payload = null;
    boolean small = r.length() <= Nbd.MAX_PAYLOAD_BYTES;
    if (r.type() == Nbd.CMD_WRITE) {
      if (small) {
        held = (int) r.length();
        bufferedBytes.acquire(held);
        byte[] data = new byte[held];
        try {
          in.readFully(data);
        } catch (IOException e) {
          bufferedBytes.release(held);
          throw e;
        }
        payload = ByteBuffer.wrap(data);
      } else {
        // Too large to hold: skip it so the stream stays in step; the request fails EOVERFLOW.
        in.skipNBytes(r.length());
      }
    } else if (r.type() == Nbd.CMD_READ && small) {
      held = (int) r.length(); // the read buffer
      bufferedBytes.acquire(held);
    }
    ByteBuffer data = payload;
    int bytes = held;
    Thread.ofVirtual()
        .name("nbd-request")
        .start(
            () -> {
              try {
                commands.serve(r, data);
              } catch (IOException e) {
                // The reply could not be written: the connection is dead; wake the reader.
                wire.close();
              } finally {
                bufferedBytes.release(bytes);
                inFlight.release();
              }
            });
    return true;
  }
}
