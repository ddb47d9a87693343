package io.duet.bench;

import io.duet.scsi.AluaGroups;
import io.duet.scsi.AluaState;
import io.duet.scsi.ItNexus;
import io.duet.scsi.LogicalUnit;
import io.duet.scsi.PersistentState;
import io.duet.scsi.ScsiResult;
import io.duet.scsi.ScsiSite;
import io.duet.scsi.ScsiTask;
import io.duet.scsi.TargetPort;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * READ(10) and WRITE(10) through {@link LogicalUnit#execute} over a real LocalVolume with 512-byte
 * blocks (the demo's geometry): CDB decode, unit attention / ALUA / reservation checks and the
 * store I/O, without any transport.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ScsiBenchmark {
  private static final int BLOCK_SIZE = 512;
  private static final int READ_10 = 0x28;
  private static final int WRITE_10 = 0x2a;

  @Param({"4096", "65536"})
  int ioBytes;

  private BenchVolume volume;
  private LogicalUnit unit;
  private ItNexus nexus;
  private ByteBuffer writeData;
  private long tag;

  /** Creates the volume and the logical unit, and clears the nexus's login unit attention. */
  @Setup
  public void setup() throws IOException {
    volume = new BenchVolume(BLOCK_SIZE, ioBytes);
    ScsiSite site =
        new ScsiSite(
            new AluaGroups(
                List.of(new AluaGroups.PortGroup(1, AluaState.ACTIVE_OPTIMIZED, List.of(1)))));
    unit = new LogicalUnit(volume.volume(), site, PersistentState.NONE);
    TargetPort port = new TargetPort("iqn.bench:t,t,0x1", "iqn.bench:t", 1, 1);
    nexus = new ItNexus("iqn.bench:i", "iqn.bench:i,i,0x1", port);
    unit.nexusAttached(nexus);
    // The first command after login gets UA 29/01; take it here so every measured one is I/O.
    ScsiResult ua = execute(new byte[6], ByteBuffer.allocate(0));
    if (ua.status() != ScsiResult.CHECK_CONDITION) {
      throw new IllegalStateException("expected the power-on unit attention, got " + ua.status());
    }
    byte[] data = new byte[ioBytes];
    new SplittableRandom(Seeds.DATA + 2).nextBytes(data);
    writeData = ByteBuffer.wrap(data);
  }

  /** Removes the volume's directory. */
  @TearDown
  public void tearDown() throws IOException {
    volume.close();
  }

  /** READ(10) of {@code ioBytes} at a random LBA. */
  @Benchmark
  public ScsiResult read10() {
    return check(execute(cdb10(READ_10), ByteBuffer.allocate(0)));
  }

  /** WRITE(10) of {@code ioBytes} at a random LBA, data already collected by the transport. */
  @Benchmark
  public ScsiResult write10() {
    return check(execute(cdb10(WRITE_10), writeData.clear()));
  }

  private ScsiResult execute(byte[] cdb, ByteBuffer dataOut) {
    return unit.execute(new ScsiTask(nexus, cdb, dataOut, ioBytes, false, tag++));
  }

  private byte[] cdb10(int opcode) {
    long lba = volume.nextOffset() / BLOCK_SIZE;
    int blocks = ioBytes / BLOCK_SIZE;
    byte[] cdb = new byte[10];
    cdb[0] = (byte) opcode;
    cdb[2] = (byte) (lba >>> 24);
    cdb[3] = (byte) (lba >>> 16);
    cdb[4] = (byte) (lba >>> 8);
    cdb[5] = (byte) lba;
    cdb[7] = (byte) (blocks >>> 8);
    cdb[8] = (byte) blocks;
    return cdb;
  }

  /** A failing command would make the numbers meaningless, so stop the run instead. */
  private static ScsiResult check(ScsiResult r) {
    if (r.status() != ScsiResult.GOOD) {
      throw new IllegalStateException("command failed with status " + r.status());
    }
    return r;
  }
}
