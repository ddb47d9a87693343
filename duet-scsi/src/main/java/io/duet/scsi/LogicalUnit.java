package io.duet.scsi;

import io.duet.store.Volume;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * A SCSI logical unit (SBC-3 direct-access block device) over one {@link Volume}: decodes CDBs,
 * enforces ALUA and persistent reservations, keeps unit attentions per I_T nexus. Thread-safe;
 * commands run concurrently on the transport's virtual threads.
 */
public final class LogicalUnit {
  /**
   * 29/00 POWER ON, RESET, OR BUS DEVICE RESET OCCURRED after login and after a reset: SPC-4 allows
   * the generic code for both, and hosts (libiscsi's tools, iscsi-ls) retry only on this one.
   */
  private static final int UA_RESET_ASC = 0x29;

  private static final int UA_RESET_ASCQ = 0x00;

  /** 29/03 BUS DEVICE RESET FUNCTION OCCURRED: what the other nexuses see of a LU reset. */
  private static final int UA_LU_RESET_ASCQ = 0x03;

  private static final System.Logger LOG = System.getLogger(LogicalUnit.class.getName());

  private final Volume volume;
  private final ScsiSite site;
  private final BlockLimits limits;
  final UnitAttentions unitAttentions = new UnitAttentions();
  private final PersistentReservations reservations;
  private final ExtendedCopy extendedCopy;
  private final ModePages modePages;
  private final Inquiry inquiry;
  private final BlockCommands block;
  private final Provisioning provisioning;
  private final AtomicWrite atomicWrite;

  /** The two-site ALUA view of a replicated unit, or null: the site's groups apply. */
  private volatile UnitAlua unitAlua;

  private final BiConsumer<UnitAlua.Snapshot, UnitAlua.Snapshot> unitAluaListener =
      this::unitAluaChanged;

  /** Orders shared-state changes with the other site's; null: they apply here at once. */
  private volatile SharedUnitState shared;

  /**
   * @param volume the backing volume
   * @param site the site's SCSI context: the ALUA port groups every LU of the site follows
   * @param persistence where PR state with APTPL is kept across restarts
   */
  public LogicalUnit(Volume volume, ScsiSite site, PersistentState persistence) {
    this.volume = Objects.requireNonNull(volume, "volume");
    this.site = Objects.requireNonNull(site, "site");
    Objects.requireNonNull(persistence, "persistence");
    this.limits = BlockLimits.forVolume(volume.blockSize(), volume.unmapGranularityBytes());
    this.reservations = new PersistentReservations(persistence, unitAttentions);
    this.extendedCopy = new ExtendedCopy(this);
    this.modePages = new ModePages(volume);
    this.inquiry = new Inquiry(volume, limits, extendedCopy);
    this.block = new BlockCommands(volume, limits, modePages);
    this.provisioning = new Provisioning(volume, limits, modePages);
    this.atomicWrite = new AtomicWrite(volume, limits, modePages);
    site.register(this);
  }

  /**
   * Runs one command to completion. Never throws for bad input: it returns CHECK CONDITION. Called
   * directly (not through a {@link LunMap}), EXTENDED COPY may only name this LU as copy target.
   */
  public ScsiResult execute(ScsiTask task) {
    return execute(task, ExtendedCopyTargets.only(this, task.readOnly()));
  }

  /** Runs one command; EXTENDED COPY resolves its copy targets in {@code copyTargets} only. */
  ScsiResult execute(ScsiTask task, ExtendedCopyTargets copyTargets) {
    try {
      return run(task, copyTargets);
    } catch (RuntimeException e) {
      // A bug must cost one command, never the connection or the node.
      return Sense.internalFailure();
    }
  }

  private ScsiResult run(ScsiTask task, ExtendedCopyTargets copyTargets) {
    byte[] cdb = task.cdb();
    Command cmd = CommandTable.lookup(cdb);
    if (cmd == null) {
      return unknown(cdb);
    }
    ScsiResult bad = checkCdb(cmd, cdb);
    if (bad != null) {
      return bad;
    }
    ItNexus nexus = task.nexus();
    if (!cmd.is(Command.UA_EXEMPT) && unitAttentions.hasAny()) {
      var ua = unitAttentions.take(nexus);
      if (ua.isPresent()) {
        return Sense.check(ua.get());
      }
    }
    ScsiResult denied = aluaCheck(cmd, nexus);
    if (denied != null) {
      return denied;
    }
    if (reservations.conflicts(nexus, cdb)) {
      return Sense.reservationConflict();
    }
    if (task.readOnly() && cmd.is(Command.WRITE)) {
      return Sense.writeProtected();
    }
    return dispatch(cmd, task, copyTargets);
  }

  /** 05/20/00, or 05/24/00 on the service action byte when only the service action is unknown. */
  private static ScsiResult unknown(byte[] cdb) {
    if (cdb.length > 1 && CommandTable.hasServiceAction(cdb[0])) {
      return Sense.invalidCdbField(1);
    }
    return Sense.invalidOpcode();
  }

  /** CDB sanity: long enough, and no bit set that the usage mask marks reserved/unsupported. */
  private static ScsiResult checkCdb(Command cmd, byte[] cdb) {
    if (cdb.length < cmd.cdbLength()) {
      return Sense.invalidCdbField(0);
    }
    if (cmd.is(Command.DELEGATED)) {
      return null;
    }
    for (int i = 1; i < cmd.cdbLength(); i++) {
      int extra = (cdb[i] & 0xff) & ~cmd.usageByte(i);
      if (extra != 0) {
        int bit = 31 - Integer.numberOfLeadingZeros(extra);
        return Sense.check(Sense.illegalField(0x24, 0x00, true, i, bit));
      }
    }
    return null;
  }

  /**
   * The access state enforced on a command: that of the group of the port it came through, as the
   * issuing host sees it.
   */
  private AluaState aluaState(ItNexus nexus) {
    int group = nexus.targetPort().portGroupId();
    UnitAlua view = unitAlua;
    AluaState state = view == null ? null : view.state(nexus.initiatorName(), group);
    // A port outside the unit's view (mis-wired, or a portal added later) follows the site.
    return state != null ? state : site.alua().state(group);
  }

  private ScsiResult aluaCheck(Command cmd, ItNexus nexus) {
    return switch (aluaState(nexus)) {
      case ACTIVE_OPTIMIZED, ACTIVE_NON_OPTIMIZED -> null;
      case STANDBY ->
          cmd.access() == Command.Access.ACTIVE ? Sense.check(Sense.NOT_READY, 0x04, 0x0b) : null;
      case UNAVAILABLE ->
          cmd.access() != Command.Access.ANY_STATE
              ? Sense.check(Sense.NOT_READY, 0x04, 0x0c)
              : null;
      case TRANSITIONING ->
          cmd.access() != Command.Access.ANY_STATE
              ? Sense.check(Sense.NOT_READY, 0x04, 0x0a)
              : null;
    };
  }

  private ScsiResult dispatch(Command cmd, ScsiTask task, ExtendedCopyTargets copyTargets) {
    byte[] cdb = task.cdb();
    ItNexus nexus = task.nexus();
    return switch (cmd.opcode()) {
      case 0x00, 0x1b, 0x1e -> Sense.good(); // TUR; START STOP and PREVENT ALLOW: not removable
      case 0x03 -> requestSense(task);
      case 0x12 -> inquiry.execute(cdb, nexus.targetPort());
      case 0x15, 0x55 -> modeSelect(task);
      case 0x1a, 0x5a -> modePages.sense(cdb, task.readOnly());
      case 0x16, 0x56 -> reservations.reserve(nexus, cdb);
      case 0x17, 0x57 -> reservations.release(nexus, cdb);
      case 0x25 -> block.readCapacity10(cdb);
      case 0x08, 0x28, 0xa8, 0x88 -> block.read(cdb);
      case 0x0a, 0x2a, 0xaa, 0x8a -> block.write(cdb, task.dataOut());
      case 0x2e, 0xae, 0x8e -> block.writeAndVerify(cdb, task.dataOut());
      case 0x2f, 0xaf, 0x8f -> block.verify(cdb, task.dataOut());
      case 0x34, 0x90 -> block.prefetch(cdb);
      case 0x35, 0x91 -> block.synchronizeCache(cdb);
      case 0x37, 0xb7 -> BlockCommands.readDefectData(cdb);
      case 0x41, 0x93 -> provisioning.writeSame(cdb, task.dataOut());
      case 0x42 -> provisioning.unmap(cdb, task.dataOut());
      case 0x5e -> reservations.persistentReserveIn(nexus, cdb, task.allocationLimit());
      case 0x5f ->
          parameterListCut(task)
              ? Sense.dataOutTooShort()
              : reservations.persistentReserveOut(nexus, cdb, task.dataOut());
      case 0x83 -> extendedCopy.extendedCopy(nexus, cdb, task.dataOut(), copyTargets);
      case 0x84 -> extendedCopy.receiveCopyResults(nexus, cdb, task.allocationLimit());
      case 0x89 -> block.compareAndWrite(cdb, task.dataOut());
      case 0x8b -> block.orWrite(cdb, task.dataOut());
      case 0x9c -> atomicWrite.execute(cdb, task.dataOut());
      case 0x9e ->
          cmd.serviceAction() == 0x10 ? block.readCapacity16(cdb) : provisioning.lbaStatus(cdb);
      case 0xa0 -> ReportLuns.respond(cdb, new int[] {0});
      case 0xa3 -> maintenanceIn(cmd, cdb, nexus);
      default -> Sense.internalFailure(); // the table lists a command this switch forgot
    };
  }

  private ScsiResult maintenanceIn(Command cmd, byte[] cdb, ItNexus nexus) {
    return switch (cmd.serviceAction()) {
      case 0x0a -> PortGroupReport.respond(cdb, portGroups(nexus));
      case 0x0c -> SupportedOperations.opcodes(cdb);
      case 0x0d -> SupportedOperations.taskManagement(cdb);
      default -> Sense.invalidCdbField(1);
    };
  }

  /** The port groups RTPG reports to the host of {@code nexus}. */
  private List<PortGroupReport.Group> portGroups(ItNexus nexus) {
    UnitAlua view = unitAlua;
    return view == null
        ? PortGroupReport.of(site.alua())
        : view.snapshot().report(nexus.initiatorName());
  }

  /**
   * MODE SELECT: checked here, so a bad parameter list gets its CHECK CONDITION at this site and
   * never travels; a caching page is then applied through the shared state (at both sites, in their
   * common order) or, without one, here at once. A list without a caching page changes nothing.
   *
   * <p>Unlike a reset, a replicated MODE SELECT the sites cannot agree on is never applied here
   * alone: a WCE only one site knows breaks the promise either way (WCE=0 here alone leaves the
   * other site acknowledging from its page cache to a host that believes the device is
   * write-through). The host gets the shared path's answer instead: NOT READY 02/04/0C when this
   * site must not serve (a path to the other site can agree), or HARDWARE ERROR 04/44/00 when the
   * agreement failed or timed out; then the change may still arrive here through the leader's order
   * or a resync's snapshot, and a host that must know reads the page again with MODE SENSE.
   */
  private ScsiResult modeSelect(ScsiTask task) {
    ModePages.Selection s = modePages.check(task.cdb(), task.dataOut());
    if (s.error() != null) {
      return s.error();
    }
    if (s.writeCache() == null) {
      return Sense.good();
    }
    // Sent even when it restates this site's WCE: a change from the other site may be ordered
    // before it, and only the common order says whether this one changes anything.
    var command = new SharedCommand.ModeSelect(task.nexus(), s.writeCache());
    SharedUnitState via = shared;
    return via == null
        ? applyModeSelect(command)
        : SharedCommand.await(via.submit(SharedCommand.encode(command)));
  }

  /**
   * Deterministic at either site: WCE takes the new value and, if that changed it, every nexus of
   * this site but the issuer gets UA 2A/01 MODE PARAMETERS CHANGED.
   */
  private ScsiResult applyModeSelect(SharedCommand.ModeSelect select) {
    if (modePages.setWriteCache(select.writeCacheEnabled())) {
      unitAttentions.raiseAll(select.issuer(), 0x2a, 0x01);
    }
    return Sense.good();
  }

  /** REQUEST SENSE: the pending unit attention (consumed) or NO SENSE, fixed or descriptor. */
  private ScsiResult requestSense(ScsiTask task) {
    byte[] cdb = task.cdb();
    boolean descriptor = (cdb[1] & 0x01) != 0;
    int alloc = BigEndian.u8(cdb, 4);
    byte[] sense = unitAttentions.take(task.nexus()).orElseGet(() -> notReadySense(task.nexus()));
    if (descriptor) {
      sense = Sense.toDescriptor(sense);
    }
    return Sense.good(ByteBuffer.wrap(sense, 0, Math.min(alloc, sense.length)));
  }

  /**
   * SPC-4: without a pending condition REQUEST SENSE describes the LU's readiness, so a port in a
   * standby, unavailable or transitioning group reports why it cannot do I/O.
   */
  private byte[] notReadySense(ItNexus nexus) {
    return switch (aluaState(nexus)) {
      case ACTIVE_OPTIMIZED, ACTIVE_NON_OPTIMIZED -> Sense.fixed(Sense.NO_SENSE, 0, 0);
      case STANDBY -> Sense.fixed(Sense.NOT_READY, 0x04, 0x0b);
      case UNAVAILABLE -> Sense.fixed(Sense.NOT_READY, 0x04, 0x0c);
      case TRANSITIONING -> Sense.fixed(Sense.NOT_READY, 0x04, 0x0a);
    };
  }

  /**
   * How many Data-Out bytes this CDB transfers (0 for commands without Data-Out), so the transport
   * knows how much to solicit; -1 when the CDB is malformed or unknown (the transport then still
   * calls {@link #execute}, which answers the proper CHECK CONDITION).
   */
  public int dataOutLength(byte[] cdb) {
    try {
      Command cmd = CommandTable.lookup(cdb);
      if (cmd == null || cdb.length < cmd.cdbLength()) {
        return -1;
      }
      long bytes = DataOut.length(cdb, volume.blockSize());
      return bytes < 0 || bytes > Integer.MAX_VALUE ? -1 : (int) bytes;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /**
   * LOGICAL UNIT RESET (or a target reset) from {@code by}, at both sites of a replicated unit:
   * SPC-2 reservations and held copy results go; {@code by} gets UA 29/00, every other nexus 29/03.
   * When the sites cannot agree now, this site's nexuses still see the reset.
   */
  public void reset(ItNexus by) {
    Objects.requireNonNull(by, "by");
    SharedUnitState via = shared;
    if (via != null) {
      ScsiResult r =
          SharedCommand.await(via.submit(SharedCommand.encode(new SharedCommand.Reset(by))));
      if (r.status() == ScsiResult.GOOD) {
        return;
      }
    }
    applyReset(by);
  }

  /**
   * Deterministic at either site. The resetting nexus gets the generic 29/00, which hosts (libiscsi
   * among them) expect after a reset they issued; the others learn of it by 29/03 (SAM-5).
   */
  private ScsiResult applyReset(ItNexus by) {
    reservations.reset();
    extendedCopy.reset();
    unitAttentions.raiseIfKnown(by, UA_RESET_ASC, UA_RESET_ASCQ);
    unitAttentions.raiseAll(by, UA_RESET_ASC, UA_LU_RESET_ASCQ);
    return Sense.good();
  }

  /**
   * Makes this unit send its shared-state changes (PERSISTENT RESERVE OUT, resets, MODE SELECT)
   * through {@code via}, which applies them at both sites in one order; null: apply them here at
   * once (the default, for a unit that is not replicated).
   */
  public void useSharedState(SharedUnitState via) {
    shared = via;
    reservations.useShared(via);
  }

  /**
   * Applies one shared-state command (from {@link SharedUnitState#submit}, at this site or the
   * other) and returns its result. Deterministic: the same state and command give the same state
   * and result at both sites. Never throws: malformed bytes give a result saying so (CHECK
   * CONDITION 04/44/00 with the reason).
   */
  public byte[] applyShared(byte[] command) {
    try {
      ScsiResult r =
          switch (SharedCommand.decode(command)) {
            case SharedCommand.Reset reset -> applyReset(reset.issuer());
            case SharedCommand.ModeSelect select -> applyModeSelect(select);
            case SharedCommand c -> reservations.apply(c, false);
          };
      return SharedCommand.encodeResult(r, "");
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.ERROR, "malformed shared unit command: {0}", e.getMessage());
      return SharedCommand.encodeResult(
          Sense.internalFailure(), "malformed shared unit command: " + e.getMessage());
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "shared unit command failed", e);
      return SharedCommand.encodeResult(
          Sense.internalFailure(), "shared unit command failed: " + e);
    }
  }

  /**
   * The whole shared state (the caching page's WCE; persistent reservations: generation,
   * registrations, reservation, APTPL; the SPC-2 reservation) as bytes, for the other site's {@link
   * #installShared} when it resynchronizes. A replicated unit's WCE changes only in {@link
   * #applyShared} and {@link #installShared}, which the replication core runs one at a time on its
   * loop, as it runs this: WCE and the reservations, read apart, belong to one point of the order.
   */
  public byte[] sharedSnapshot() {
    return reservations.sharedSnapshot(modePages.writeCacheEnabled()).encode();
  }

  /**
   * Replaces the shared state with the other site's {@link #sharedSnapshot} (APTPL state is saved
   * at this site too). If WCE changes, every nexus here gets UA 2A/01: its host may have read the
   * old value. A snapshot of the older format, without WCE, leaves this site's WCE as it is.
   *
   * @throws IllegalArgumentException when the bytes are not a valid snapshot; nothing changes
   */
  public void installShared(byte[] snapshot) {
    UnitSnapshot s = UnitSnapshot.decode(snapshot);
    reservations.installShared(s);
    if (s.writeCache() != null && modePages.setWriteCache(s.writeCache())) {
      unitAttentions.raiseAll(null, 0x2a, 0x01);
    }
  }

  /** A new I_T nexus (login): it gets UA 29/00 POWER ON, RESET, OR BUS DEVICE RESET once. */
  public void nexusAttached(ItNexus nexus) {
    unitAttentions.attach(nexus, UA_RESET_ASC, UA_RESET_ASCQ);
  }

  /**
   * The nexus is gone (logout, connection loss; LunMap.detach): its SPC-2 reservation is released
   * and its pending unit attentions go with it.
   */
  void nexusDetached(ItNexus nexus) {
    reservations.nexusLost(nexus);
    extendedCopy.nexusLost(nexus);
    unitAttentions.detach(nexus);
  }

  /** The volume's capacity changed: UA 2A/09 CAPACITY DATA HAS CHANGED on every nexus. */
  public void capacityChanged() {
    unitAttentions.raiseAll(null, 0x2a, 0x09);
  }

  public Volume volume() {
    return volume;
  }

  /** The volume's NAA designator, which EXTENDED COPY copy targets name. */
  byte[] naa() {
    return inquiry.naa();
  }

  /** WCE of the caching page: false means every write is durable before its status. */
  boolean writeCacheEnabled() {
    return modePages.writeCacheEnabled();
  }

  /** Whether a reservation keeps {@code nexus} from running {@code cdb} here (EXTENDED COPY). */
  boolean reservationConflict(ItNexus nexus, byte[] cdb) {
    return reservations.conflicts(nexus, cdb);
  }

  /**
   * PERSISTENT RESERVE OUT whose Data-Out is shorter than its PARAMETER LIST LENGTH: the transport
   * delivered less than the CDB announced (05/0E/03), unlike a list that is itself too short.
   */
  private static boolean parameterListCut(ScsiTask task) {
    return task.dataOut().remaining() < BigEndian.u32(task.cdb(), 5);
  }

  /**
   * Makes this a two-site unit whose ALUA states come from {@code view} (shared with the other
   * units of its consistency group), or, with null, a unit of the site's own groups again. Every
   * nexus gets UA 2A/06, as the states it sees may have changed.
   */
  public void useAlua(UnitAlua view) {
    synchronized (unitAluaListener) {
      UnitAlua old = unitAlua;
      if (old == view) {
        return;
      }
      if (old != null) {
        old.removeListener(unitAluaListener);
      }
      if (view != null) {
        view.addListener(unitAluaListener);
      }
      unitAlua = view;
    }
    unitAttentions.raiseAll(null, 0x2a, 0x06);
  }

  /** The unit's two-site ALUA view, or null when it follows the site's groups. */
  public UnitAlua alua() {
    return unitAlua;
  }

  /** ALUA access state change on the site: UA 2A/06 on every nexus, unless a unit view rules. */
  void aluaChanged() {
    if (unitAlua == null) {
      unitAttentions.raiseAll(null, 0x2a, 0x06);
    }
  }

  /** The unit view changed: UA 2A/06 on exactly the nexuses whose hosts now see other states. */
  private void unitAluaChanged(UnitAlua.Snapshot before, UnitAlua.Snapshot after) {
    unitAttentions.raiseWhere(n -> before.differsFor(n.initiatorName(), after), 0x2a, 0x06);
  }

  /** 3F/0E REPORTED LUNS DATA HAS CHANGED for one nexus (LunMap.replace). */
  void lunsChanged(ItNexus nexus) {
    unitAttentions.raise(nexus, 0x3f, 0x0e);
  }
}
