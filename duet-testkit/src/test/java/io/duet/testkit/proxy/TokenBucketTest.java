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
  void startsEmptyThenPaysByTimeAndSavesAtMostOneBurst() {
    TokenBucket bucket = new TokenBucket(0);
    bucket.rate(1000, 0); // burst = 100 bytes
    assertThat(bucket.maxPieceBytes(65536)).isEqualTo(100);
    assertThat(bucket.tryTake(100, 0)).isEqualTo(100 * MS);
    assertThat(bucket.tryTake(100, 50 * MS)).isEqualTo(50 * MS);
    assertThat(bucket.tryTake(100, 100 * MS)).isZero();
    assertThat(bucket.tryTake(100, 100 * MS)).isEqualTo(100 * MS);
    // Ten idle seconds buy one burst, not ten seconds' worth.
    assertThat(bucket.tryTake(100, 10_100 * MS)).isZero();
    assertThat(bucket.tryTake(100, 10_100 * MS)).isEqualTo(100 * MS);
  }

  @Test
  void longRunRateMatchesTheCapEvenForALateSleeper() {
    long rate = 8L << 20;
    for (long lateNanos : new long[] {0, 50 * MS}) {
      TokenBucket bucket = new TokenBucket(0);
      bucket.rate(rate, 0);
      long now = 0;
      long sent = 0;
      // A sender that always wants more and sleeps as told, plus some oversleep.
      while (now < 2_000 * MS) {
        int piece = bucket.maxPieceBytes(65536);
        long wait = bucket.tryTake(piece, now);
        if (wait == 0) {
          sent += piece;
        } else {
          now += wait + lateNanos;
        }
      }
      double perSecond = sent / (now / 1e9);
      assertThat(perSecond).as("oversleeping %d ns", lateNanos).isBetween(rate * 0.97, rate * 1.01);
    }
  }

  @Test
  void shrinkingTheRateKeepsDebtAndTrimsCredit() {
    TokenBucket bucket = new TokenBucket(0);
    bucket.rate(1_000_000, 0); // burst 100000
    int piece = bucket.maxPieceBytes(65536);
    assertThat(piece).isEqualTo(65536);
    assertThat(bucket.tryTake(piece, 100 * MS)).isZero(); // 34464 left
    bucket.rate(1000, 100 * MS); // burst 100: credit trimmed to 100
    assertThat(bucket.tryTake(100, 100 * MS)).isZero();
    assertThat(bucket.tryTake(1, 100 * MS)).isPositive();
    // A piece sized under the old rate is granted once the bucket is full, leaving a debt...
    assertThat(bucket.tryTake(piece, 200 * MS)).isZero();
    // ...that the next request pays off: 65436 bytes of debt plus 100 at 1000 B/s.
    assertThat(bucket.tryTake(100, 200 * MS)).isEqualTo(65_536 * MS);
  }

  @Test
  void clockGoingBackwardsGivesNoCredit() {
    TokenBucket bucket = new TokenBucket(100 * MS);
    bucket.rate(1000, 100 * MS);
    assertThat(bucket.tryTake(100, 200 * MS)).isZero();
    assertThat(bucket.tryTake(100, 150 * MS)).isPositive();
  }

  @Test
  void negativeRateIsRefused() {
    assertThatThrownBy(() -> new TokenBucket(0).rate(-1, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
