package io.duet.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RelationshipCodecTest {
  static final UUID G = UUID.randomUUID();
  static final UUID A = UUID.randomUUID();
  static final UUID B = UUID.randomUUID();

  @Test
  void roundTrips() throws IOException {
    Relationship r =
        new Relationship(
            G,
            A,
            B,
            7,
            B,
            false,
            B,
            null,
            Map.of(A, new Relationship.Contact(Instant.ofEpochMilli(123), 6)),
            null);
    assertThat(RelationshipCodec.decode(RelationshipCodec.encode(r))).isEqualTo(r);
    Relationship pending =
        Relationship.registered(G, A, B, 3, A)
            .withPending(
                new Relationship.Pending(
                    java.util.Set.of(B), new Relationship.Report(5, A, false)));
    assertThat(RelationshipCodec.decode(RelationshipCodec.encode(pending))).isEqualTo(pending);
    // A format 1 file (before unconfirmed records) reads as a confirmed record.
    String v1 =
        "{\"format\":1,\"groupId\":\""
            + G
            + "\",\"siteA\":\""
            + A
            + "\",\"siteB\":\""
            + B
            + "\",\"epoch\":4,\"leader\":\""
            + A
            + "\",\"inSync\":true,\"contacts\":{}}";
    assertThat(
            RelationshipCodec.decode(v1.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .pending())
        .isNull();
    Relationship pre = new Relationship(G, A, B, 2, A, true, null, A, Map.of(), null);
    assertThat(RelationshipCodec.decode(RelationshipCodec.encode(pre))).isEqualTo(pre);
  }

  @Test
  void brokenInvariantsAreRefused() {
    String inSyncWithSurvivor =
        "{\"format\":1,\"groupId\":\"%s\",\"siteA\":\"%s\",\"siteB\":\"%s\",\"epoch\":1,\"leader\":\"%s\",\"inSync\":true,\"survivor\":\"%s\"}"
            .formatted(G, A, B, A, A);
    assertThatThrownBy(
            () -> RelationshipCodec.decode(inSyncWithSurvivor.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("survivor");
  }

  @Test
  void randomAndMutatedInputGivesAClearErrorAndNothingElse() {
    Random random = new Random(42);
    byte[] good =
        RelationshipCodec.encode(new Relationship(G, A, B, 3, A, true, null, null, Map.of(), null));
    for (int i = 0; i < 2000; i++) {
      byte[] input;
      if (i % 2 == 0) {
        input = new byte[random.nextInt(64)];
        random.nextBytes(input);
      } else {
        input = good.clone();
        for (int k = 0; k < 1 + random.nextInt(4); k++) {
          input[random.nextInt(input.length)] = (byte) random.nextInt(128);
        }
      }
      try {
        RelationshipCodec.decode(input);
      } catch (IOException e) {
        assertThat(e).hasMessageStartingWith("bad relationship record");
      }
    }
  }
}
