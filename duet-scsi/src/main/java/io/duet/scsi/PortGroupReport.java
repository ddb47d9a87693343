package io.duet.scsi;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * REPORT TARGET PORT GROUPS (SPC-4 6.36): every group of both sites with its access state, in the
 * length-only or the extended header format (with the implicit transition time).
 */
final class PortGroupReport {
  /** Seconds an implicit transition (leader change, resync) may take; hosts wait this long. */
  static final int IMPLICIT_TRANSITION_SECONDS = 10;

  /** T_SUP, U_SUP, S_SUP, AN_SUP, AO_SUP: the states Duet may report. */
  private static final int SUPPORTED_STATES = 0x8f;

  /** One target port group descriptor: as the asking host sees it. */
  record Group(int id, AluaState state, int statusCode, List<Integer> relativePortIds) {}

  private PortGroupReport() {}

  /**
   * Checks what a group descriptor can carry (a 16-bit id, at most 255 ports) and returns an
   * immutable copy of the ports: the checks both kinds of port group configuration share.
   */
  static List<Integer> checkedGroup(int id, List<Integer> relativePortIds) {
    if (id < 0 || id > 0xffff) {
      throw new IllegalArgumentException("port group id out of range: " + id);
    }
    List<Integer> ports = List.copyOf(relativePortIds);
    if (ports.size() > 255) {
      throw new IllegalArgumentException("more than 255 ports in group " + id);
    }
    return ports;
  }

  /** The site-wide groups of a unit that is not replicated. */
  static List<Group> of(AluaGroups alua) {
    return alua.groups().stream()
        .map(g -> new Group(g.id(), g.state(), alua.statusCode(g.id()), g.relativePortIds()))
        .toList();
  }

  static ScsiResult respond(byte[] cdb, List<Group> groups) {
    int format = (cdb[1] >> 5) & 0x7;
    long alloc = BigEndian.u32(cdb, 6);
    int length = 0;
    for (Group g : groups) {
      length += 8 + 4 * g.relativePortIds().size();
    }
    int header = format == 1 ? 8 : 4;
    byte[] d = new byte[header + length];
    BigEndian.put32(d, 0, length + header - 4);
    if (format == 1) {
      d[4] = 0x10; // format type 001b: extended header
      d[5] = (byte) IMPLICIT_TRANSITION_SECONDS;
    }
    int p = header;
    for (Group g : groups) {
      d[p] = (byte) g.state().code();
      d[p + 1] = (byte) SUPPORTED_STATES;
      BigEndian.put16(d, p + 2, g.id());
      d[p + 5] = (byte) g.statusCode();
      d[p + 7] = (byte) g.relativePortIds().size();
      p += 8;
      for (int port : g.relativePortIds()) {
        BigEndian.put16(d, p + 2, port);
        p += 4;
      }
    }
    return Sense.good(ByteBuffer.wrap(d, 0, (int) Math.min(alloc, d.length)));
  }
}
