package io.duet.iscsi;

import io.duet.scsi.ScsiResult;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One SCSI command of a session from arrival to its response: its Data-Out collection, its
 * execution on a virtual thread, and whether it was answered or aborted. {@link #phase} is only
 * changed under the connection's writer lock, so "answered" and "aborted" exclude each other.
 */
final class Task {
  /** Where the command stands. */
  enum Phase {
    COLLECTING,
    EXECUTING,
    ANSWERED,
    ABORTED
  }

  final int itt;
  final int lun;
  final long lunField;
  final byte[] cdb;
  final boolean immediate;
  final boolean read;
  final boolean write;
  final int edtl;
  final int wanted;
  final ByteBuffer buffer;
  final DataOutSequencer sequencer;

  /** Set when the transport answers the command itself (residual overflow, bidi, limits...). */
  ScsiResult transportResult;

  /** Write residual: positive underflow, negative overflow, relative to EDTL. */
  long writeResidual;

  Phase phase = Phase.COLLECTING;
  private final AtomicBoolean finished = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);

  Task(
      int itt,
      int lun,
      long lunField,
      byte[] cdb,
      boolean immediate,
      boolean read,
      boolean write,
      int edtl,
      int wanted,
      ByteBuffer buffer,
      DataOutSequencer sequencer) {
    this.itt = itt;
    this.lun = lun;
    this.lunField = lunField;
    this.cdb = cdb;
    this.immediate = immediate;
    this.read = read;
    this.write = write;
    this.edtl = edtl;
    this.wanted = wanted;
    this.buffer = buffer;
    this.sequencer = sequencer;
  }

  /** Marks the bookkeeping done once; returns true for the single caller that must do it. */
  boolean finish() {
    if (finished.compareAndSet(false, true)) {
      done.countDown();
      return true;
    }
    return false;
  }

  boolean awaitDone(long timeoutMs) throws InterruptedException {
    return done.await(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** EDTL as an unsigned number. */
  long edtlUnsigned() {
    return edtl & 0xffffffffL;
  }
}
