package io.duet.iscsi;

import io.duet.scsi.LunMap;
import io.duet.scsi.TargetPort;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** An in-memory {@link TargetCatalog} for tests: one target, an ACL, CHAP per initiator. */
final class FakeCatalog implements TargetCatalog {
  static final String TARGET = "iqn.2026-11.io.duet:t0";

  final Map<String, ChapCredentials> chap = new ConcurrentHashMap<>();

  /** Initiators allowed; null allows everyone. */
  volatile List<String> acl;

  volatile List<Portal> portals = List.of(new Portal("127.0.0.1", 3260, 1));

  final Target target =
      new Target() {
        @Override
        public String name() {
          return TARGET;
        }

        @Override
        public TargetPort port() {
          return new TargetPort(TARGET + ",t,0x1", TARGET, 1, 1);
        }

        @Override
        public Optional<LunMap> lunsFor(String initiatorName) {
          return Optional.empty(); // tests resolve LUNs through allowed() and a fake
        }
      };

  boolean allowed(String initiator) {
    List<String> a = acl;
    return a == null || a.contains(initiator);
  }

  @Override
  public List<DiscoveredTarget> discover(String initiatorName) {
    return allowed(initiatorName) ? List.of(new DiscoveredTarget(TARGET, portals)) : List.of();
  }

  @Override
  public Optional<Target> target(String targetName) {
    return TARGET.equals(targetName) ? Optional.of(target) : Optional.empty();
  }

  @Override
  public Optional<ChapCredentials> credentials(String initiatorName) {
    return Optional.ofNullable(chap.get(initiatorName));
  }
}
