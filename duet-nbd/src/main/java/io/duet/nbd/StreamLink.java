package io.duet.nbd;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;

/**
 * A {@link Link} over byte streams: what a TLS connection offers. Direct buffers are copied through
 * a bounded scratch array on the way in and out.
 */
final class StreamLink implements Link {
  private static final int SCRATCH_BYTES = 64 << 10;

  private final DataInputStream in;
  private final OutputStream out;
  private final BooleanSupplier buffered;
  private final Runnable closer;
  private final byte[] readScratch = new byte[SCRATCH_BYTES]; // reader thread only
  private final byte[] writeScratch = new byte[SCRATCH_BYTES]; // writers are serialized

  /**
   * @param buffered whether {@code in} holds bytes it received but nobody has read yet
   * @param closer closes the underlying connection
   */
  StreamLink(DataInputStream in, OutputStream out, BooleanSupplier buffered, Runnable closer) {
    this.in = in;
    this.out = out;
    this.buffered = buffered;
    this.closer = closer;
  }

  @Override
  public void close() {
    closer.run();
  }

  @Override
  public void readFully(ByteBuffer dst) throws IOException {
    if (dst.hasArray()) {
      in.readFully(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
      dst.position(dst.limit());
      return;
    }
    while (dst.hasRemaining()) {
      int n = Math.min(dst.remaining(), SCRATCH_BYTES);
      in.readFully(readScratch, 0, n);
      dst.put(readScratch, 0, n);
    }
  }

  @Override
  public void skip(long bytes) throws IOException {
    in.skipNBytes(bytes);
  }

  @Override
  public boolean hasBuffered() {
    return buffered.getAsBoolean();
  }

  @Override
  public void write(ByteBuffer... srcs) throws IOException {
    for (ByteBuffer b : srcs) {
      if (b.hasArray()) {
        out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
        b.position(b.limit());
        continue;
      }
      while (b.hasRemaining()) {
        int n = Math.min(b.remaining(), SCRATCH_BYTES);
        b.get(writeScratch, 0, n);
        out.write(writeScratch, 0, n);
      }
    }
    out.flush();
  }
}
