package io.duet.mediator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.mediator.MediatorException.Kind;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Which site each principal acts for, in {@code secrets/site-bindings}: one site per principal and
 * one principal per site, so a user (or certificate) of one site can neither speak for the other
 * site nor take over a site that already has its own. A principal is bound at its first request
 * that names a site (trust on first use; an operator may bind in advance instead), durably before
 * that request is applied, and stays bound until an operator unbinds it with the mediator stopped.
 *
 * <p>Whoever opens the bindings holds a lock on {@code secrets/site-bindings.lock} until {@link
 * #close()}: the running mediator keeps the map in memory and rewrites the file from it, so an
 * offline change made beside it would be silently undone. The lock makes that an error instead.
 */
final class SiteBindings implements AutoCloseable {
  static final String FILE = "site-bindings";
  static final String LOCK_FILE = "site-bindings.lock";
  static final int FORMAT = 1;
  static final int MAX_BINDINGS = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dataDir;
  private final Path file;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Map<String, UUID> siteOf = new HashMap<>();
  private final Map<UUID, String> principalOf = new HashMap<>();

  private SiteBindings(Path dataDir, FileChannel lockChannel, FileLock lock) throws IOException {
    this.dataDir = dataDir;
    this.file = MediatorCa.secretsDir(dataDir).resolve(FILE);
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Loads the bindings of the mediator in {@code dataDir} and locks them for this process.
   *
   * @throws MediatorException {@link Kind#CONFLICT} while another process (a running mediator) or
   *     another opener in this JVM holds them
   * @throws IOException if the file is damaged (naming it) or cannot be read
   */
  static SiteBindings open(Path dataDir) throws IOException {
    Path secrets = MediatorCa.secretsDir(dataDir);
    FileChannel channel =
        FileChannel.open(
            secrets.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new MediatorException(
          Kind.CONFLICT,
          "the site bindings of the mediator in "
              + dataDir
              + " are in use: stop the mediator running there first");
    }
    SiteBindings b = new SiteBindings(dataDir, channel, lock);
    try {
      b.load();
    } catch (IOException | RuntimeException e) {
      b.close();
      throw e;
    }
    return b;
  }

  private void load() throws IOException {
    Optional<byte[]> stored = AtomicFile.read(file);
    if (stored.isEmpty()) {
      return;
    }
    try {
      JsonNode root = JSON.readTree(stored.get());
      if (root == null || !root.isObject() || root.path("format").asInt(-1) != FORMAT) {
        throw new IOException("unsupported format (this mediator reads format " + FORMAT + ")");
      }
      JsonNode bindings = root.get("bindings");
      if (bindings == null || !bindings.isObject()) {
        throw new IOException("no bindings object");
      }
      for (Map.Entry<String, JsonNode> e : bindings.properties()) {
        String key = Principal.ofKey(e.getKey()).key();
        UUID site = UUID.fromString(e.getValue().asText());
        if (principalOf.put(site, key) != null) {
          throw new IOException("site " + site + " is bound twice");
        }
        siteOf.put(key, site);
      }
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + ": bad site bindings: " + e.getMessage(), e);
    }
  }

  /**
   * Lets {@code principal} act for {@code site}, binding both on first use (durable on return).
   *
   * @throws MediatorException {@link Kind#FORBIDDEN} when the principal acts for another site or
   *     the site has another principal, saying which and how to fix it; {@link Kind#INTERNAL} when
   *     a new binding cannot be made durable
   */
  synchronized void authorize(Principal principal, UUID site) throws MediatorException {
    UUID bound = siteOf.get(principal.key());
    if (site.equals(bound)) {
      return;
    }
    if (bound != null) {
      throw new MediatorException(
          Kind.FORBIDDEN,
          principal
              + " acts for site "
              + bound
              + " and may not act for site "
              + site
              + ": give each site its own mediator user ('duet mediator add' at that site);"
              + " if this principal really moved to another site, stop the mediator and run '"
              + principal.unbindCommand(dataDir)
              + "'");
    }
    String other = principalOf.get(site);
    if (other != null) {
      Principal owner = Principal.ofKey(other);
      throw new MediatorException(
          Kind.FORBIDDEN,
          "site "
              + site
              + " is bound to "
              + owner
              + ", so "
              + principal
              + " may not act for it: configure that site with its own user; if the site's user"
              + " changed, stop the mediator and run '"
              + owner.unbindCommand(dataDir)
              + "'");
    }
    put(principal, site);
  }

  /**
   * Binds {@code principal} to {@code site} ahead of its first request (an operator's choice).
   * Binding it again to the same site is harmless.
   *
   * @throws MediatorException {@link Kind#CONFLICT} when either is bound elsewhere already
   */
  synchronized void bind(Principal principal, UUID site) throws MediatorException {
    try {
      authorize(principal, site);
    } catch (MediatorException e) {
      throw new MediatorException(
          e.kind() == Kind.FORBIDDEN ? Kind.CONFLICT : e.kind(), e.getMessage(), e);
    }
  }

  /** Frees {@code principal} (durable on return); whether it was bound. */
  synchronized Optional<UUID> unbind(Principal principal) throws MediatorException {
    UUID site = siteOf.get(principal.key());
    if (site == null) {
      return Optional.empty();
    }
    Map<String, UUID> next = new TreeMap<>(siteOf);
    next.remove(principal.key());
    persist(next);
    siteOf.remove(principal.key());
    principalOf.remove(site);
    return Optional.of(site);
  }

  /** The site {@code principal} acts for, if it is bound. */
  synchronized Optional<UUID> siteOf(Principal principal) {
    return Optional.ofNullable(siteOf.get(principal.key()));
  }

  /** Every binding, by principal key. */
  synchronized Map<String, UUID> all() {
    return new TreeMap<>(siteOf);
  }

  private void put(Principal principal, UUID site) throws MediatorException {
    if (siteOf.size() >= MAX_BINDINGS) {
      throw new MediatorException(
          Kind.CONFLICT, "this mediator holds its maximum of " + MAX_BINDINGS + " site bindings");
    }
    Map<String, UUID> next = new TreeMap<>(siteOf);
    next.put(principal.key(), site);
    // Durable before it is kept or relied on: a binding answered and then lost in a crash would
    // let another principal claim the site after the restart.
    persist(next);
    siteOf.put(principal.key(), site);
    principalOf.put(site, principal.key());
  }

  private void persist(Map<String, UUID> bindings) throws MediatorException {
    ObjectNode root = JSON.createObjectNode().put("format", FORMAT);
    ObjectNode out = root.putObject("bindings");
    bindings.forEach((k, v) -> out.put(k, v.toString()));
    try {
      AtomicFile.write(file, JSON.writeValueAsBytes(root));
    } catch (IOException e) {
      throw new MediatorException(
          Kind.INTERNAL, "cannot make the site bindings durable in " + file + ": " + e, e);
    }
  }

  /** Releases the lock; the bindings are durable already. */
  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }
}
