package io.duet.nbd;

import io.duet.store.Volume;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** An in-process catalog for tests: named exports, open to every client. */
final class TestExports implements ExportCatalog {
  private final Map<String, Export> exports = new ConcurrentHashMap<>();

  TestExports add(String name, Volume volume, boolean readOnly) {
    exports.put(name, new Export(name, "test export " + name, volume, readOnly));
    return this;
  }

  @Override
  public List<String> list(InetAddress client, Optional<String> clientCertSubject) {
    return exports.keySet().stream().sorted().toList();
  }

  @Override
  public Optional<Export> open(String name, InetAddress client, Optional<String> subject) {
    return Optional.ofNullable(exports.get(name));
  }
}
