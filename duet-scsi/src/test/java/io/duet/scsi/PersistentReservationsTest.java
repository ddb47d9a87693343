package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PersistentReservationsTest {
  static final int REGISTER = 0, RESERVE = 1, RELEASE = 2, CLEAR = 3, PREEMPT = 4;
  static final int PREEMPT_AND_ABORT = 5, REGISTER_IGNORE = 6, REGISTER_AND_MOVE = 7;
  static final int WE = 1, EA = 3, WE_RO = 5, EA_RO = 6, WE_AR = 7, EA_AR = 8;

  static final TargetPort PORT1 = new TargetPort("iqn.t,t,0x1", "iqn.t", 1, 1);
  static final TargetPort PORT2 = new TargetPort("iqn.t,t,0x2", "iqn.t", 2, 2);
  static final ItNexus A = new ItNexus("iqn.a", "iqn.a,i,0x00023d000001", PORT1);
  static final ItNexus B = new ItNexus("iqn.b", "iqn.b,i,0x00023d000002", PORT1);
  static final ItNexus C = new ItNexus("iqn.c", "iqn.c,i,0x00023d000003", PORT1);

  /** A's initiator port through the other target port: a different I_T nexus. */
  static final ItNexus A2 = new ItNexus("iqn.a", "iqn.a,i,0x00023d000001", PORT2);

  static final byte[] READ10 = {0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0};
  static final byte[] WRITE10 = {0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0};
  static final byte[] INQUIRY = {0x12, 0, 0, 0, 36, 0};
  static final byte[] TUR = {0, 0, 0, 0, 0, 0};
  static final byte[] MODE_SENSE6 = {0x1a, 0, 0x3f, 0, (byte) 0xff, 0};

  /** An in-memory PersistentState that can be told to fail. */
  static final class MemoryState implements PersistentState {
    byte[] saved;
    int saves;
    boolean fail;

    @Override
    public Optional<byte[]> load() {
      return Optional.ofNullable(saved);
    }

    @Override
    public void save(byte[] state) throws IOException {
      if (fail) {
        throw new IOException("disk full");
      }
      saved = state.clone();
      saves++;
    }
  }

  final MemoryState disk = new MemoryState();
  final UnitAttentions uas = new UnitAttentions();
  PersistentReservations pr = new PersistentReservations(disk, uas);

  // ---- helpers ----

  static byte[] proutCdb(int sa, int type, int length) {
    byte[] c = new byte[10];
    c[0] = 0x5f;
    c[1] = (byte) sa;
    c[2] = (byte) type;
    ByteBuffer.wrap(c).putInt(5, length);
    return c;
  }

  static byte[] basic(long key, long sark, int flags) {
    return ByteBuffer.allocate(24).putLong(key).putLong(sark).put(20, (byte) flags).array();
  }

  ScsiResult out(ItNexus n, int sa, int type, long key, long sark) {
    return out(n, sa, type, basic(key, sark, 0));
  }

  ScsiResult out(ItNexus n, int sa, int type, byte[] params) {
    return pr.persistentReserveOut(n, proutCdb(sa, type, params.length), ByteBuffer.wrap(params));
  }

  ScsiResult in(ItNexus n, int sa, int alloc) {
    byte[] c = new byte[10];
    c[0] = 0x5e;
    c[1] = (byte) sa;
    c[7] = (byte) (alloc >>> 8);
    c[8] = (byte) alloc;
    return pr.persistentReserveIn(n, c, 1 << 16);
  }

  static ByteBuffer data(ScsiResult r) {
    assertThat(r.status()).isEqualTo(ScsiResult.GOOD);
    return r.dataIn().duplicate();
  }

  long[] keys() {
    ByteBuffer d = data(in(A, 0, 4096));
    long[] k = new long[d.getInt(4) / 8];
    for (int i = 0; i < k.length; i++) {
      k[i] = d.getLong(8 + 8 * i);
    }
    return k;
  }

  int generation() {
    return data(in(A, 0, 8)).getInt(0);
  }

  /** (key, type) of READ RESERVATION, or null when not reserved. */
  long[] reservation() {
    ByteBuffer d = data(in(A, 1, 4096));
    if (d.getInt(4) == 0) {
      return null;
    }
    return new long[] {d.getLong(8), d.get(21) & 0x0f};
  }

  static void good(ScsiResult r) {
    assertThat(r.status())
        .as("sense %s", java.util.HexFormat.of().formatHex(r.sense()))
        .isEqualTo(ScsiResult.GOOD);
  }

  static void conflict(ScsiResult r) {
    assertThat(r.status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
  }

  static void sense(ScsiResult r, int key, int asc, int ascq) {
    assertThat(r.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
    assertThat(r.sense()[2] & 0xf).isEqualTo(key);
    assertThat(r.sense()[12] & 0xff).isEqualTo(asc);
    assertThat(r.sense()[13] & 0xff).isEqualTo(ascq);
  }

  void ua(ItNexus n, int ascq) {
    Optional<byte[]> s = uas.take(n);
    assertThat(s).as("UA on %s", n.initiatorPort()).isPresent();
    assertThat(s.get()[12]).isEqualTo((byte) 0x2a);
    assertThat(s.get()[13] & 0xff).isEqualTo(ascq);
  }

  void noUa(ItNexus n) {
    assertThat(uas.take(n)).as("UA on %s", n.initiatorPort()).isEmpty();
  }

  // ---- REGISTER / REGISTER AND IGNORE EXISTING KEY ----

  @Test
  void registerUnregisterAndGeneration() {
    assertThat(keys()).isEmpty();
    int g0 = generation();
    good(out(A, REGISTER, 0, 0, 0x11));
    assertThat(keys()).containsExactly(0x11);
    assertThat(generation()).isEqualTo(g0 + 1);
    // Re-registering with the wrong current key conflicts (libiscsi prout_reregister_key_fails).
    conflict(out(A, REGISTER, 0, 0, 0x12));
    good(out(A, REGISTER, 0, 0x11, 0x12));
    assertThat(keys()).containsExactly(0x12);
    good(out(A, REGISTER, 0, 0x12, 0));
    assertThat(keys()).isEmpty();
    assertThat(generation()).isEqualTo(g0 + 3);
  }

  @Test
  void unregisteredNexusWithNonZeroKeyConflictsAndZeroZeroIsNoOp() {
    conflict(out(A, REGISTER, 0, 5, 6));
    int g = generation();
    good(out(A, REGISTER, 0, 0, 0));
    assertThat(generation()).isEqualTo(g);
    assertThat(keys()).isEmpty();
  }

  @Test
  void registerAndIgnoreReplacesWhateverKey() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(A, REGISTER_IGNORE, 0, 0x999, 0x2));
    assertThat(keys()).containsExactly(0x2);
    good(out(B, REGISTER_IGNORE, 0, 0, 0x3));
    assertThat(keys()).containsExactly(0x2, 0x3);
  }

  @Test
  void registrationsArePerItNexus() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    // Same initiator port through another target port is a different nexus.
    conflict(out(A2, RESERVE, WE, 0x1, 0));
    good(out(A2, REGISTER_IGNORE, 0, 0, 0x1));
    assertThat(keys()).containsExactly(0x1, 0x1);
  }

  @Test
  void allTargetPortsRegistersEveryPort() {
    good(out(A, REGISTER, 0, basic(0, 0x7, 0x04)));
    good(out(A2, RESERVE, EA, 0x7, 0));
    assertThat(reservation()).containsExactly(0x7, EA);
    ByteBuffer full = data(in(A, 3, 4096));
    assertThat(full.get(8 + 12) & 0x03).isEqualTo(0x03); // ALL_TG_PT and R_HOLDER
  }

  // ---- RESERVE / RELEASE ----

  @Test
  void reserveEachTypeAndRelease() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0xab));
    for (int type : new int[] {WE, EA, WE_RO, EA_RO, WE_AR, EA_AR}) {
      int g = generation();
      good(out(A, RESERVE, type, 0xab, 0));
      long expectedKey = type == WE_AR || type == EA_AR ? 0 : 0xab;
      assertThat(reservation()).containsExactly(expectedKey, type);
      good(out(A, RESERVE, type, 0xab, 0)); // same type again: no change
      good(out(A, RELEASE, type, 0xab, 0));
      assertThat(reservation()).isNull();
      assertThat(generation()).isEqualTo(g); // RESERVE and RELEASE leave the generation alone
    }
  }

  @Test
  void reserveRules() {
    conflict(out(A, RESERVE, WE, 0x1, 0)); // unregistered
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    conflict(out(A, RESERVE, WE, 0x9, 0)); // wrong key
    sense(out(A, RESERVE, 0x2, 0x1, 0), 5, 0x24, 0); // obsolete type
    sense(out(A, RESERVE, 0x10 | WE, 0x1, 0), 5, 0x24, 0); // scope not LU
    good(out(A, RESERVE, WE, 0x1, 0));
    conflict(out(A, RESERVE, EA, 0x1, 0)); // holder asks for another type
    conflict(out(B, RESERVE, WE, 0x2, 0)); // someone else holds it
    good(out(B, RELEASE, WE, 0x2, 0)); // non-holder release: GOOD, nothing happens
    assertThat(reservation()).containsExactly(0x1, WE);
    sense(out(A, RELEASE, EA, 0x1, 0), 5, 0x26, 0x04); // wrong type: invalid release
    good(out(A, RELEASE, WE, 0x1, 0));
  }

  @Test
  void allRegistrantsCanAllReserveAndRelease() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    good(out(A, RESERVE, WE_AR, 0x1, 0));
    good(out(B, RESERVE, WE_AR, 0x2, 0));
    good(out(B, RELEASE, WE_AR, 0x2, 0));
    assertThat(reservation()).isNull();
    ua(A, 0x04); // RESERVATIONS RELEASED to the other registrant
    noUa(B);
  }

  @Test
  void releasingRegistrantsOnlyNotifiesOtherRegistrants() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    pr.conflicts(C, TUR); // C is known but unregistered
    good(out(A, RESERVE, WE_RO, 0x1, 0));
    good(out(A, RELEASE, WE_RO, 0x1, 0));
    ua(B, 0x04);
    noUa(A);
    noUa(C);
    // Write Exclusive releases tell nobody.
    good(out(A, RESERVE, WE, 0x1, 0));
    good(out(A, RELEASE, WE, 0x1, 0));
    noUa(B);
  }

  // ---- ownership when the holder unregisters (libiscsi reserve_ownership) ----

  @Test
  void unregisteringHolderReleasesSingleHolderTypes() {
    for (int type : new int[] {WE, EA, WE_RO, EA_RO}) {
      good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
      good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
      good(out(A, RESERVE, type, 0x1, 0));
      good(out(A, REGISTER, 0, 0x1, 0));
      assertThat(reservation()).isNull();
      if (type == WE_RO || type == EA_RO) {
        ua(B, 0x04);
      }
      noUa(B);
      good(out(B, REGISTER, 0, 0x2, 0));
    }
  }

  @Test
  void allRegistrantsReservationSurvivesUntilLastRegistrantLeaves() {
    for (int type : new int[] {WE_AR, EA_AR}) {
      good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
      good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
      good(out(A, RESERVE, type, 0x1, 0));
      good(out(A, REGISTER, 0, 0x1, 0));
      assertThat(reservation()).containsExactly(0, type);
      good(out(B, REGISTER, 0, 0x2, 0));
      assertThat(reservation()).isNull();
    }
  }

  @Test
  void holderReRegisteringWithNewKeyKeepsReservation() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(A, RESERVE, EA, 0x1, 0));
    good(out(A, REGISTER, 0, 0x1, 0x5));
    assertThat(reservation()).containsExactly(0x5, EA);
  }

  // ---- CLEAR ----

  @Test
  void clearDropsEverythingAndTellsOthers() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    good(out(A, RESERVE, EA, 0x1, 0));
    int g = generation();
    conflict(out(C, CLEAR, 0, 0x3, 0));
    conflict(out(B, CLEAR, 0, 0x9, 0));
    good(out(B, CLEAR, 0, 0x2, 0));
    assertThat(keys()).isEmpty();
    assertThat(reservation()).isNull();
    assertThat(generation()).isEqualTo(g + 1); // once for CLEAR (libiscsi prout_clear_simple)
    ua(A, 0x03);
    noUa(B);
  }

  // ---- PREEMPT ----

  @Test
  void preemptWithoutReservationRemovesRegistrations() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    int g = generation();
    good(out(B, PREEMPT, EA, 0x2, 0x1)); // libiscsi prout_preempt_rm_reg
    assertThat(keys()).containsExactly(0x2);
    assertThat(generation()).isEqualTo(g + 1);
    assertThat(reservation()).isNull();
    ua(A, 0x05);
    noUa(B);
    conflict(out(B, PREEMPT, EA, 0x2, 0x77)); // nobody has that key
    sense(out(B, PREEMPT, EA, 0x2, 0), 5, 0x26, 0); // SARK zero without AR reservation
  }

  @Test
  void preemptHolderTakesTheReservation() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    good(out(C, REGISTER_IGNORE, 0, 0, 0x3));
    good(out(A, RESERVE, WE, 0x1, 0));
    good(out(B, PREEMPT_AND_ABORT, EA, 0x2, 0x1));
    assertThat(reservation()).containsExactly(0x2, EA);
    assertThat(keys()).containsExactly(0x2, 0x3);
    ua(A, 0x05);
    ua(C, 0x04); // type changed: the remaining registrant hears of the release
    noUa(B);
  }

  @Test
  void preemptNonHolderKeyLeavesReservation() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    good(out(C, REGISTER_IGNORE, 0, 0, 0x3));
    good(out(A, RESERVE, WE, 0x1, 0));
    good(out(B, PREEMPT, WE, 0x2, 0x3));
    assertThat(reservation()).containsExactly(0x1, WE);
    assertThat(keys()).containsExactly(0x1, 0x2);
    ua(C, 0x05);
  }

  @Test
  void preemptAllRegistrantsWithZeroKeyTakesOver() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    good(out(A, RESERVE, EA_AR, 0x1, 0));
    good(out(B, PREEMPT, EA, 0x2, 0));
    assertThat(reservation()).containsExactly(0x2, EA);
    assertThat(keys()).containsExactly(0x2);
    ua(A, 0x05);
  }

  @Test
  void preemptSelfChangesType() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(A, RESERVE, WE, 0x1, 0));
    good(out(A, PREEMPT, EA, 0x1, 0x1));
    assertThat(reservation()).containsExactly(0x1, EA);
    assertThat(keys()).containsExactly(0x1);
  }

  // ---- REGISTER AND MOVE ----

  static byte[] moveParams(long key, long sark, int flags, int relPort, byte[] tid) {
    ByteBuffer b = ByteBuffer.allocate(24 + tid.length);
    b.putLong(key).putLong(sark).put(17, (byte) flags).putShort(18, (short) relPort);
    b.putInt(20, tid.length).put(24, tid);
    return b.array();
  }

  @Test
  void registerAndMoveHandsTheReservationOver() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(A, RESERVE, EA, 0x1, 0));
    byte[] tid = TransportId.ofInitiatorPort(B.initiatorPort()).encode();
    int g = generation();
    good(out(A, REGISTER_AND_MOVE, EA, moveParams(0x1, 0x2, 0x02, 1, tid)));
    assertThat(reservation()).containsExactly(0x2, EA);
    assertThat(keys()).containsExactly(0x2); // UNREG removed A
    assertThat(generation()).isEqualTo(g + 1);
    assertThat(pr.conflicts(B, WRITE10)).isFalse();
    assertThat(pr.conflicts(A, READ10)).isTrue();
  }

  @Test
  void registerAndMoveRules() {
    byte[] tidB = TransportId.ofInitiatorPort(B.initiatorPort()).encode();
    byte[] tidA = TransportId.ofInitiatorPort(A.initiatorPort()).encode();
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    conflict(out(A, REGISTER_AND_MOVE, EA, moveParams(0x1, 0x2, 0, 1, tidB))); // no reservation
    good(out(A, RESERVE, EA, 0x1, 0));
    sense(out(A, REGISTER_AND_MOVE, EA, moveParams(0x1, 0, 0, 1, tidB)), 5, 0x26, 0); // SARK 0
    sense(out(A, REGISTER_AND_MOVE, EA, moveParams(0x1, 0x2, 0, 1, tidA)), 5, 0x26, 0); // to self
    sense(out(A, REGISTER_AND_MOVE, EA, moveParams(0x1, 0x2, 0, 99, tidB)), 5, 0x26, 0); // port
    byte[] device = new TransportId("iqn.b", null).encode();
    sense(out(A, REGISTER_AND_MOVE, EA, moveParams(0x1, 0x2, 0, 1, device)), 5, 0x26, 0);
    byte[] cut = moveParams(0x1, 0x2, 0, 1, tidB);
    ByteBuffer.wrap(cut).putInt(20, tidB.length + 4);
    sense(out(A, REGISTER_AND_MOVE, EA, cut), 5, 0x1a, 0);
    assertThat(reservation()).containsExactly(0x1, EA);
  }

  // ---- SPEC_I_PT ----

  static byte[] specIPt(long sark, int flags, byte[]... tids) {
    int n = 0;
    for (byte[] t : tids) {
      n += t.length;
    }
    ByteBuffer b = ByteBuffer.allocate(28 + n);
    b.putLong(0).putLong(sark).put(20, (byte) (0x08 | flags)).putInt(24, n).position(28);
    for (byte[] t : tids) {
      b.put(t);
    }
    return b.array();
  }

  @Test
  void specIPtRegistersTheNamedPorts() {
    byte[] tidB = TransportId.ofInitiatorPort(B.initiatorPort()).encode();
    byte[] tidC = new TransportId("iqn.c", null).encode(); // every port of iqn.c
    good(out(A, REGISTER, 0, specIPt(0x9, 0, tidB, tidC)));
    assertThat(keys()).containsExactly(0x9, 0x9, 0x9);
    good(out(B, RESERVE, WE, 0x9, 0));
    good(out(C, RELEASE, WE, 0x9, 0)); // C is registered (device form), not the holder
    assertThat(reservation()).containsExactly(0x9, WE);
    ByteBuffer full = data(in(A, 3, 4096));
    assertThat(full.getInt(4)).isEqualTo(full.limit() - 8);
  }

  @Test
  void specIPtErrors() {
    byte[] tidB = TransportId.ofInitiatorPort(B.initiatorPort()).encode();
    sense(out(A, REGISTER_IGNORE, 0, specIPt(0x9, 0, tidB)), 5, 0x26, 0);
    byte[] bad = specIPt(0x9, 0, tidB);
    bad[28] = 0x01; // Fibre Channel protocol id
    sense(out(A, REGISTER, 0, bad), 5, 0x26, 0);
    byte[] shortList = specIPt(0x9, 0, tidB);
    ByteBuffer.wrap(shortList).putInt(24, tidB.length + 8);
    sense(out(A, REGISTER, 0, shortList), 5, 0x1a, 0);
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    sense(out(A, REGISTER, 0, specIPt(0x9, 0, tidB)), 5, 0x26, 0); // B already registered
    assertThat(keys()).containsExactly(0x2);
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    byte[] fromRegistered = specIPt(0x9, 0, tidB);
    ByteBuffer.wrap(fromRegistered).putLong(0, 0x1);
    sense(out(A, REGISTER, 0, fromRegistered), 5, 0x26, 0); // registered sender
  }

  // ---- PR IN ----

  @Test
  void readKeysTruncatesButKeepsAdditionalLength() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    ByteBuffer d = data(in(A, 0, 8));
    assertThat(d.remaining()).isEqualTo(8);
    assertThat(d.getInt(4)).isEqualTo(16);
    assertThat(data(in(A, 0, 12)).remaining()).isEqualTo(12);
    assertThat(data(in(A, 0, 0)).remaining()).isZero();
  }

  @Test
  void reportCapabilities() {
    ByteBuffer d = data(in(A, 2, 100));
    assertThat(d.remaining()).isEqualTo(8);
    assertThat(d.getShort(0)).isEqualTo((short) 8);
    assertThat(d.get(2) & 0xff).isEqualTo(0x1d); // CRH SIP_C ATP_C PTPL_C
    assertThat((d.get(3) >> 4) & 7).isLessThanOrEqualTo(5);
    assertThat(d.get(3) & 0x81).isEqualTo(0x80); // TMV, PTPL_A off
    assertThat(d.getShort(4) & 0xffff).isEqualTo(0xea01);
    good(out(A, REGISTER_IGNORE, 0, basic(0, 1, 0x01)));
    assertThat(data(in(A, 2, 100)).get(3) & 0x01).isEqualTo(1);
  }

  @Test
  void readFullStatusCarriesTransportIds() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    good(out(B, RESERVE, EA_RO, 0x2, 0));
    ByteBuffer d = data(in(A, 3, 4096));
    assertThat(d.getInt(4)).isEqualTo(d.limit() - 8);
    int at = 8;
    int holders = 0;
    for (int i = 0; i < 2; i++) {
      long key = d.getLong(at);
      boolean holder = (d.get(at + 12) & 1) != 0;
      int tidLength = d.getInt(at + 20);
      assertThat(tidLength % 4).isZero();
      assertThat(d.getShort(at + 18)).isEqualTo((short) 1);
      byte[] tid = new byte[tidLength];
      d.get(at + 24, tid);
      assertThat(tid[0]).isEqualTo((byte) 0x45); // port format, iSCSI
      String text =
          new String(tid, 4, tidLength - 4, java.nio.charset.StandardCharsets.UTF_8).trim();
      assertThat(text).startsWith(key == 1 ? "iqn.a,i,0x" : "iqn.b,i,0x");
      if (holder) {
        holders++;
        assertThat(key).isEqualTo(2);
        assertThat(d.get(at + 13) & 0xf).isEqualTo(EA_RO);
      }
      at += 24 + tidLength;
    }
    assertThat(holders).isEqualTo(1);
  }

  @Test
  void unknownServiceActionsAreInvalidFields() {
    for (int sa = 4; sa < 0x20; sa++) {
      sense(in(A, sa, 100), 5, 0x24, 0);
    }
    for (int sa = 8; sa < 0x20; sa++) {
      sense(out(A, sa, 0, 0, 1), 5, 0x24, 0);
    }
  }

  @Test
  void parameterListLengthMustBe24WithoutSpecIPt() {
    byte[] cdb = proutCdb(REGISTER, 0, 25);
    sense(pr.persistentReserveOut(A, cdb, ByteBuffer.wrap(new byte[25])), 5, 0x1a, 0);
    cdb = proutCdb(REGISTER, 0, 23);
    sense(pr.persistentReserveOut(A, cdb, ByteBuffer.wrap(new byte[23])), 5, 0x1a, 0);
    cdb = proutCdb(REGISTER, 0, 24);
    sense(pr.persistentReserveOut(A, cdb, ByteBuffer.wrap(new byte[10])), 5, 0x1a, 0);
  }

  // ---- conflicts (libiscsi reserve_access) ----

  /** Runs libiscsi's access matrix: registered B, then unregistered B, against A's reservation. */
  void access(int type, boolean regRead, boolean regWrite, boolean unregRead, boolean unregWrite) {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(B, REGISTER_IGNORE, 0, 0, 0x2));
    good(out(A, RESERVE, type, 0x1, 0));
    assertThat(pr.conflicts(A, READ10)).isFalse();
    assertThat(pr.conflicts(A, WRITE10)).isFalse();
    assertThat(pr.conflicts(B, READ10)).as("registered read, type %d", type).isEqualTo(!regRead);
    assertThat(pr.conflicts(B, WRITE10)).as("registered write, type %d", type).isEqualTo(!regWrite);
    good(out(B, REGISTER, 0, 0x2, 0));
    assertThat(pr.conflicts(B, READ10))
        .as("unregistered read, type %d", type)
        .isEqualTo(!unregRead);
    assertThat(pr.conflicts(B, WRITE10)).as("unregistered write %d", type).isEqualTo(!unregWrite);
    for (ItNexus n : new ItNexus[] {A, B, C}) {
      assertThat(pr.conflicts(n, INQUIRY)).isFalse();
      assertThat(pr.conflicts(n, TUR)).isFalse();
      assertThat(pr.conflicts(n, new byte[] {0x5e, 0, 0, 0, 0, 0, 0, 0, 8, 0})).isFalse();
    }
    good(out(A, RELEASE, type, 0x1, 0));
    good(out(A, REGISTER, 0, 0x1, 0));
    uas.take(A);
    uas.take(B);
  }

  @Test
  void accessMatrixOfEveryType() {
    access(EA, false, false, false, false);
    access(WE, true, false, true, false);
    access(EA_RO, true, true, false, false);
    access(WE_RO, true, true, true, false);
    access(EA_AR, true, true, false, false);
    access(WE_AR, true, true, true, false);
  }

  @Test
  void conflictTableSpotChecks() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(A, RESERVE, WE, 0x1, 0));
    assertThat(pr.conflicts(B, MODE_SENSE6)).isFalse(); // read-like under WE
    assertThat(pr.conflicts(B, new byte[] {0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
        .isTrue(); // SYNC CACHE
    assertThat(pr.conflicts(B, new byte[] {0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0})).isTrue(); // UNMAP
    assertThat(pr.conflicts(B, new byte[] {(byte) 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
        .isFalse();
    assertThat(pr.conflicts(B, new byte[] {(byte) 0x9e, 0x10})).isFalse(); // READ CAPACITY(16)
    assertThat(pr.conflicts(B, new byte[0])).isTrue();
    good(out(A, PREEMPT, EA, 0x1, 0x1));
    assertThat(pr.conflicts(B, MODE_SENSE6)).isTrue();
    assertThat(pr.conflicts(B, new byte[] {(byte) 0x9e, 0x12})).isTrue(); // GET LBA STATUS
  }

  // ---- SPC-2 RESERVE / RELEASE ----

  static final byte[] RESERVE6 = {0x16, 0, 0, 0, 0, 0};
  static final byte[] RELEASE6 = {0x17, 0, 0, 0, 0, 0};
  static final byte[] RESERVE10 = {0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0};

  @Test
  void legacyReserveAcrossTwoInitiators() {
    good(pr.reserve(A, RESERVE6));
    good(pr.reserve(A, RESERVE6));
    conflict(pr.reserve(B, RESERVE6));
    good(pr.release(B, RELEASE6)); // no-op
    assertThat(pr.conflicts(A, MODE_SENSE6)).isFalse();
    assertThat(pr.conflicts(B, MODE_SENSE6)).isTrue();
    assertThat(pr.conflicts(B, INQUIRY)).isFalse();
    conflict(pr.reserve(B, RESERVE10));
    good(pr.release(A, RELEASE6));
    good(pr.reserve(B, RESERVE6));
    good(pr.release(B, RELEASE6));
  }

  @Test
  void legacyReserveGoesOnResetAndNexusLoss() {
    good(pr.reserve(A, RESERVE6));
    pr.reset();
    good(pr.reserve(B, RESERVE6));
    pr.nexusLost(B);
    good(pr.reserve(A, RESERVE6));
    // Persistent state survives a reset.
    good(pr.release(A, RELEASE6));
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    pr.reset();
    assertThat(keys()).containsExactly(0x1);
  }

  @Test
  void legacyReserveConflictsWithPersistentReservations() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    conflict(pr.reserve(B, RESERVE6)); // registrations exist
    good(out(A, RESERVE, WE, 0x1, 0));
    good(pr.reserve(A, RESERVE6)); // the holder: GOOD, nothing changes
    conflict(pr.release(B, RELEASE6));
    good(pr.release(A, RELEASE6));
    assertThat(reservation()).containsExactly(0x1, WE);
  }

  @Test
  void legacyCdbChecks() {
    sense(pr.reserve(A, new byte[] {0x16, 0x10, 0, 0, 0, 0}), 5, 0x24, 0); // 3RDPTY
    sense(pr.reserve(A, new byte[] {0x56, 0x02, 0, 0, 0, 0, 0, 0, 0, 0}), 5, 0x24, 0); // LONGID
    sense(pr.release(A, new byte[] {0x17}), 5, 0x24, 0);
  }

  // ---- APTPL ----

  @Test
  void aptplStateSurvivesRestart() {
    good(out(A, REGISTER_IGNORE, 0, basic(0, 0x1, 0x01)));
    good(out(B, REGISTER_IGNORE, 0, basic(0, 0x2, 0x01)));
    good(out(A, RESERVE, EA_RO, 0x1, 0));
    int g = generation();
    assertThat(disk.saved).isNotNull();
    pr = new PersistentReservations(disk, uas);
    assertThat(keys()).containsExactly(0x1, 0x2);
    assertThat(reservation()).containsExactly(0x1, EA_RO);
    assertThat(generation()).isEqualTo(g);
    assertThat(pr.conflicts(C, READ10)).isTrue();
    assertThat(pr.conflicts(B, WRITE10)).isFalse();
  }

  @Test
  void clearingAptplPersistsNothing() {
    good(out(A, REGISTER_IGNORE, 0, basic(0, 0x1, 0x01)));
    good(out(A, REGISTER_IGNORE, 0, basic(0, 0x1, 0x00)));
    pr = new PersistentReservations(disk, uas);
    assertThat(keys()).isEmpty();
  }

  @Test
  void withoutAptplNothingIsSaved() {
    good(out(A, REGISTER_IGNORE, 0, 0, 0x1));
    good(out(A, RESERVE, WE, 0x1, 0));
    assertThat(disk.saves).isZero();
  }

  @Test
  void failedSaveLeavesStateUnchanged() {
    good(out(A, REGISTER_IGNORE, 0, basic(0, 0x1, 0x01)));
    disk.fail = true;
    sense(out(A, RESERVE, WE, 0x1, 0), 4, 0x44, 0);
    assertThat(reservation()).isNull();
    disk.fail = false;
    good(out(A, RESERVE, WE, 0x1, 0));
  }

  @Test
  void corruptSavedStateFailsLoudly() {
    disk.saved = new byte[] {1, 2, 3};
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PersistentReservations(disk, uas))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("corrupt");
  }
}
