package io.duet.scsi;

import java.util.SortedMap;

/**
 * The logical units one initiator sees through one target (LUN masking), live: the node updates
 * it when mappings change, and every session using it gets UA 3F/0E REPORTED LUNS DATA HAS
 * CHANGED. Answers REPORT LUNS and commands to unmapped LUNs itself (INQUIRY with peripheral
 * qualifier 011b, others 05/25/00). Thread-safe.
 *
 * <p>CONTRACT SKELETON — the implementation replaces these bodies.
 */
public final class LunMap {

  /** One mapping: the LU and whether this host may only read it. */
  public record Binding(LogicalUnit unit, boolean readOnly) {}

  public LunMap() {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Replaces the whole mapping at once. */
  public void replace(SortedMap<Integer, Binding> bindings) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Runs a command addressed to {@code lun} on this nexus (the transport decoded the LUN). */
  public ScsiResult execute(int lun, ScsiTask task) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** Data-Out length the command will take, see {@link LogicalUnit#dataOutLength}. */
  public int dataOutLength(int lun, byte[] cdb) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** The LU at {@code lun}, or null; the transport uses it for task management. */
  public LogicalUnit unit(int lun) {
    throw new UnsupportedOperationException("skeleton");
  }

  /** A nexus logged in through this map: every LU gets {@link LogicalUnit#nexusAttached}. */
  public void attach(ItNexus nexus) {
    throw new UnsupportedOperationException("skeleton");
  }
}
