package io.duet.mediator;

import io.duet.mediator.MediatorException.Kind;
import io.duet.mediator.Relationship.Contact;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * All relationships of this mediator: one atomically replaced file each under {@code
 * relationships/}, and the leaders' leases in memory. Requests are serialized (they are tiny and
 * rare: a few per second per relationship), and each new record is durable before it is kept in
 * memory or answered, so an answer never promises what a crash could take back.
 */
final class MediatorState {
  static final String DIR = "relationships";
  static final int MAX_RELATIONSHIPS = 10_000;

  private final Path dir;
  private final FailoverRules rules;
  private final MediatorClock clock;
  private final Map<UUID, Entry> entries = new HashMap<>();

  /** A record and its leader's lease (monotonic nanos; not durable, see {@link #open}). */
  private record Entry(Relationship record, long leaseUntilNanos) {}

  private MediatorState(Path dir, FailoverRules rules, MediatorClock clock) {
    this.dir = dir;
    this.rules = rules;
    this.clock = clock;
  }

  /**
   * Loads every relationship under {@code dataDir}. Each leader is treated as if it had just
   * renewed its lease: one may have been granted right before a crash, and the mediator's monotonic
   * clock did not survive it.
   *
   * @throws IOException if the directory cannot be read or a record is damaged (naming the file)
   */
  static MediatorState open(Path dataDir, FailoverRules rules, MediatorClock clock)
      throws IOException {
    Path dir = dataDir.resolve(DIR);
    AtomicFile.createDirectories(dir);
    MediatorState state = new MediatorState(dir, rules, clock);
    long lease = rules.leaseAfterRestart(clock.nanoTime());
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(MediatorState::isRecordFile).toList()) {
        Optional<byte[]> payload = AtomicFile.read(f);
        if (payload.isEmpty()) {
          continue;
        }
        Relationship r;
        try {
          r = RelationshipCodec.decode(payload.get());
        } catch (IOException e) {
          throw new IOException(f + ": " + e.getMessage(), e);
        }
        if (!f.getFileName().toString().equals(r.groupId().toString())) {
          throw new IOException(f + " holds the record of group " + r.groupId());
        }
        state.entries.put(r.groupId(), new Entry(r, lease));
      }
    }
    return state;
  }

  /**
   * Every record becomes one registered anew (see {@link FailoverRules}): after a restore from a
   * backup it may lag what the sites did since, and only a site that was down then knows the newer
   * epoch, so nothing is decided before both sites have reported again. Durable on return.
   *
   * @return how many records
   */
  synchronized int distrustAll() throws MediatorException {
    for (Map.Entry<UUID, Entry> e : entries.entrySet()) {
      Relationship r = e.getValue().record();
      Relationship next =
          r.withPending(new Relationship.Pending(java.util.Set.of(r.siteA(), r.siteB()), null));
      persist(next);
      e.setValue(new Entry(next, e.getValue().leaseUntilNanos()));
    }
    return entries.size();
  }

  private static boolean isRecordFile(Path f) {
    String name = f.getFileName().toString();
    return name.length() == 36 && !name.contains(".");
  }

  /**
   * Records a relationship, or confirms the one recorded: the same members are accepted again (each
   * site registers; retries are harmless) and the record is answered as it stands.
   */
  synchronized RelationshipView register(
      UUID group, UUID siteA, UUID siteB, UUID leader, long epoch) throws MediatorException {
    Entry e = entries.get(group);
    if (e != null) {
      Relationship r = e.record();
      boolean same =
          (r.siteA().equals(siteA) && r.siteB().equals(siteB))
              || (r.siteA().equals(siteB) && r.siteB().equals(siteA));
      if (!same) {
        throw new MediatorException(
            Kind.CONFLICT,
            "group " + group + " is registered between " + r.siteA() + " and " + r.siteB());
      }
      return view(e);
    }
    if (entries.size() >= MAX_RELATIONSHIPS) {
      throw new MediatorException(
          Kind.CONFLICT, "this mediator holds its maximum of relationships");
    }
    Relationship r;
    try {
      // Unconfirmed until both sites report: this may be a record the mediator lost (a restored
      // backup, a replaced data directory), registered again by whichever site came first.
      r = Relationship.registered(group, siteA, siteB, epoch, leader);
    } catch (IllegalArgumentException ex) {
      throw MediatorException.invalid(ex.getMessage());
    }
    Entry created = new Entry(r, rules.leaseAfterRestart(clock.nanoTime()));
    persist(r);
    entries.put(group, created);
    return view(created);
  }

  /** Forgets a relationship (its group was deleted); unknown groups are not an error. */
  synchronized void remove(UUID group) throws MediatorException {
    if (entries.containsKey(group)) {
      delete(group);
    }
  }

  /**
   * Forgets a relationship at the request of one of its members. Checked here, under the lock, so
   * the record cannot change members between the check and the delete.
   *
   * @param by the site the requester acts for, or null for one that acts for no site yet
   * @param who the requester, for the error
   * @throws MediatorException {@link Kind#FORBIDDEN} when the record exists and {@code by} is not
   *     one of its sites
   */
  synchronized void remove(UUID group, UUID by, String who) throws MediatorException {
    Entry e = entries.get(group);
    if (e == null) {
      return;
    }
    Relationship r = e.record();
    if (by == null || !r.isMember(by)) {
      throw new MediatorException(
          Kind.FORBIDDEN,
          who
              + (by == null ? " acts for no site yet" : " acts for site " + by)
              + ", and only a member site may delete group "
              + group
              + " (its sites are "
              + r.siteA()
              + " and "
              + r.siteB()
              + ")");
    }
    delete(group);
  }

  private void delete(UUID group) throws MediatorException {
    try {
      AtomicFile.delete(dir.resolve(group.toString()));
    } catch (IOException e) {
      throw new MediatorException(Kind.INTERNAL, "cannot delete " + group + ": " + e, e);
    }
    entries.remove(group);
  }

  /** Applies {@code req}: decides, makes the result durable, then answers. */
  synchronized Decision apply(UUID group, Request req) throws MediatorException {
    Entry e = entry(group);
    if (!e.record().isMember(req.site())) {
      throw new MediatorException(
          Kind.FORBIDDEN, "site " + req.site() + " is not a member of group " + group);
    }
    if (req.epoch() < 0) {
      throw MediatorException.invalid("epoch must not be negative");
    }
    FailoverRules.Step step = rules.apply(e.record(), e.leaseUntilNanos(), req, clock.nanoTime());
    Relationship next = step.next().withContact(req.site(), new Contact(clock.now(), req.epoch()));
    persist(next);
    Entry kept = new Entry(next, step.leaseUntilNanos());
    entries.put(group, kept);
    return new Decision(
        step.granted(), step.reason(), step.message(), step.waitMs(), step.leaseMs(), view(kept));
  }

  synchronized RelationshipView view(UUID group) throws MediatorException {
    return view(entry(group));
  }

  synchronized List<RelationshipView> views() {
    List<RelationshipView> out = new ArrayList<>();
    for (Entry e : entries.values()) {
      out.add(view(e));
    }
    out.sort(Comparator.comparing(v -> v.groupId().toString()));
    return out;
  }

  private Entry entry(UUID group) throws MediatorException {
    Entry e = entries.get(group);
    if (e == null) {
      throw new MediatorException(Kind.NOT_FOUND, "no relationship for group " + group);
    }
    return e;
  }

  private void persist(Relationship r) throws MediatorException {
    try {
      AtomicFile.write(dir.resolve(r.groupId().toString()), RelationshipCodec.encode(r));
    } catch (IOException ex) {
      throw new MediatorException(
          Kind.INTERNAL, "cannot make the record of " + r.groupId() + " durable: " + ex, ex);
    }
  }

  private RelationshipView view(Entry e) {
    Relationship r = e.record();
    long now = clock.nanoTime();
    long remaining = Math.max(0, (e.leaseUntilNanos() - now) / 1_000_000);
    List<RelationshipView.SiteContact> sites = new ArrayList<>();
    for (UUID site : List.of(r.siteA(), r.siteB())) {
      Contact c = r.contacts().get(site);
      sites.add(
          c == null
              ? new RelationshipView.SiteContact(site, null, -1, 0)
              : new RelationshipView.SiteContact(
                  site,
                  c.at().toString(),
                  Math.max(0, clock.now().toEpochMilli() - c.at().toEpochMilli()),
                  c.reportedEpoch()));
    }
    return new RelationshipView(
        r.groupId(),
        r.siteA(),
        r.siteB(),
        r.epoch(),
        r.leader(),
        r.inSync(),
        r.survivor(),
        r.preElected(),
        remaining,
        sites,
        r.pending() == null ? List.of() : r.pending().awaiting().stream().sorted().toList());
  }
}
