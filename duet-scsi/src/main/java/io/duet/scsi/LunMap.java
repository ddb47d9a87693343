package io.duet.scsi;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The logical units one initiator sees through one target (LUN masking), live: the node updates it
 * when mappings change, and every session using it gets UA 3F/0E REPORTED LUNS DATA HAS CHANGED.
 * Answers REPORT LUNS and commands to unmapped LUNs itself (INQUIRY with peripheral qualifier 011b,
 * others 05/25/00). It is also the scope of EXTENDED COPY: a copy issued through this map reaches
 * only the LUs mapped here, with this map's access to each. Thread-safe.
 */
public final class LunMap {
  /** SAM-5 flat space addressing ends here; larger LUN numbers are refused. */
  private static final int MAX_LUN = 16383;

  private static final byte[] UNMAPPED_INQUIRY = unmappedInquiry();

  /** One mapping: the LU and whether this host may only read it. */
  public record Binding(LogicalUnit unit, boolean readOnly) {
    public Binding {
      Objects.requireNonNull(unit, "unit");
    }
  }

  /** Immutable, replaced whole; the command path reads it without locking. */
  private volatile SortedMap<Integer, Binding> bindings = Collections.emptySortedMap();

  private volatile int[] luns = new int[0];
  private final Set<ItNexus> nexuses = ConcurrentHashMap.newKeySet();

  public LunMap() {}

  /** Replaces the whole mapping at once. */
  public void replace(SortedMap<Integer, Binding> newBindings) {
    SortedMap<Integer, Binding> copy = new TreeMap<>();
    for (var e : newBindings.entrySet()) {
      int lun = e.getKey();
      if (lun < 0 || lun > MAX_LUN) {
        throw new IllegalArgumentException("LUN out of range: " + lun);
      }
      copy.put(lun, Objects.requireNonNull(e.getValue(), "binding"));
    }
    synchronized (this) {
      bindings = Collections.unmodifiableSortedMap(copy);
      luns = copy.keySet().stream().mapToInt(Integer::intValue).toArray();
    }
    for (ItNexus nexus : nexuses) {
      for (Binding b : copy.values()) {
        b.unit().lunsChanged(nexus);
      }
    }
  }

  /** Runs a command addressed to {@code lun} on this nexus (the transport decoded the LUN). */
  public ScsiResult execute(int lun, ScsiTask task) {
    byte[] cdb = task.cdb();
    // REPORT LUNS must work through any LUN, LUN 0 in particular, mapped or not.
    if (cdb.length >= 12 && (cdb[0] & 0xff) == 0xa0) {
      return reportLuns(cdb);
    }
    Binding b = bindings.get(lun);
    if (b == null) {
      return unmapped(cdb);
    }
    ScsiTask effective =
        task.readOnly() == b.readOnly()
            ? task
            : new ScsiTask(
                task.nexus(),
                cdb,
                task.dataOut(),
                task.allocationLimit(),
                task.readOnly() || b.readOnly(),
                task.tag());
    boolean forceReadOnly = task.readOnly();
    return b.unit().execute(effective, naa -> copyTarget(naa, forceReadOnly));
  }

  /**
   * The LU with this NAA among those mapped here. An LU mapped at several LUNs counts as writable
   * when any of its mappings is; a task the transport marked read-only keeps every target
   * read-only.
   */
  private Optional<Binding> copyTarget(byte[] naa, boolean forceReadOnly) {
    Binding found = null;
    for (Binding b : bindings.values()) {
      if ((found == null || found.readOnly()) && Arrays.equals(b.unit().naa(), naa)) {
        found = b;
      }
    }
    if (found == null) {
      return Optional.empty();
    }
    return Optional.of(
        forceReadOnly && !found.readOnly() ? new Binding(found.unit(), true) : found);
  }

  private ScsiResult reportLuns(byte[] cdb) {
    Command cmd = CommandTable.lookup(cdb);
    for (int i = 1; i < cmd.cdbLength(); i++) {
      if ((cdb[i] & ~cmd.usageByte(i) & 0xff) != 0) {
        return Sense.invalidCdbField(i);
      }
    }
    return ReportLuns.respond(cdb, luns);
  }

  private static ScsiResult unmapped(byte[] cdb) {
    if (cdb.length >= 6 && (cdb[0] & 0xff) == 0x12) {
      if ((cdb[1] & 0x01) != 0) {
        return Sense.check(Sense.ILLEGAL_REQUEST, 0x25, 0x00);
      }
      int alloc = BigEndian.u16(cdb, 3);
      return Sense.good(
          ByteBuffer.wrap(UNMAPPED_INQUIRY, 0, Math.min(alloc, UNMAPPED_INQUIRY.length)));
    }
    if (cdb.length >= 6 && (cdb[0] & 0xff) == 0x03) {
      byte[] sense = Sense.fixed(Sense.ILLEGAL_REQUEST, 0x25, 0x00);
      return Sense.good(ByteBuffer.wrap(sense, 0, Math.min(BigEndian.u8(cdb, 4), sense.length)));
    }
    return Sense.check(Sense.ILLEGAL_REQUEST, 0x25, 0x00);
  }

  /** Standard INQUIRY data for a LUN with no logical unit: qualifier 011b, type 1Fh. */
  private static byte[] unmappedInquiry() {
    byte[] d = new byte[36];
    d[0] = 0x7f;
    d[2] = 0x06;
    d[3] = 0x02;
    d[4] = 31;
    byte[] id =
        (Inquiry.VENDOR + Inquiry.PRODUCT + Inquiry.REVISION)
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    System.arraycopy(id, 0, d, 8, 28);
    return d;
  }

  /** Data-Out length the command will take, see {@link LogicalUnit#dataOutLength}. */
  public int dataOutLength(int lun, byte[] cdb) {
    Binding b = bindings.get(lun);
    if (b == null) {
      return cdb.length > 0 && (cdb[0] & 0xff) == 0xa0 ? 0 : -1;
    }
    return b.unit().dataOutLength(cdb);
  }

  /**
   * Every logical unit mapped here, each once even when mapped at several LUNs, in LUN order of its
   * first mapping; a snapshot (target resets walk it).
   */
  public Collection<LogicalUnit> units() {
    Set<LogicalUnit> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<LogicalUnit> out = new ArrayList<>();
    for (Binding b : bindings.values()) {
      if (seen.add(b.unit())) {
        out.add(b.unit());
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** The LU at {@code lun}, or null; the transport uses it for task management. */
  public LogicalUnit unit(int lun) {
    Binding b = bindings.get(lun);
    return b == null ? null : b.unit();
  }

  /** A nexus logged in through this map: every LU gets {@link LogicalUnit#nexusAttached}. */
  public void attach(ItNexus nexus) {
    Objects.requireNonNull(nexus, "nexus");
    nexuses.add(nexus);
    for (Binding b : bindings.values()) {
      b.unit().nexusAttached(nexus);
    }
  }

  /** The nexus logged out: its pending unit attentions are dropped and it is forgotten. */
  public void detach(ItNexus nexus) {
    nexuses.remove(nexus);
    for (Binding b : bindings.values()) {
      b.unit().nexusDetached(nexus);
    }
  }
}
