package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
  @Test
  void buffersAreDirectAndExactlyAsLongAsAsked() {
    BufferPool pool = new BufferPool(1 << 20);
    for (int bytes : new int[] {0, 1, 4095, 4096, 4097, 65536, 1 << 20, Nbd.MAX_PAYLOAD_BYTES}) {
      BufferPool.Lease lease = pool.acquire(bytes);
      assertThat(lease.buffer().isDirect()).isTrue();
      assertThat(lease.buffer().position()).isZero();
      assertThat(lease.buffer().remaining()).isEqualTo(bytes);
      assertThat(lease.buffer().capacity())
          .isGreaterThanOrEqualTo(bytes)
          .isLessThanOrEqualTo(Math.max(BufferPool.MIN_CLASS_BYTES, 2 * bytes));
      pool.release(lease);
    }
  }

  @Test
  void releasedBuffersAreReusedAndIdleMemoryIsBounded() {
    BufferPool pool = new BufferPool(256 << 10);
    BufferPool.Lease a = pool.acquire(100_000);
    pool.release(a);
    assertThat(pool.retainedBytes()).isEqualTo(128 << 10);
    BufferPool.Lease b = pool.acquire(70_000);
    assertThat(b).isSameAs(a);
    assertThat(b.buffer().remaining()).isEqualTo(70_000);
    assertThat(pool.retainedBytes()).isZero();
    List<BufferPool.Lease> many = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      many.add(pool.acquire(128 << 10));
    }
    many.forEach(pool::release);
    assertThat(pool.retainedBytes()).isEqualTo(256 << 10);
    pool.release(null);
  }

  @Test
  void badSizesAreRefused() {
    BufferPool pool = new BufferPool(0);
    assertThatThrownBy(() -> pool.acquire(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> pool.acquire(Nbd.MAX_PAYLOAD_BYTES + 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new BufferPool(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void randomUseFromManyThreadsKeepsBuffersApart() throws Exception {
    BufferPool pool = new BufferPool(1 << 20);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < 4; t++) {
      long seed = t;
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    Random random = new Random(seed);
                    try {
                      for (int i = 0; i < 500; i++) {
                        BufferPool.Lease lease = pool.acquire(random.nextInt(300_000));
                        byte mark = (byte) random.nextInt();
                        var buf = lease.buffer();
                        while (buf.hasRemaining()) {
                          buf.put(mark);
                        }
                        for (int j = 0; j < buf.limit(); j += 997) {
                          assertThat(buf.get(j)).isEqualTo(mark);
                        }
                        pool.release(lease);
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failures).isEmpty();
    assertThat(pool.retainedBytes()).isLessThanOrEqualTo(1 << 20);
  }
}
