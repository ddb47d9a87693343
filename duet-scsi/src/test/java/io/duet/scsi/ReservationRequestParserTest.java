package io.duet.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Malformed PERSISTENT RESERVE OUT input: always a clear CHECK CONDITION or conflict. */
class ReservationRequestParserTest {
  static final TargetPort PORT = new TargetPort("iqn.t,t,0x1", "iqn.t", 1, 1);
  static final ItNexus A = new ItNexus("iqn.a", "iqn.a,i,0x1", PORT);

  @Test
  void randomCdbsAndParameterListsNeverThrow() {
    Random random = new Random(7);
    PersistentReservations pr =
        new PersistentReservations(PersistentState.NONE, new UnitAttentions());
    for (int i = 0; i < 30_000; i++) {
      byte[] cdb = new byte[random.nextInt(4) == 0 ? random.nextInt(12) : 10];
      random.nextBytes(cdb);
      int length = random.nextInt(4) == 0 ? random.nextInt(300) : 24 + random.nextInt(3) * 4;
      if (cdb.length >= 10) {
        cdb[0] = 0x5f;
        cdb[1] &= (byte) (random.nextBoolean() ? 0x07 : 0x1f);
        ByteBuffer.wrap(cdb).putInt(5, random.nextInt(8) == 0 ? random.nextInt() : length);
      }
      byte[] params = new byte[length];
      random.nextBytes(params);
      if (params.length > 20 && random.nextBoolean()) {
        params[20] &= 0x0d;
      }
      ScsiResult r = pr.persistentReserveOut(A, cdb, ByteBuffer.wrap(params));
      assertThat(r.status())
          .isIn(ScsiResult.GOOD, ScsiResult.CHECK_CONDITION, ScsiResult.RESERVATION_CONFLICT);
      if (r.status() == ScsiResult.CHECK_CONDITION) {
        assertThat(r.sense()[2] & 0xf).isEqualTo(Sense.ILLEGAL_REQUEST);
      }
      ScsiResult in = pr.persistentReserveIn(A, cdb, random.nextInt(1000));
      assertThat(in.status()).isIn(ScsiResult.GOOD, ScsiResult.CHECK_CONDITION);
      assertThat(pr.conflicts(A, cdb)).isIn(true, false);
    }
  }

  @Test
  void truncatedParameterListsAreLengthErrors() {
    byte[] full = ByteBuffer.allocate(24).putLong(0).putLong(5).array();
    for (int n = 0; n < 24; n++) {
      byte[] cdb = {0x5f, 0, 0, 0, 0, 0, 0, 0, (byte) n, 0};
      try {
        ReservationRequestParser.parse(cdb, ByteBuffer.wrap(full, 0, n));
        throw new AssertionError("accepted " + n + " bytes");
      } catch (ReservationException e) {
        assertThat(e.kind()).isEqualTo(ReservationException.Kind.PARAMETER_LIST_LENGTH);
      }
    }
  }
}
