package io.duet.scsi;

import io.duet.store.Volume;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * INQUIRY: standard data (SPC-4) and the VPD pages 00, 80, 83, 86, 8F, B0, B1, B2. Pages that do
 * not depend on the target port are built once; the data returned is always a fresh view.
 */
final class Inquiry {
  static final String VENDOR = "DUET    ";
  static final String PRODUCT = "Duet volume     ";
  static final String REVISION = "0001";

  private static final int[] SUPPORTED_PAGES = {0x00, 0x80, 0x83, 0x86, 0x8f, 0xb0, 0xb1, 0xb2};

  /** SAM-5, iSCSI (no version), SBC-3 (no version), SPC-4 (no version). */
  private static final int[] VERSION_DESCRIPTORS = {0x00a0, 0x0960, 0x04c0, 0x0460};

  private final byte[] naa;
  private final byte[] standard;
  private final byte[] supportedPages;
  private final byte[] serialPage;
  private final byte[] extendedPage;
  private final byte[] blockLimitsPage;
  private final byte[] characteristicsPage;
  private final byte[] provisioningPage;
  private final ExtendedCopy extendedCopy;

  Inquiry(Volume volume, BlockLimits limits, ExtendedCopy extendedCopy) {
    this.naa = volume.identity().naa();
    this.extendedCopy = extendedCopy;
    this.standard = standardData();
    this.supportedPages = supportedPagesPage();
    this.serialPage = serialNumberPage(volume.identity().serial());
    this.extendedPage = extendedInquiryPage();
    this.blockLimitsPage = blockLimitsPage(limits);
    this.characteristicsPage = characteristicsPage();
    this.provisioningPage = provisioningPage();
  }

  byte[] naa() {
    return naa.clone();
  }

  ScsiResult execute(byte[] cdb, TargetPort port) {
    boolean evpd = (cdb[1] & 0x01) != 0;
    int page = BigEndian.u8(cdb, 2);
    int alloc = BigEndian.u16(cdb, 3);
    if (!evpd) {
      return page != 0 ? Sense.invalidCdbField(2) : trimmed(standard, alloc);
    }
    byte[] data =
        switch (page) {
          case 0x00 -> supportedPages;
          case 0x80 -> serialPage;
          case 0x83 -> DeviceIdentification.page(naa, port);
          case 0x86 -> extendedPage;
          case 0x8f -> extendedCopy.thirdPartyCopyVpdPage();
          case 0xb0 -> blockLimitsPage;
          case 0xb1 -> characteristicsPage;
          case 0xb2 -> provisioningPage;
          default -> null;
        };
    return data == null ? Sense.invalidCdbField(2) : trimmed(data, alloc);
  }

  /** A read-only view of (possibly shared) page bytes, cut to the allocation length. */
  static ScsiResult trimmed(byte[] data, long alloc) {
    return Sense.good(
        ByteBuffer.wrap(data, 0, (int) Math.min(alloc, data.length)).asReadOnlyBuffer());
  }

  private static byte[] standardData() {
    byte[] d = new byte[96];
    d[0] = 0x00; // peripheral qualifier 000b, direct-access block device
    d[2] = 0x06; // SPC-4
    d[3] = 0x12; // HISUP, response data format 2
    d[4] = (byte) (d.length - 5);
    d[5] = 0x18; // TPGS 01b (implicit ALUA), 3PC (EXTENDED COPY)
    d[6] = 0x10; // MULTIP: the LU is reachable through ports at both sites
    d[7] = 0x02; // CMDQUE
    ascii(d, 8, VENDOR, 8);
    ascii(d, 16, PRODUCT, 16);
    ascii(d, 32, REVISION, 4);
    for (int i = 0; i < VERSION_DESCRIPTORS.length; i++) {
      BigEndian.put16(d, 58 + 2 * i, VERSION_DESCRIPTORS[i]);
    }
    return d;
  }

  private static void ascii(byte[] d, int off, String s, int width) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < width; i++) {
      d[off + i] = i < b.length ? b[i] : (byte) ' ';
    }
  }

  private static byte[] supportedPagesPage() {
    byte[] d = new byte[4 + SUPPORTED_PAGES.length];
    d[3] = (byte) SUPPORTED_PAGES.length;
    for (int i = 0; i < SUPPORTED_PAGES.length; i++) {
      d[4 + i] = (byte) SUPPORTED_PAGES[i];
    }
    return d;
  }

  private static byte[] serialNumberPage(String serial) {
    byte[] s = serial.getBytes(StandardCharsets.US_ASCII);
    int n = Math.min(s.length, 251);
    byte[] d = new byte[4 + n];
    d[1] = (byte) 0x80;
    d[3] = (byte) n;
    System.arraycopy(s, 0, d, 4, n);
    return d;
  }

  /** Extended INQUIRY Data (0x86): simple queueing, volatile cache, LUICLR. */
  private static byte[] extendedInquiryPage() {
    byte[] d = new byte[64];
    d[1] = (byte) 0x86;
    d[3] = 0x3c;
    d[5] = 0x01; // SIMPSUP
    d[6] = 0x01; // V_SUP: a volatile cache exists (SYNCHRONIZE CACHE matters)
    d[7] = 0x01; // LUICLR: a unit attention is cleared per I_T nexus
    return d;
  }

  private static byte[] blockLimitsPage(BlockLimits l) {
    byte[] d = new byte[64];
    d[1] = (byte) 0xb0;
    d[3] = 0x3c;
    d[4] = 0x00; // WSNZ 0: WRITE SAME with zero blocks means "to the end"
    d[5] = (byte) l.maxCompareAndWriteBlocks();
    BigEndian.put16(d, 6, Math.min(l.granularityBlocks(), 0xffff));
    BigEndian.put32(d, 8, l.maxTransferBlocks());
    BigEndian.put32(d, 12, l.optimalTransferBlocks());
    BigEndian.put32(d, 16, 0); // no PRE-FETCH limit beyond the transfer limit
    BigEndian.put32(d, 20, l.maxUnmapBlocks());
    BigEndian.put32(d, 24, l.maxUnmapDescriptors());
    BigEndian.put32(d, 28, l.granularityBlocks());
    BigEndian.put32(d, 32, 0x80000000L); // UGAVALID, alignment 0
    BigEndian.put64(d, 36, l.maxWriteSameBlocks());
    // SBC-4 WRITE ATOMIC limits; the "with atomic boundary" fields (56..63) stay 0: no boundaries.
    BigEndian.put32(d, 44, l.maxAtomicTransferBlocks());
    BigEndian.put32(d, 48, l.atomicAlignmentBlocks());
    BigEndian.put32(d, 52, l.atomicGranularityBlocks());
    return d;
  }

  /** Block Device Characteristics (0xB1): non-rotating medium. */
  private static byte[] characteristicsPage() {
    byte[] d = new byte[64];
    d[1] = (byte) 0xb1;
    d[3] = 0x3c;
    BigEndian.put16(d, 4, 1);
    return d;
  }

  /** Logical Block Provisioning (0xB2): LBPU, LBPWS, LBPWS10, LBPRZ; thin provisioned. */
  private static byte[] provisioningPage() {
    byte[] d = new byte[8];
    d[1] = (byte) 0xb2;
    d[3] = 0x04;
    d[5] = (byte) 0xe4;
    d[6] = 0x02; // provisioning type: thin
    return d;
  }
}
