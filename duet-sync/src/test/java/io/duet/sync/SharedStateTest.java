package io.duet.sync;

import static io.duet.sync.RecordingStateMachine.command;
import static io.duet.sync.RecordingStateMachine.value;
import static io.duet.sync.ReplicationHarness.await;
import static io.duet.sync.ReplicationHarness.serving;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.sync.ReplicationStatus.Role;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replicated unit state (G2): one order at both sites, snapshots on resync, refusals. */
class SharedStateTest {
  @TempDir Path dir;

  /** Issues {@code perThread} commands from two threads at each site, over two volumes. */
  private static Map<Long, Long> issueConcurrently(ReplicationHarness h, long base, int perThread)
      throws Exception {
    List<Thread> threads = new ArrayList<>();
    Map<Long, Long> results = new java.util.concurrent.ConcurrentHashMap<>();
    List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int t = 0; t < 4; t++) {
      TestSite site = t % 2 == 0 ? h.a : h.b;
      long first = base + t * 1_000L;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (long c = first; c < first + perThread; c++) {
                      try {
                        byte[] r = site.replicator.executeShared((int) (c % 2), command(c)).get();
                        results.put(c, value(r));
                      } catch (Exception e) {
                        errors.add(e);
                      }
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(errors).isEmpty();
    return results;
  }

  /** Both sites applied the same commands in the same order, and each result is its position. */
  private static void assertOneOrder(ReplicationHarness h, Map<Long, Long> results) {
    for (int v = 0; v < 2; v++) {
      List<Long> atA = h.a.machine.applied(v);
      assertThat(h.b.machine.applied(v)).as("volume %d", v).isEqualTo(atA);
      for (int i = 0; i < atA.size(); i++) {
        Long result = results.get(atA.get(i));
        if (result != null) {
          assertThat(result).as("result of command %d", atA.get(i)).isEqualTo(i + 1);
        }
      }
    }
  }

  @Test
  void commandsFromBothSitesAreAppliedInOneOrderAtBothAndSurviveASwitchover() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 2, TestSite.FAST)) {
      h.awaitInSync();
      Map<Long, Long> first = issueConcurrently(h, 0, 50);
      assertThat(first).hasSize(200);
      assertOneOrder(h, first);
      assertThat(h.a.machine.applied(0).size() + h.a.machine.applied(1).size()).isEqualTo(200);

      h.a.replicator.switchover().get();
      await("B leads", () -> h.b.status().role() == Role.LEADER);
      h.awaitInSync();
      Map<Long, Long> second = issueConcurrently(h, 100_000, 25);
      assertThat(second).hasSize(100);
      Map<Long, Long> all = new HashMap<>(first);
      all.putAll(second);
      assertOneOrder(h, all);
    }
  }

  @Test
  void commandsIssuedDuringASwitchoverAreHeldAndAppliedInOneOrder() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 2, TestSite.FAST)) {
      h.awaitInSync();
      CompletableFuture<Map<Long, Long>> load =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return issueConcurrently(h, 0, 40);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      await("some commands applied", () -> h.a.machine.applied(0).size() > 5);
      h.a.replicator.switchover().get();
      Map<Long, Long> results = load.get();
      assertThat(results).hasSize(160);
      await("B leads", () -> h.b.status().role() == Role.LEADER);
      assertOneOrder(h, results);
    }
  }

  @Test
  void aResyncedFollowerInstallsTheLeadersStateAndRefusesWhileUnavailable() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      for (long c = 1; c <= 3; c++) {
        h.b.replicator.executeShared(0, command(c)).get();
      }
      h.cutAndAwaitAlone();
      assertThatThrownBy(() -> h.b.replicator.executeShared(0, command(99)).get())
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(UnavailableException.class);
      // The leader alone acknowledges on the write rule: at once, the follower not serving.
      assertThat(value(h.a.replicator.executeShared(0, command(4)).get())).isEqualTo(4);
      assertThat(value(h.a.replicator.executeShared(0, command(5)).get())).isEqualTo(5);
      assertThat(h.b.machine.applied(0)).containsExactly(1L, 2L, 3L);
      int installs = h.b.machine.installs();
      h.link.heal();
      h.awaitInSync();
      assertThat(h.b.machine.installs()).isGreaterThan(installs);
      assertThat(h.b.machine.applied(0)).containsExactly(1L, 2L, 3L, 4L, 5L);
      assertThat(value(h.b.replicator.executeShared(0, command(6)).get())).isEqualTo(6);
      assertThat(h.a.machine.applied(0)).isEqualTo(h.b.machine.applied(0));
    }
  }

  @Test
  void aFencedLeadersLoneChangesAreReplacedByTheNewLeadersState() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      h.awaitInSync();
      h.a.replicator.executeShared(0, command(1)).get();
      h.cutAndAwaitAlone();
      h.a.replicator.executeShared(0, command(2)).get(); // A alone: lost by the failover
      h.b.replicator.forceFailover("A lost").get();
      await("B serves", () -> serving(h.b));
      h.b.replicator.executeShared(0, command(3)).get();
      h.link.heal();
      h.awaitInSync();
      assertThat(h.a.machine.applied(0)).containsExactly(1L, 3L);
      assertThat(h.b.machine.applied(0)).containsExactly(1L, 3L);
    }
  }

  @Test
  void aBadVolumeOrOversizedCommandIsRejectedUpFront() throws Exception {
    try (ReplicationHarness h = new ReplicationHarness(dir, 1, TestSite.FAST)) {
      CompletableFuture<byte[]> bad = h.a.replicator.executeShared(1, command(1));
      assertThatThrownBy(bad::get).hasCauseInstanceOf(IllegalArgumentException.class);
      CompletableFuture<byte[]> huge =
          h.a.replicator.executeShared(
              0, new byte[io.duet.sync.proto.FrameCodec.MAX_DATA_BYTES + 1]);
      assertThatThrownBy(huge::get).hasCauseInstanceOf(IllegalArgumentException.class);
    }
  }
}
