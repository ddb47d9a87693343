package io.duet.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks G1 after a run of {@link LoadWriter}s: every slot any writer touched, read at a site,
 * holds the last acknowledged write to it or a write sent after that one (whose acknowledgement was
 * lost, refused or never came). A slot with no acknowledged write may also still be zero.
 */
final class WriteChecker {
  static final int REGION_BYTES = 64 * 1024;
  private static final int SLOTS_PER_READ = 16;

  private WriteChecker() {}

  /** Reads every slot of every writer's range at the site behind {@code portal} and checks it. */
  static void check(List<LoadWriter> writers, InetSocketAddress portal, String target, String site)
      throws IOException {
    List<String> errors = new ArrayList<>();
    int checked = 0;
    try (RawInitiator s =
        RawInitiator.login(portal, "iqn.2026-11.io.duet.test:checker", target, 0x400000300000L)) {
      clearUnitAttentions(s);
      for (LoadWriter w : writers) {
        Map<Long, Set<Long>> allowed = allowed(w.attempts());
        for (long first = w.firstSlot();
            first < w.firstSlot() + w.slots();
            first += SLOTS_PER_READ) {
          int n = (int) Math.min(SLOTS_PER_READ, w.firstSlot() + w.slots() - first);
          RawInitiator.Response r =
              s.command(
                  0,
                  Cdbs.read10(first * TaggedSlot.BLOCKS, n * TaggedSlot.BLOCKS),
                  null,
                  n * TaggedSlot.BYTES);
          if (r.status() != 0) {
            throw new AssertionError(
                "READ at "
                    + site
                    + " failed: status "
                    + r.status()
                    + " sense "
                    + String.format("%x/%02x/%02x", r.senseKey(), r.asc(), r.ascq()));
          }
          for (int i = 0; i < n; i++) {
            long slot = first + i;
            Set<Long> ok = allowed.get(slot);
            if (ok == null) {
              continue; // never written by this writer
            }
            checked++;
            TaggedSlot.Found f = TaggedSlot.decode(r.data(), i * TaggedSlot.BYTES, slot);
            boolean fine = f.zero() ? ok.contains(-1L) : f.writer() == w.id && ok.contains(f.seq());
            if (!fine) {
              errors.add(
                  "slot "
                      + slot
                      + " at "
                      + site
                      + " holds "
                      + f
                      + "; allowed writer "
                      + w.id
                      + " seq "
                      + new TreeSet<>(ok)
                      + " (-1 = zeros)");
            }
          }
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new AssertionError(
          errors.size()
              + " of "
              + checked
              + " slots lost acknowledged writes at "
              + site
              + ": "
              + errors.subList(0, Math.min(10, errors.size())));
    }
    if (checked == 0) {
      throw new AssertionError("nothing was written, so nothing was checked");
    }
  }

  /** Per slot the sequence numbers a read may return; -1 stands for zeros (never written). */
  static Map<Long, Set<Long>> allowed(List<LoadWriter.Attempt> attempts) {
    Map<Long, Long> lastAck = new HashMap<>();
    for (LoadWriter.Attempt a : attempts) {
      if (a.outcome() == LoadWriter.Outcome.ACKED) {
        lastAck.merge(a.slot(), a.seq(), Math::max);
      }
    }
    Map<Long, Set<Long>> allowed = new HashMap<>();
    for (LoadWriter.Attempt a : attempts) {
      long floor = lastAck.getOrDefault(a.slot(), -1L);
      Set<Long> ok = allowed.computeIfAbsent(a.slot(), k -> new HashSet<>());
      ok.add(floor);
      if (a.seq() > floor) {
        ok.add(a.seq());
      }
    }
    return allowed;
  }

  /** The 64 KiB regions the given writes touched. */
  static Set<Long> regions(List<LoadWriter.Attempt> attempts) {
    return regions(attempts, REGION_BYTES);
  }

  /** The {@code unitBytes}-sized units (regions, activity-log extents) the given writes touched. */
  static Set<Long> regions(List<LoadWriter.Attempt> attempts, long unitBytes) {
    Set<Long> units = new HashSet<>();
    for (LoadWriter.Attempt a : attempts) {
      units.add(a.slot() * TaggedSlot.BYTES / unitBytes);
    }
    return units;
  }

  static void clearUnitAttentions(RawInitiator s) throws IOException {
    for (int i = 0; i < 8; i++) {
      RawInitiator.Response r = s.command(0, Cdbs.testUnitReady(), null, 0);
      if (r.status() == 0) {
        return;
      }
      if (r.senseKey() != 6) {
        throw new AssertionError(
            "TEST UNIT READY: status "
                + r.status()
                + String.format(" sense %x/%02x/%02x", r.senseKey(), r.asc(), r.ascq()));
      }
    }
    throw new AssertionError("unit attentions never cleared");
  }
}
