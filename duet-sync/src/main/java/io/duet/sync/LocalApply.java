package io.duet.sync;

import io.duet.store.Volume;
import io.duet.sync.proto.Message.WriteKind;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Applies one replicated write to the local volume; shared by both roles and resync. */
final class LocalApply {
  private LocalApply() {}

  static void apply(Volume v, long offset, long length, WriteKind kind, boolean fua, byte[] data)
      throws IOException {
    switch (kind) {
      case WRITE -> v.write(offset, ByteBuffer.wrap(data), fua);
      case WRITE_ATOMIC -> v.writeAtomic(offset, ByteBuffer.wrap(data), fua);
      case ZEROES -> zero(v, offset, length, true, fua);
      case ZEROES_KEEP -> zero(v, offset, length, false, fua);
      case UNMAP -> {
        v.unmap(offset, length);
        if (fua) {
          v.flush();
        }
      }
    }
  }

  private static void zero(Volume v, long offset, long length, boolean dealloc, boolean fua)
      throws IOException {
    v.writeZeroes(offset, length, dealloc);
    if (fua) {
      v.flush();
    }
  }

  /** Offset of the first differing byte of {@code expected} in the volume's range, or -1. */
  static long compare(Volume v, long offset, byte[] expected) throws IOException {
    ByteBuffer current = ByteBuffer.allocate(expected.length);
    v.read(offset, current);
    long mismatch = ByteBuffer.wrap(expected).mismatch(current.flip());
    return mismatch;
  }
}
