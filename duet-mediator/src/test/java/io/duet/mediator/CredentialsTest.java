package io.duet.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.mediator.MediatorException.Kind;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsTest {
  @TempDir Path dir;
  final ManualClock clock = new ManualClock();

  Credentials open() throws IOException {
    return Credentials.open(dir, new SecureRandom(), clock, 3, 10_000, 1000);
  }

  static Kind kindOf(ThrowingCall call) {
    try {
      call.run();
      return null;
    } catch (MediatorException e) {
      return e.kind();
    }
  }

  interface ThrowingCall {
    void run() throws MediatorException;
  }

  @Test
  void passwordsAreCheckedAndSurviveAReopen() throws IOException {
    Credentials c = open();
    c.setPassword("site-a", "correct horse".toCharArray());
    c.authenticate("site-a", "correct horse".toCharArray());
    Credentials again = open();
    again.authenticate("site-a", "correct horse".toCharArray());
    assertThat(kindOf(() -> again.authenticate("site-a", "wrong one".toCharArray())))
        .isEqualTo(Kind.UNAUTHORIZED);
    assertThat(kindOf(() -> again.authenticate("nobody", "correct horse".toCharArray())))
        .isEqualTo(Kind.UNAUTHORIZED);
    assertThat(kindOf(() -> again.authenticate("site-a", new char[0])))
        .isEqualTo(Kind.UNAUTHORIZED);
  }

  @Test
  void lockoutAfterRepeatedFailuresThenItEnds() throws IOException {
    Credentials c = open();
    c.setPassword("site-a", "correct horse".toCharArray());
    for (int i = 0; i < 2; i++) {
      assertThat(kindOf(() -> c.authenticate("site-a", "x".toCharArray())))
          .isEqualTo(Kind.UNAUTHORIZED);
    }
    // A success in between resets the count.
    c.authenticate("site-a", "correct horse".toCharArray());
    for (int i = 0; i < 3; i++) {
      assertThat(kindOf(() -> c.authenticate("site-a", "x".toCharArray())))
          .isEqualTo(Kind.UNAUTHORIZED);
    }
    assertThat(kindOf(() -> c.authenticate("site-a", "correct horse".toCharArray())))
        .isEqualTo(Kind.LOCKED_OUT);
    clock.advanceMs(9_999);
    assertThat(kindOf(() -> c.authenticate("site-a", "correct horse".toCharArray())))
        .isEqualTo(Kind.LOCKED_OUT);
    clock.advanceMs(1);
    c.authenticate("site-a", "correct horse".toCharArray());
  }

  @Test
  void badNamesAndShortPasswordsAreRefused() throws IOException {
    Credentials c = open();
    assertThatThrownBy(() -> c.setPassword("a b", "long enough".toCharArray()))
        .isInstanceOf(MediatorException.class);
    assertThatThrownBy(() -> c.setPassword("ok", "short".toCharArray()))
        .isInstanceOf(MediatorException.class);
    assertThat(c.isEmpty()).isTrue();
  }
}
