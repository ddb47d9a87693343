package io.duet.nbd;

import io.duet.store.OutOfRangeException;
import io.duet.store.Volume;
import io.duet.store.VolumeUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongSupplier;

/**
 * Serves transmission-phase requests of one connection against its export's volume: validates
 * flags, ranges and permissions (mapping each failure to the errno proto.md asks for), runs the
 * volume operation and writes the reply. Called concurrently, one call per in-flight request.
 */
final class Commands {
  /** Descriptors per BLOCK_STATUS reply; proto.md lets a server return fewer than asked. */
  static final int BLOCK_STATUS_DESCRIPTORS_MAX = 256;

  /** Content chunks per structured READ reply before the remainder is sent as plain data. */
  static final int READ_CHUNKS_MAX = 64;

  /**
   * READs up to this long are sent as data without asking the volume where its holes are: a hole
   * chunk would save at most these few bytes on the wire, while the lookup (two lseek calls) cost
   * 14% of the server's CPU in 4 KiB random reads.
   */
  static final int HOLE_LOOKUP_ABOVE_BYTES = 4096;

  private final Session session;
  private final Volume volume;
  private final ReplyWriter replies;
  private final BufferPool buffers;
  private final InlinePolicy policy;
  private final LongSupplier nanoClock;
  private final AvailabilityLog availability = AvailabilityLog.SHARED;

  /**
   * @param policy told how long each READ and WRITE spent in the volume (replies excluded: a client
   *     slow to read its replies is not a slow disk)
   */
  Commands(
      Session session,
      ReplyWriter replies,
      BufferPool buffers,
      InlinePolicy policy,
      LongSupplier nanoClock) {
    this.session = session;
    this.volume = session.export().volume();
    this.replies = replies;
    this.buffers = buffers;
    this.policy = policy;
    this.nanoClock = nanoClock;
  }

  /**
   * Serves {@code r}; {@code payload} is the WRITE data (null for other commands, and for a WRITE
   * whose data was too large to hold and was skipped).
   *
   * @throws IOException only when the reply cannot be written (the connection is broken)
   */
  void serve(Request r, ByteBuffer payload) throws IOException {
    Refusal refusal = refusal(r, payload);
    if (refusal != null) {
      replies.error(r.cookie(), refusal.errno(), refusal.message());
      return;
    }
    try {
      execute(r, payload);
      availability.served(volume, session.export().name());
    } catch (OutOfRangeException e) {
      replies.error(r.cookie(), Nbd.EINVAL, e.getMessage());
    } catch (VolumeUnavailableException e) {
      // Not served at this site now (replica stale or fenced): EIO, and the connection stays so
      // the client can retry here once the site serves again, or use another path meanwhile.
      availability.unavailable(volume, session.export().name(), e);
      replies.error(r.cookie(), Nbd.EIO, "export is not served at this site now");
    } catch (IOException | RuntimeException e) {
      // A failing disk or a bug in one request must not take the connection down: report EIO.
      replies.error(r.cookie(), Nbd.EIO, Request.typeName(r.type()) + " failed: " + e);
    }
  }

  /** Why a request is not run: the errno for the reply and a message for the user. */
  private record Refusal(int errno, String message) {}

  /** Why {@code r} is refused, or null when it may run. */
  private Refusal refusal(Request r, ByteBuffer payload) {
    int type = r.type();
    int allowed =
        switch (type) {
          case Nbd.CMD_READ -> Nbd.CMD_FLAG_FUA | (session.structured() ? Nbd.CMD_FLAG_DF : 0);
          case Nbd.CMD_WRITE, Nbd.CMD_FLUSH, Nbd.CMD_TRIM, Nbd.CMD_CACHE -> Nbd.CMD_FLAG_FUA;
          case Nbd.CMD_WRITE_ZEROES ->
              Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FAST_ZERO;
          case Nbd.CMD_BLOCK_STATUS -> Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_REQ_ONE;
          default -> -1;
        };
    if (allowed < 0) {
      return new Refusal(Nbd.EINVAL, "unknown command " + type);
    }
    if ((r.flags() & ~allowed) != 0) {
      return new Refusal(
          Nbd.EINVAL,
          "flags 0x" + Integer.toHexString(r.flags()) + " not valid for " + Request.typeName(type));
    }
    boolean mutates = type == Nbd.CMD_WRITE || type == Nbd.CMD_TRIM || type == Nbd.CMD_WRITE_ZEROES;
    if (mutates && session.export().readOnly()) {
      return new Refusal(Nbd.EPERM, "export " + session.export().name() + " is read-only");
    }
    if ((type == Nbd.CMD_READ || type == Nbd.CMD_WRITE) && r.length() > Nbd.MAX_PAYLOAD_BYTES
        || type == Nbd.CMD_WRITE && payload == null) {
      return new Refusal(
          Nbd.EOVERFLOW, "" + r.length() + " bytes exceed the maximum of " + Nbd.MAX_PAYLOAD_BYTES);
    }
    if (type == Nbd.CMD_FLUSH) {
      return null; // offset and length are reserved; nothing to check
    }
    if (!r.within(volume.sizeBytes())) {
      // proto.md: ENOSPC for writes beyond the end; EINVAL for reads and queries.
      return new Refusal(
          (mutates ? Nbd.ENOSPC : Nbd.EINVAL),
          "range "
              + Long.toUnsignedString(r.offset())
              + "+"
              + r.length()
              + " is beyond the end ("
              + volume.sizeBytes()
              + " bytes)");
    }
    if (type == Nbd.CMD_BLOCK_STATUS) {
      if (!session.baseAllocation()) {
        return new Refusal(Nbd.EINVAL, "no metadata context was negotiated");
      }
      if (r.length() == 0) {
        return new Refusal(Nbd.EINVAL, "block status of zero bytes");
      }
    }
    if (type == Nbd.CMD_WRITE_ZEROES
        && r.has(Nbd.CMD_FLAG_FAST_ZERO)
        && r.has(Nbd.CMD_FLAG_NO_HOLE)) {
      // Zeroing that keeps the blocks allocated may fall back to writing zeros: not fast.
      return new Refusal(Nbd.ENOTSUP, "zeroing without deallocation is not fast");
    }
    return null;
  }

  private void execute(Request r, ByteBuffer payload) throws IOException {
    boolean fua = r.has(Nbd.CMD_FLAG_FUA);
    switch (r.type()) {
      case Nbd.CMD_READ -> read(r);
      case Nbd.CMD_WRITE -> {
        long start = nanoClock.getAsLong();
        UnalignedIo.write(volume, r.offset(), payload, fua);
        policy.served(r.length(), nanoClock.getAsLong() - start);
        replies.ok(r.cookie());
      }
      case Nbd.CMD_FLUSH -> {
        volume.flush();
        replies.ok(r.cookie());
      }
      case Nbd.CMD_TRIM -> {
        UnalignedIo.trim(volume, r.offset(), r.length(), fua);
        replies.ok(r.cookie());
      }
      case Nbd.CMD_WRITE_ZEROES -> {
        boolean mayDeallocate = !r.has(Nbd.CMD_FLAG_NO_HOLE);
        UnalignedIo.writeZeroes(volume, r.offset(), r.length(), mayDeallocate, fua);
        replies.ok(r.cookie());
      }
      case Nbd.CMD_CACHE -> replies.ok(r.cookie()); // advisory; the page cache does the rest
      case Nbd.CMD_BLOCK_STATUS -> blockStatus(r);
      default -> throw new IllegalStateException("unvalidated command " + r.type());
    }
  }

  /**
   * READ. With structured replies (and no DF), unallocated runs of reads longer than {@link
   * #HOLE_LOOKUP_ABOVE_BYTES} go out as OFFSET_HOLE chunks so their zeros never cross the wire; a
   * fully allocated range is one OFFSET_DATA chunk. A hole is exact: unallocated blocks read as
   * zeros (Volume's contract).
   */
  private void read(Request r) throws IOException {
    long start = nanoClock.getAsLong();
    long end = r.offset() + r.length();
    int bs = volume.blockSize();
    Volume.Extent first = null;
    if (replies.structured() && !r.has(Nbd.CMD_FLAG_DF) && r.length() > HOLE_LOOKUP_ABOVE_BYTES) {
      long aligned = UnalignedIo.floor(r.offset(), bs);
      first = volume.allocation(aligned, end - aligned);
    }
    if (first == null || first.allocated() && first.offset() + first.length() >= end) {
      BufferPool.Lease lease = buffers.acquire((int) r.length());
      try {
        ByteBuffer data = lease.buffer();
        UnalignedIo.read(volume, r.offset(), data);
        policy.served(r.length(), nanoClock.getAsLong() - start);
        replies.readData(r.cookie(), r.offset(), data.flip());
      } finally {
        buffers.release(lease);
      }
      return;
    }
    long pos = r.offset();
    Volume.Extent e = first;
    for (int chunks = 1; pos < end; chunks++) {
      // Past the chunk budget the rest goes as one data chunk: a finely fragmented range must
      // not cost one message per block.
      boolean last = chunks >= READ_CHUNKS_MAX;
      long extentEnd = last ? end : Math.min(e.offset() + e.length(), end);
      if (!e.allocated() && !last) {
        replies.readChunk(r.cookie(), pos, null, extentEnd - pos);
      } else {
        BufferPool.Lease lease = buffers.acquire((int) (extentEnd - pos));
        try {
          ByteBuffer data = lease.buffer();
          UnalignedIo.read(volume, pos, data);
          replies.readChunk(r.cookie(), pos, data.flip(), 0);
        } finally {
          buffers.release(lease);
        }
      }
      pos = extentEnd;
      if (pos < end) {
        long aligned = UnalignedIo.floor(pos, bs);
        e = volume.allocation(aligned, end - aligned);
      }
    }
    replies.done(r.cookie());
  }

  /** base:allocation over {@code r}'s range: unallocated blocks are holes that read as zeros. */
  private void blockStatus(Request r) throws IOException {
    int max = r.has(Nbd.CMD_FLAG_REQ_ONE) ? 1 : BLOCK_STATUS_DESCRIPTORS_MAX;
    long[] lengths = new long[max];
    int[] flags = new int[max];
    int count = 0;
    int bs = volume.blockSize();
    long end = r.offset() + r.length();
    long pos = r.offset();
    while (pos < end) {
      long aligned = UnalignedIo.floor(pos, bs);
      Volume.Extent e = volume.allocation(aligned, end - aligned);
      long extentEnd = Math.min(e.offset() + e.length(), end);
      int status = e.allocated() ? 0 : Nbd.STATE_HOLE | Nbd.STATE_ZERO;
      if (count > 0 && flags[count - 1] == status) {
        lengths[count - 1] += extentEnd - pos;
      } else if (count == max) {
        break;
      } else {
        lengths[count] = extentEnd - pos;
        flags[count++] = status;
      }
      pos = extentEnd;
    }
    replies.blockStatus(r.cookie(), Nbd.BASE_ALLOCATION_ID, lengths, flags, count);
  }
}
