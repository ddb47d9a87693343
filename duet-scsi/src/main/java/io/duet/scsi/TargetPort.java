package io.duet.scsi;

import java.util.Objects;

/**
 * A SCSI target port: for iSCSI the target name plus portal group tag.
 *
 * @param name the SCSI target port name, for iSCSI {@code "<target name>,t,0x<TPGT hex>"}
 * @param targetName the SCSI target device name (the iSCSI target name)
 * @param relativeId relative target port identifier, unique across both sites (1..65535)
 * @param portGroupId the ALUA target port group this port belongs to (one group per site)
 */
public record TargetPort(String name, String targetName, int relativeId, int portGroupId) {
  public TargetPort {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(targetName, "targetName");
    if (relativeId < 1 || relativeId > 0xffff) {
      throw new IllegalArgumentException("relativeId out of range: " + relativeId);
    }
    if (portGroupId < 0 || portGroupId > 0xffff) {
      throw new IllegalArgumentException("portGroupId out of range: " + portGroupId);
    }
  }
}
