package io.duet.node.cg;

import io.duet.scsi.SharedUnitState;
import io.duet.scsi.UnitAlua;
import io.duet.store.LocalVolume;
import io.duet.store.Volume;
import io.duet.store.VolumeStore;
import io.duet.sync.Mediator;
import io.duet.sync.SharedStateMachine;
import io.duet.sync.link.LinkChannels;
import io.duet.sync.peering.PeerRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What the consistency groups need from the rest of the site: its identity and ports, its volume
 * store, its paired peers and their links, its event log, and the front-ends (SCSI units, NBD
 * exports) whose volumes they replace by replicated ones. The node implements it.
 */
public interface GroupSite {
  String name();

  UUID siteId();

  /** The data directory ({@code cgs.state} and per-group state go there). */
  Path dataDir();

  /** This site's ports, targets and portals as they are now. */
  SiteInfo info();

  VolumeStore store();

  Optional<PeerRecord> peerByName(String name);

  Optional<PeerRecord> peerById(UUID siteId);

  /** The channels over the link to a paired site; empty when peering is off or not paired. */
  Optional<LinkChannels> channels(UUID peerSiteId);

  void event(String type, String subject, String message);

  /** A volume was created here as the twin of a peer's volume: give it a logical unit. */
  void volumeCreated(LocalVolume volume);

  /** A twin created here is removed again because its group could not be created. */
  void volumeDropped(String volume);

  /**
   * Hosts reach {@code volume} through {@code served} from now on: the replicated volume while it
   * is in a group, the local volume (null) once it leaves.
   */
  void serve(String volume, Volume served);

  /**
   * Routes the shared-state changes (persistent reservations, resets) of {@code volume}'s unit
   * through its group, which applies them at both sites in one order; null: applied here alone.
   */
  void shareUnitState(String volume, SharedUnitState via);

  /** The replicated unit state of a group's volumes, by their index in the group. */
  SharedStateMachine unitState(List<String> volumes);

  /**
   * The ALUA base states of the two sites' port groups for the units of {@code volumes}, as this
   * site knows them; null: the volumes left their group and follow the site's own port group.
   */
  void alua(List<String> volumes, AluaStates states);

  /**
   * The group's connection to this site's mediator, {@link Mediator#NONE} when none is configured.
   *
   * @param leaderHint the leader as the group's record knows it (registers the relationship)
   */
  Mediator mediator(UUID groupId, UUID peerSiteId, UUID leaderHint);

  /** The address of this site's mediator, when one is configured. */
  Optional<String> mediatorAddress();

  /** A group was deleted: the mediator forgets it too (best effort, in the background). */
  void forgetAtMediator(UUID groupId, String name);

  /**
   * Both sites' port groups with their base states.
   *
   * @param localState whether this site serves the group's volumes (active), does not
   *     (unavailable), or waits for the mediator's decision (transitioning)
   * @param peerState the peer's, as far as this site knows
   * @param peer the peer's ports (empty relative port ids when unknown)
   */
  record AluaStates(
      SiteInfo local, UnitAlua.BaseState localState, SiteInfo peer, UnitAlua.BaseState peerState) {}
}
