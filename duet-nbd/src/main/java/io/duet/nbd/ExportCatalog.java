package io.duet.nbd;

import io.duet.store.Volume;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the NBD server may offer a client: the node implements it over its state (export names,
 * allowed networks). Both methods are called on connection threads and must be thread-safe and
 * quick; they decide access, so an export the client may not use is simply absent.
 */
public interface ExportCatalog {

  /** Names of the exports {@code client} may open, for NBD_OPT_LIST. */
  List<String> list(InetAddress client, Optional<String> clientCertSubject);

  /** The export called {@code name} if it exists and {@code client} may use it. */
  Optional<Export> open(String name, InetAddress client, Optional<String> clientCertSubject);

  /**
   * One export: a volume under a name.
   *
   * @param name the NBD export name clients ask for
   * @param description shown by clients (NBD_INFO_DESCRIPTION); empty for none
   * @param volume the volume served (the same object the iSCSI target serves)
   * @param readOnly whether writes, trims and zeroing are refused with EPERM
   */
  record Export(String name, String description, Volume volume, boolean readOnly) {
    public Export {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(description, "description");
      Objects.requireNonNull(volume, "volume");
    }
  }
}
