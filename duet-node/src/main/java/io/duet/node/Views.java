package io.duet.node;

import io.duet.iscsi.IscsiServer;
import io.duet.store.LocalVolume;
import java.util.List;

/** What the REST API returns, as records Jackson turns into JSON. Secrets never appear here. */
final class Views {
  private Views() {}

  record Volume(
      String name,
      String uuid,
      long sizeBytes,
      String size,
      int blockSize,
      long blockCount,
      String naa,
      String serial,
      List<Long> mappings) {
    static Volume of(LocalVolume v, List<Long> mappingIds) {
      return new Volume(
          v.identity().name(),
          v.identity().uuid().toString(),
          v.sizeBytes(),
          ByteSize.format(v.sizeBytes()),
          v.blockSize(),
          v.blockCount(),
          "naa." + v.identity().naaHex(),
          v.identity().serial(),
          mappingIds);
    }
  }

  record Host(
      String name,
      List<String> iqns,
      String chapUser,
      boolean chap,
      String mutualUser,
      boolean mutualChap,
      String site) {
    static Host of(SiteState.Host h) {
      return new Host(
          h.name(),
          h.iqns(),
          h.chapUser(),
          h.chapUser() != null,
          h.mutualUser(),
          h.mutualUser() != null,
          h.site());
    }
  }

  record Target(
      String name, boolean isDefault, int portalGroupTag, List<String> portals, int mappings) {}

  record Portal(String address, int portalGroupTag, String source) {}

  record Alua(int portGroupId, String state, List<Integer> relativeTargetPortIds) {}

  record Session(
      String initiatorName,
      String isid,
      int tsih,
      String targetName,
      String remoteAddress,
      String localAddress,
      long commands) {
    static Session of(IscsiServer.SessionInfo s) {
      return new Session(
          s.initiatorName(),
          s.isid(),
          s.tsih(),
          s.targetName(),
          s.remoteAddress(),
          s.localAddress(),
          s.commands());
    }
  }

  /** An NBD export with the URLs clients use and how many are attached now. */
  record NbdExport(
      String name,
      String volume,
      boolean readOnly,
      List<String> allow,
      List<String> urls,
      long connections) {}

  /** A paired site and the state of the link to it. */
  record Peer(
      String name,
      String uuid,
      String address,
      String fingerprint,
      String link,
      String lastError) {}

  /** A pairing invitation: the passphrase is shown this once and never stored. */
  record Invitation(String passphrase, String expiresAt, int attempts, String address) {}

  record Status(
      String site,
      String uuid,
      String version,
      String startedAt,
      long uptimeSeconds,
      int volumes,
      int hosts,
      int mappings,
      int sessions,
      List<String> portals,
      List<String> targets,
      String api,
      Alua alua,
      List<NodeEvent> recentEvents,
      List<String> nbdListeners,
      List<String> nbd,
      String replication,
      List<Peer> peers,
      List<io.duet.node.cg.CgViews.Summary> cgs,
      io.duet.node.mediator.MediatorView mediator) {}
}
