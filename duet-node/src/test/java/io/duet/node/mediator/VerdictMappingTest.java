package io.duet.node.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.mediator.Decision;
import io.duet.mediator.MediatorException;
import io.duet.mediator.RelationshipView;
import io.duet.sync.MediatorVerdict;
import io.duet.sync.MediatorVerdict.Refusal;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The mediator's decisions as the replication core reads them. */
class VerdictMappingTest {
  static final UUID GROUP = UUID.randomUUID();
  static final UUID A = UUID.randomUUID();
  static final UUID B = UUID.randomUUID();

  @Test
  void everyReasonHasTheRefusalOfTheSameName() throws Exception {
    List<String> refusals = Arrays.stream(Refusal.values()).map(Enum::name).toList();
    for (Decision.Reason r : Decision.Reason.values()) {
      assertThat(refusals).as("refusal for " + r).contains(r.name());
      RelationshipView rel =
          new RelationshipView(GROUP, A, B, 7, A, false, A, null, 0, List.of(), List.of());
      MediatorVerdict v =
          GroupMediator.verdict(new Decision(r == Decision.Reason.NONE, r, "m", 0, 0, rel));
      assertThat(v.refusal().name()).isEqualTo(r.name());
      assertThat(v.granted()).isEqualTo(r == Decision.Reason.NONE);
      assertThat(v.epoch()).isEqualTo(7);
      assertThat(v.survivor()).isEqualTo(A);
    }
  }

  @Test
  void contradictoryOrIncompleteDecisionsAreNeverGrants() throws Exception {
    RelationshipView rel =
        new RelationshipView(GROUP, A, B, 2, A, true, null, null, 0, List.of(), List.of());
    MediatorVerdict noReason =
        GroupMediator.verdict(new Decision(false, Decision.Reason.NONE, null, 0, 0, rel));
    assertThat(noReason.granted()).isFalse();
    assertThat(noReason.refusal()).isEqualTo(Refusal.CONFLICT);
    assertThat(noReason.message()).isEmpty();

    MediatorVerdict grantedButFenced =
        GroupMediator.verdict(new Decision(true, Decision.Reason.FENCED, "x", 0, 0, rel));
    assertThat(grantedButFenced.granted()).isFalse();
    assertThat(grantedButFenced.refusal()).isEqualTo(Refusal.FENCED);

    assertThatThrownBy(
            () -> GroupMediator.verdict(new Decision(true, Decision.Reason.NONE, "x", 0, 0, null)))
        .isInstanceOf(MediatorException.class)
        .extracting(e -> ((MediatorException) e).kind())
        .isEqualTo(MediatorException.Kind.INTERNAL);
  }
}
