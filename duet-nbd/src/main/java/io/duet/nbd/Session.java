package io.duet.nbd;

/**
 * What negotiation settled for one connection's transmission phase.
 *
 * @param export the export being served
 * @param structured whether structured replies were negotiated
 * @param baseAllocation whether {@code base:allocation} was selected for this export
 * @param transmissionFlags the flags sent to the client
 */
record Session(
    ExportCatalog.Export export,
    boolean structured,
    boolean baseAllocation,
    int transmissionFlags) {

  /** The transmission flags of {@code export} for a client with or without structured replies. */
  static int flagsFor(ExportCatalog.Export export, boolean structured) {
    int flags =
        Nbd.TF_HAS_FLAGS
            | Nbd.TF_SEND_FLUSH
            | Nbd.TF_SEND_FUA
            | Nbd.TF_SEND_CACHE
            // Volume.flush() is volume-wide (fdatasync of the one data file every connection
            // writes through, no per-connection cache), so a FLUSH on any connection makes every
            // write completed on any connection durable: exactly what CAN_MULTI_CONN promises.
            | Nbd.TF_CAN_MULTI_CONN;
    if (export.readOnly()) {
      flags |= Nbd.TF_READ_ONLY;
    } else {
      flags |= Nbd.TF_SEND_TRIM | Nbd.TF_SEND_WRITE_ZEROES | Nbd.TF_SEND_FAST_ZERO;
    }
    if (structured) {
      flags |= Nbd.TF_SEND_DF; // with DF a READ is answered in one data chunk
    }
    return flags;
  }
}
