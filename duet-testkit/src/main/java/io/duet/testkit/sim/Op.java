package io.duet.testkit.sim;

/**
 * One host operation in a run's history: invoked at a virtual time, completed (or not) later. A
 * write that failed or never completed is indeterminate: it may or may not have taken effect.
 */
final class Op {
  enum Kind {
    WRITE,
    READ,
    FLUSH
  }

  enum Outcome {
    PENDING,
    OK,
    FAILED,
    /**
     * A compare-and-write that found something other than {@link #expected}: it wrote nothing, so
     * every check of writes treats it as one that never took effect; G2 checks what it compared.
     */
    MISCOMPARE
  }

  /** Completion time of an operation that never completed. */
  static final long NEVER = Long.MAX_VALUE;

  final int id;
  final String site;
  final int client;
  final Kind kind;
  final long firstBlock;
  final int blocks;

  /** The unique value a write stamps on its blocks (0 for reads and flushes). */
  final long value;

  final long invokeNanos;
  long completeNanos = NEVER;
  Outcome outcome = Outcome.PENDING;

  /** A read's result, per block (null until it completes). */
  long[] readValues;

  String error;

  Op(
      int id,
      String site,
      int client,
      Kind kind,
      long firstBlock,
      int blocks,
      long value,
      long invokeNanos) {
    this.id = id;
    this.site = site;
    this.client = client;
    this.kind = kind;
    this.firstBlock = firstBlock;
    this.blocks = blocks;
    this.value = value;
    this.invokeNanos = invokeNanos;
  }

  /** A write with FUA: durable at both sites once acknowledged. */
  boolean fua;

  /** A write issued as WRITE ATOMIC: all of its blocks or none, never split. */
  boolean atomic;

  /**
   * A write issued as COMPARE AND WRITE of one block: it writes {@link #value} only if the block
   * holds {@link #expected} at that instant, at whichever site it runs.
   */
  boolean compare;

  long expected;

  /** A write issued across a replication chunk boundary (the replicator splits it). */
  boolean acrossChunks;

  /**
   * A write of zeros, UNMAP or WRITE ZEROES ({@link #unmap} says which): its blocks read as 0, the
   * initial content, so {@link #value} only names the operation; G2 sees it write 0.
   */
  boolean zeroes;

  boolean unmap;

  /** What a write leaves in its blocks as {@link BlockData} decodes them. */
  long registerValue() {
    return zeroes ? 0 : value;
  }

  /**
   * The group's volume it addressed. Block numbers are the site disk's, on which the volumes lie
   * side by side; a FLUSH covers its own volume only.
   */
  int volume;

  /**
   * Lost by design, so G1 and G2 no longer count it: given up by an operator's forced failover
   * (what the old leader did after losing contact), or, for a write, excused by a power loss that
   * took its only, un-flushed copies ({@link PowerLossLedger}; reads of its value are dropped too).
   */
  boolean discarded;

  /** The operation as the host issued it (for the run's tally). */
  String label() {
    if (kind != Kind.WRITE) {
      return kind.name();
    }
    if (zeroes) {
      return unmap ? "UNMAP" : "WRITE_ZEROES";
    }
    return compare
        ? "COMPARE_AND_WRITE"
        : atomic ? "WRITE_ATOMIC" : acrossChunks ? "WRITE_ACROSS_CHUNKS" : "WRITE";
  }

  boolean ok() {
    return outcome == Outcome.OK;
  }

  boolean covers(long block) {
    return block >= firstBlock && block < firstBlock + blocks;
  }

  @Override
  public String toString() {
    String range = blocks == 1 ? "b" + firstBlock : "b" + firstBlock + "+" + blocks;
    String what =
        switch (kind) {
          case WRITE ->
              zeroes
                  ? (unmap ? "unmap " : "zeroes ") + Long.toHexString(value) + " " + range
                  : (compare
                          ? "caw " + Long.toHexString(expected) + "->"
                          : atomic ? "atomic " : "write ")
                      + Long.toHexString(value)
                      + " "
                      + range
                      + (fua ? " fua" : "");
          case READ -> "read " + range + (readValues == null ? "" : " -> " + hex(readValues));
          case FLUSH -> "flush";
        };
    return String.format(
        "#%d %s/c%d %s [%s .. %s] %s%s",
        id,
        site,
        client,
        what,
        ms(invokeNanos),
        completeNanos == NEVER ? "never" : ms(completeNanos),
        outcome,
        error == null ? "" : " (" + error + ")");
  }

  private static String hex(long[] values) {
    StringBuilder sb = new StringBuilder();
    for (long v : values) {
      sb.append(sb.isEmpty() ? "" : ",").append(Long.toHexString(v));
    }
    return sb.toString();
  }

  static String ms(long nanos) {
    return String.format("%d.%03d", nanos / 1_000_000, nanos / 1_000 % 1000);
  }
}
