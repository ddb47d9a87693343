package io.duet.scsi;

import static io.duet.scsi.Fixture.BS;
import static io.duet.scsi.Fixture.assertGood;
import static io.duet.scsi.Fixture.assertSense;
import static io.duet.scsi.Fixture.data;
import static io.duet.scsi.Fixture.pattern;
import static io.duet.scsi.Fixture.rw10;
import static io.duet.scsi.Fixture.rw16;
import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The logical unit over the real sparse-file volume: thin provisioning end to end. */
class LocalVolumeIntegrationTest {
  @TempDir Path dir;

  @Test
  void blockAndProvisioningCommandsOnASparseFile() throws Exception {
    try (VolumeStore store = VolumeStore.open(dir)) {
      LocalVolume volume = store.create("it", 64L << 20, BS);
      ScsiSite site =
          new ScsiSite(
              new AluaGroups(
                  List.of(new AluaGroups.PortGroup(1, AluaState.ACTIVE_OPTIMIZED, List.of(1)))));
      LogicalUnit lu = new LogicalUnit(volume, site, PersistentState.NONE);
      ItNexus nexus = new ItNexus("iqn.i", "iqn.i,i,0x1", new TargetPort("t,t,0x1", "t", 1, 1));
      java.util.function.BiFunction<byte[], byte[], ScsiResult> run =
          (cdb, out) ->
              lu.execute(new ScsiTask(nexus, cdb, ByteBuffer.wrap(out), 1 << 24, false, 1));

      byte[] payload = pattern(64, 3);
      assertGood(run.apply(rw16(0x8a, 1024, 64), payload));
      assertThat(data(run.apply(rw10(0x28, 1024, 64), new byte[0]))).isEqualTo(payload);

      byte[] status = rw16(0x9e, 1024, 64);
      status[1] = 0x12;
      byte[] d = data(run.apply(status, new byte[0]));
      assertThat(d[20]).isEqualTo((byte) 0); // mapped

      byte[] ws = rw16(0x93, 1024, 64);
      ws[1] = 0x08; // UNMAP
      assertGood(run.apply(ws, new byte[BS]));
      assertThat(data(run.apply(rw10(0x28, 1024, 64), new byte[0]))).containsOnly(0);
      byte[] after = data(run.apply(status, new byte[0]));
      assertThat(after[20]).isEqualTo((byte) 1); // deallocated

      byte[] caw = rw16(0x89, 5, 0);
      caw[13] = 1;
      byte[] both = new byte[2 * BS];
      both[BS] = 7;
      assertGood(run.apply(caw, both));
      assertSense(run.apply(caw, both), 0x0e, 0x1d, 0);
      assertGood(run.apply(rw10(0x35, 0, 0), new byte[0]));
    }
  }
}
