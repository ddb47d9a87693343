package io.duet.store;

import java.util.Objects;
import java.util.UUID;

/**
 * The identity a volume keeps for life and that replication copies to the peer site: hosts see the
 * same NAA designator (VPD 0x83) and serial (VPD 0x80) on every path.
 *
 * @param uuid unique id of the volume
 * @param name the operator's name for it
 * @param naa 16 bytes: an NAA type 6 (IEEE registered extended) designator
 * @param serial the unit serial number, printable ASCII
 */
public record VolumeIdentity(UUID uuid, String name, byte[] naa, String serial) {
  public VolumeIdentity {
    Objects.requireNonNull(uuid, "uuid");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(serial, "serial");
    if (naa == null || naa.length != 16 || (naa[0] >> 4 & 0xf) != 6) {
      throw new IllegalArgumentException("naa must be a 16-byte NAA-6 designator");
    }
    naa = naa.clone();
  }

  @Override
  public byte[] naa() {
    return naa.clone();
  }

  /** Equal when every component is; the NAA compares by content. */
  @Override
  public boolean equals(Object o) {
    return o instanceof VolumeIdentity other
        && uuid.equals(other.uuid)
        && name.equals(other.name)
        && java.util.Arrays.equals(naa, other.naa)
        && serial.equals(other.serial);
  }

  @Override
  public int hashCode() {
    return Objects.hash(uuid, name, java.util.Arrays.hashCode(naa), serial);
  }

  @Override
  public String toString() {
    return "VolumeIdentity[uuid="
        + uuid
        + ", name="
        + name
        + ", naa="
        + naaHex()
        + ", serial="
        + serial
        + "]";
  }

  /** The NAA designator as 32 lower-case hex digits, as {@code naa.6...} strings show it. */
  public String naaHex() {
    return java.util.HexFormat.of().formatHex(naa);
  }
}
