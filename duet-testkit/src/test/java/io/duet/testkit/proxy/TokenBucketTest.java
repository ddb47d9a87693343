package io.duet.testkit.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private static final long MS = 1_000_000;

  @Test
  void unlimitedNeverWaits() {
    TokenBucket bucket = new TokenBucket(0);
    assertThat(bucket.tryTake(1 << 30, 0)).isZero();
    assertThat(bucket.maxPieceBytes(65536)).isEqualTo(65536);
  }

  @Test
  void startsWithOneBurstThenPaysByTime() {
    TokenBucket bucket = new TokenBucket(0);
    bucket.rate(1000, 0); // burst = 20 bytes
    assertThat(bucket.maxPieceBytes(65536)).isEqualTo(20);
    assertThat(bucket.tryTake(20, 0)).isZero();
    assertThat(bucket.tryTake(20, 0)).isEqualTo(20 * MS);
    assertThat(bucket.tryTake(20, 10 * MS)).isEqualTo(10 * MS);
    assertThat(bucket.tryTake(20, 20 * MS)).isZero();
  }

  @Test
  void longRunRateMatchesTheCap() {
    TokenBucket bucket = new TokenBucket(0);
    long rate = 8L << 20;
    bucket.rate(rate, 0);
    long now = 0;
    long sent = 0;
    // A sender that always wants more, sleeping exactly as told.
    while (now < 2_000 * MS) {
      int piece = bucket.maxPieceBytes(65536);
      long wait = bucket.tryTake(piece, now);
      if (wait == 0) {
        sent += piece;
      } else {
        now += wait;
      }
    }
    double perSecond = sent / 2.0;
    assertThat(perSecond).isBetween(rate * 0.99, rate * 1.03);
  }

  @Test
  void shrinkingTheRateKeepsDebtAndTrimsCredit() {
    TokenBucket bucket = new TokenBucket(0);
    bucket.rate(1_000_000, 0); // burst 20000
    int piece = bucket.maxPieceBytes(65536);
    assertThat(piece).isEqualTo(20_000);
    bucket.rate(1000, 0); // burst 20, credit trimmed to 20
    // A piece sized under the old rate is still granted once, leaving a debt.
    assertThat(bucket.tryTake(piece, 0)).isZero();
    // The debt (19980 bytes) plus the next 20 takes 20 s at 1000 B/s.
    assertThat(bucket.tryTake(20, 0)).isEqualTo(20_000 * MS);
    assertThat(bucket.tryTake(20, 20_000 * MS)).isZero();
  }

  @Test
  void clockGoingBackwardsGivesNoCredit() {
    TokenBucket bucket = new TokenBucket(100 * MS);
    bucket.rate(1000, 100 * MS);
    assertThat(bucket.tryTake(20, 100 * MS)).isZero();
    assertThat(bucket.tryTake(20, 50 * MS)).isPositive();
  }

  @Test
  void negativeRateIsRefused() {
    assertThatThrownBy(() -> new TokenBucket(0).rate(-1, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
