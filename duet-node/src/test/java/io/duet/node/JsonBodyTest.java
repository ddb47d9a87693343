package io.duet.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JsonBodyTest {
  /**
   * Random and mutated request bodies: either a value or an INVALID refusal, never anything else.
   */
  @Test
  void fuzzedBodiesGiveInvalidOrAValue() {
    Random random = new Random(42);
    String valid = "{\"name\":\"vol\",\"size\":\"1GiB\",\"blockSize\":512}";
    String alphabet = "{}[]\":,0123456789abcGiB.-\\ntrue null";
    for (int i = 0; i < 5000; i++) {
      StringBuilder b = new StringBuilder(valid);
      for (int e = 0; e < 1 + random.nextInt(5); e++) {
        int at = random.nextInt(b.length() + 1);
        if (random.nextBoolean() || at == b.length()) {
          b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
        } else {
          b.deleteCharAt(at);
        }
      }
      try {
        JsonBody body =
            JsonBody.parse(Json.mapper(), b.toString(), Set.of("name", "size", "blockSize"));
        body.requiredString("name");
        assertThat(body.requiredSize("size")).isPositive();
        body.optionalInt("blockSize");
      } catch (AdminException e) {
        assertThat(e.kind()).isEqualTo(AdminException.Kind.INVALID);
        assertThat(e.getMessage()).isNotBlank();
      }
    }
  }
}
