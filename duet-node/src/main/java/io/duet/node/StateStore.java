package io.duet.node;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Keeps the site's {@link SiteState} in one CRC-checked, atomically replaced JSON file. Every
 * change is written and fsynced before the new value becomes visible, so an API answer never
 * reports a change that a crash could lose.
 */
final class StateStore {
  private final Path file;
  private final ObjectMapper json;
  private volatile SiteState current;

  private StateStore(Path file, ObjectMapper json, SiteState initial) {
    this.file = file;
    this.json = json;
    this.current = initial;
  }

  /** Loads the state file, or creates a fresh state (new site UUID) when there is none. */
  static StateStore open(Path file, ObjectMapper json, String initialAluaState) throws IOException {
    ObjectMapper strict = json.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    Optional<byte[]> bytes = AtomicFile.read(file);
    if (bytes.isPresent()) {
      SiteState loaded;
      try {
        loaded = strict.readValue(bytes.get(), SiteState.class);
      } catch (IOException | RuntimeException e) {
        throw new IOException(file + ": state file is not valid: " + e.getMessage(), e);
      }
      if (loaded.version() != SiteState.VERSION) {
        throw new IOException(file + ": unsupported state version " + loaded.version());
      }
      return new StateStore(file, json, loaded);
    }
    SiteState fresh =
        new SiteState(
            SiteState.VERSION,
            UUID.randomUUID().toString(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            initialAluaState,
            1,
            List.of());
    StateStore store = new StateStore(file, json, fresh);
    store.save(fresh);
    return store;
  }

  SiteState get() {
    return current;
  }

  /**
   * Applies {@code change}, saves the result durably, then publishes it. Callers serialize updates
   * (the admin lock); readers never block.
   */
  SiteState update(UnaryOperator<SiteState> change) throws IOException {
    SiteState next = change.apply(current);
    save(next);
    current = next;
    return next;
  }

  private void save(SiteState state) throws IOException {
    AtomicFile.write(file, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
  }
}
