package io.duet.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The byte stream of one connection in the transmission phase. One thread reads (the connection's
 * reader); writes come from many threads but are serialized by the caller ({@link ReplyWriter}).
 */
interface Link {
  /**
   * Fills {@code dst} to its limit.
   *
   * @throws java.io.EOFException the stream ended first
   */
  void readFully(ByteBuffer dst) throws IOException;

  /** Reads and drops {@code bytes} bytes. */
  void skip(long bytes) throws IOException;

  /**
   * Whether bytes already received are waiting to be read: the client has sent more than the reader
   * consumed, so another request is (at least partly) here.
   */
  boolean hasBuffered();

  /** Writes every byte of {@code srcs}, in order, as one message where the transport allows. */
  void write(ByteBuffer... srcs) throws IOException;

  /** Closes the connection (a reply could not be written); wakes a blocked reader. Idempotent. */
  void close();
}
