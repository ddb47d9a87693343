package io.duet.iscsi;

import io.duet.scsi.AluaGroups;
import io.duet.scsi.AluaState;
import io.duet.scsi.LogicalUnit;
import io.duet.scsi.LunMap;
import io.duet.scsi.PersistentState;
import io.duet.scsi.ScsiSite;
import io.duet.scsi.TargetPort;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * A development target for real initiators: one iSCSI target over real logical units in a
 * directory, on 127.0.0.1:PORT. Run it with {@code duet-iscsi/dev-target.sh PORT DIR}.
 *
 * <p>Environment: DUET_TARGET (IQN, default iqn.2026-11.io.duet:dev), DUET_SIZE_MB (LUN 0 size,
 * default 1024), DUET_CHAP_USER/DUET_CHAP_SECRET (one-way CHAP for every initiator),
 * DUET_CHAP_TARGET_USER/DUET_CHAP_TARGET_SECRET (mutual), DUET_INITIATORS (comma list of allowed
 * initiators; empty allows all).
 */
public final class DevTarget {
  private DevTarget() {}

  /** Starts a dev target with {@code port} and {@code dir}; returns the running server. */
  static IscsiServer start(
      int port,
      Path dir,
      String iqn,
      long sizeBytes,
      TargetCatalog.ChapCredentials chap,
      List<String> allowed)
      throws Exception {
    VolumeStore store = VolumeStore.open(dir);
    Volume lun0 =
        store.get("dev0").isPresent()
            ? store.get("dev0").get()
            : store.create("dev0", sizeBytes, 512);
    Volume lun1 =
        store.get("dev1").isPresent()
            ? store.get("dev1").get()
            : store.create("dev1", 64L * 1024 * 1024, 4096);
    AluaGroups alua =
        new AluaGroups(
            List.of(new AluaGroups.PortGroup(1, AluaState.ACTIVE_OPTIMIZED, List.of(1))));
    ScsiSite site = new ScsiSite(alua);
    LunMap map = new LunMap();
    TreeMap<Integer, LunMap.Binding> bindings = new TreeMap<>();
    bindings.put(0, new LunMap.Binding(new LogicalUnit(lun0, site, PersistentState.NONE), false));
    bindings.put(1, new LunMap.Binding(new LogicalUnit(lun1, site, PersistentState.NONE), false));
    map.replace(bindings);
    TargetPort tp = new TargetPort(iqn + ",t,0x1", iqn, 1, 1);
    TargetCatalog.Target target =
        new TargetCatalog.Target() {
          @Override
          public String name() {
            return iqn;
          }

          @Override
          public TargetPort port() {
            return tp;
          }

          @Override
          public Optional<LunMap> lunsFor(String initiatorName) {
            return allowed.isEmpty() || allowed.contains(initiatorName)
                ? Optional.of(map)
                : Optional.empty();
          }
        };
    TargetCatalog catalog =
        new TargetCatalog() {
          @Override
          public List<DiscoveredTarget> discover(String initiatorName) {
            return List.of(new DiscoveredTarget(iqn, List.of(new Portal("127.0.0.1", port, 1))));
          }

          @Override
          public Optional<Target> target(String name) {
            return name.equals(iqn) ? Optional.of(target) : Optional.empty();
          }

          @Override
          public Optional<ChapCredentials> credentials(String initiatorName) {
            return Optional.ofNullable(chap);
          }
        };
    IscsiServer server = new IscsiServer(catalog);
    server.listen(new InetSocketAddress("127.0.0.1", port), 1);
    return server;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: DevTarget PORT DIR");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    Path dir = Path.of(args[1]);
    String iqn = env("DUET_TARGET", "iqn.2026-11.io.duet:dev");
    long size = Long.parseLong(env("DUET_SIZE_MB", "1024")) * 1024 * 1024;
    TargetCatalog.ChapCredentials chap = null;
    String user = System.getenv("DUET_CHAP_USER");
    if (user != null) {
      String tUser = System.getenv("DUET_CHAP_TARGET_USER");
      String tSecret = System.getenv("DUET_CHAP_TARGET_SECRET");
      chap =
          new TargetCatalog.ChapCredentials(
              user,
              bytes(env("DUET_CHAP_SECRET", "")),
              tUser,
              tSecret == null ? null : bytes(tSecret));
    }
    String allowed = env("DUET_INITIATORS", "");
    List<String> acl = allowed.isEmpty() ? List.of() : Arrays.asList(allowed.split(","));
    IscsiServer server = start(port, dir, iqn, size, chap, acl);
    System.out.println("Duet dev target " + iqn + " on 127.0.0.1:" + port + " (LUN 0, 1)");
    new CountDownLatch(1).await();
    server.close();
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
