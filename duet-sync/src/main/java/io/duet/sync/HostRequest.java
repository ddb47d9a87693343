package io.duet.sync;

import io.duet.sync.proto.Message.WriteKind;
import java.util.concurrent.CompletableFuture;

/**
 * A host's write, compare-and-write or flush at this site, on its way through the replicator. The
 * future completes with -1 (done, or compare matched) or the mismatch offset of a
 * compare-and-write, or exceptionally.
 */
final class HostRequest {
  enum Type {
    WRITE,
    COMPARE_AND_WRITE,
    FLUSH
  }

  final Type type;
  final int volume;
  final long offset;
  final long length;
  final WriteKind kind;
  final boolean fua;
  final byte[] data;
  final byte[] expected;
  final CompletableFuture<Long> done = new CompletableFuture<>();

  private HostRequest(
      Type type,
      int volume,
      long offset,
      long length,
      WriteKind kind,
      boolean fua,
      byte[] data,
      byte[] expected) {
    this.type = type;
    this.volume = volume;
    this.offset = offset;
    this.length = length;
    this.kind = kind;
    this.fua = fua;
    this.data = data;
    this.expected = expected;
  }

  static HostRequest write(
      int volume, long offset, long length, WriteKind kind, boolean fua, byte[] data) {
    return new HostRequest(Type.WRITE, volume, offset, length, kind, fua, data, null);
  }

  static HostRequest compareAndWrite(
      int volume, long offset, boolean fua, byte[] expected, byte[] data) {
    return new HostRequest(
        Type.COMPARE_AND_WRITE, volume, offset, data.length, WriteKind.WRITE, fua, data, expected);
  }

  static HostRequest flush(int volume) {
    return new HostRequest(Type.FLUSH, volume, 0, 0, WriteKind.WRITE, false, null, null);
  }
}
