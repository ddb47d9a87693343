package io.duet.sync.peering;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PairingWireTest {
  @Test
  void randomBytesGiveTypedErrorsOnly() {
    Random random = new Random(Long.getLong("duet.seed", 3L));
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[random.nextInt(80)];
      random.nextBytes(b);
      if (b.length > 2 && i % 2 == 0) {
        b[0] = 0;
        b[1] = (byte) (b.length - 2); // a plausible length
      }
      try {
        PairingWire.Message m = PairingWire.read(new DataInputStream(new ByteArrayInputStream(b)));
        switch (m.type()) {
          case PairingWire.HELLO -> {
            PairingWire.bytes(m.body(), PairingKeys.NONCE_BYTES, "nonce");
            PairingWire.string(m.body(), "address");
          }
          case PairingWire.CHALLENGE -> {
            PairingWire.bytes(m.body(), PairingWire.SALT_BYTES, "salt");
            PairingWire.int32(m.body(), "iterations");
          }
          case PairingWire.REFUSED ->
              assertThat(PairingWire.refusal(m.body()).getMessage()).isNotBlank();
          default -> PairingWire.end(m.body(), "message");
        }
      } catch (PairingException e) {
        assertThat(e.getMessage()).isNotBlank();
      } catch (IOException e) {
        assertThat(e).isInstanceOf(java.io.EOFException.class);
      }
    }
  }
}
