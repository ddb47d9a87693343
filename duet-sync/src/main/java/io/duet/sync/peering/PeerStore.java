package io.duet.sync.peering;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The durable list of paired sites ({@code peers.bin} in the data directory). Every change is
 * written atomically before the method returns, so a pairing that reported success survives a
 * crash. Thread-safe.
 */
public final class PeerStore {
  static final String FILE = "peers.bin";

  private final Path file;
  private final List<Consumer<PeerRecord>> onAdded = new CopyOnWriteArrayList<>();
  private List<PeerRecord> peers;

  private PeerStore(Path file, List<PeerRecord> peers) {
    this.file = file;
    this.peers = List.copyOf(peers);
  }

  /** Opens the store in {@code dir}; a missing file is an empty store, a damaged one an error. */
  public static PeerStore open(Path dir) throws IOException {
    Path file = dir.resolve(FILE);
    try {
      return new PeerStore(file, PeerStoreFormat.decode(Files.readAllBytes(file)));
    } catch (NoSuchFileException e) {
      return new PeerStore(file, List.of());
    } catch (IOException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  /** Calls {@code listener} after each peer is stored (pairing on either side). */
  public void onAdded(Consumer<PeerRecord> listener) {
    onAdded.add(listener);
  }

  public synchronized List<PeerRecord> list() {
    return peers;
  }

  public synchronized Optional<PeerRecord> byName(String name) {
    return peers.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  public synchronized Optional<PeerRecord> byFingerprint(String fingerprint) {
    return peers.stream().filter(p -> p.fingerprint().equals(fingerprint)).findFirst();
  }

  public synchronized Optional<PeerRecord> byId(UUID siteId) {
    return peers.stream().filter(p -> p.siteId().equals(siteId)).findFirst();
  }

  /**
   * Stores {@code peer}, replacing an earlier record of the same site (re-pairing after a lost
   * reply or a new certificate). A different site already stored under the same name is refused:
   * names are how operators address peers.
   */
  public void put(PeerRecord peer) throws IOException {
    synchronized (this) {
      List<PeerRecord> next = new ArrayList<>();
      for (PeerRecord p : peers) {
        if (p.siteId().equals(peer.siteId())) {
          continue;
        }
        if (p.name().equals(peer.name())) {
          throw new IOException(
              "a different site named " + peer.name() + " is already paired (" + p.siteId() + ")");
        }
        next.add(p);
      }
      next.add(peer);
      if (next.size() > PeerStoreFormat.MAX_PEERS) {
        throw new IOException("too many peers (at most " + PeerStoreFormat.MAX_PEERS + ")");
      }
      DurableFile.replace(file, PeerStoreFormat.encode(next), false);
      peers = List.copyOf(next);
    }
    for (Consumer<PeerRecord> l : onAdded) {
      l.accept(peer);
    }
  }

  /** Forgets the peer named {@code name}; returns it, or empty if there was none. */
  public synchronized Optional<PeerRecord> remove(String name) throws IOException {
    Optional<PeerRecord> found = byName(name);
    if (found.isPresent()) {
      List<PeerRecord> next = new ArrayList<>(peers);
      next.remove(found.get());
      DurableFile.replace(file, PeerStoreFormat.encode(next), false);
      peers = List.copyOf(next);
    }
    return found;
  }
}
