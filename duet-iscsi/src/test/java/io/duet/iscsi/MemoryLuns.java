package io.duet.iscsi;

import io.duet.scsi.ItNexus;
import io.duet.scsi.ScsiResult;
import io.duet.scsi.ScsiTask;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * An in-process fake of the SCSI layer for transport tests: LUN 0 is a RAM disk of 512-byte blocks
 * answering TEST UNIT READY, READ(10), WRITE(10); WRITE SAME(10) takes one block of Data-Out and,
 * as a read-only LU would, answers 07/27/00 (recording how much Data-Out reached it); opcode 0xC0
 * blocks until {@link #release} (to test aborts); anything else is 05/20/00.
 */
final class MemoryLuns implements LunAccess {
  static final int BLOCK = 512;
  static final int SLOW_OPCODE = 0xc0;
  static final int WRITE_SAME_10 = 0x41;

  final byte[] disk;
  final List<ItNexus> attached = new CopyOnWriteArrayList<>();
  final List<Integer> resets = new CopyOnWriteArrayList<>();
  final List<byte[]> cdbs = new CopyOnWriteArrayList<>();
  final List<Integer> writeSameDataOut = new CopyOnWriteArrayList<>();
  volatile CountDownLatch slow = new CountDownLatch(1);
  final CountDownLatch slowStarted = new CountDownLatch(1);

  MemoryLuns(int blocks) {
    disk = new byte[blocks * BLOCK];
  }

  void release() {
    slow.countDown();
  }

  @Override
  public ScsiResult execute(int lun, ScsiTask task) {
    byte[] cdb = task.cdb();
    cdbs.add(cdb);
    if (lun != 0) {
      return CommandPath.check(0x5, 0x25, 0x00);
    }
    int op = cdb[0] & 0xff;
    switch (op) {
      case 0x00 -> {
        return good(ByteBuffer.allocate(0));
      }
      case 0x28 -> {
        int lba = lba(cdb);
        int len = blocks(cdb) * BLOCK;
        if ((long) lba * BLOCK + len > disk.length) {
          return CommandPath.check(0x5, 0x21, 0x00);
        }
        synchronized (this) {
          return good(ByteBuffer.wrap(disk.clone(), lba * BLOCK, len).slice());
        }
      }
      case 0x2a -> {
        int lba = lba(cdb);
        int len = blocks(cdb) * BLOCK;
        if ((long) lba * BLOCK + len > disk.length) {
          return CommandPath.check(0x5, 0x21, 0x00);
        }
        synchronized (this) {
          task.dataOut().duplicate().get(disk, lba * BLOCK, len);
        }
        return good(ByteBuffer.allocate(0));
      }
      case WRITE_SAME_10 -> {
        writeSameDataOut.add(task.dataOut().remaining());
        return CommandPath.check(0x7, 0x27, 0x00);
      }
      case SLOW_OPCODE -> {
        slowStarted.countDown();
        try {
          slow.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return good(ByteBuffer.allocate(0));
      }
      default -> {
        return CommandPath.check(0x5, 0x20, 0x00);
      }
    }
  }

  @Override
  public int dataOutLength(int lun, byte[] cdb) {
    return switch (cdb[0] & 0xff) {
      case 0x2a -> blocks(cdb) * BLOCK;
      case WRITE_SAME_10 -> BLOCK;
      case 0x28, 0x00 -> 0;
      default -> -1;
    };
  }

  @Override
  public boolean reset(int lun, ItNexus by) {
    if (lun != 0) {
      return false;
    }
    resets.add(lun);
    return true;
  }

  @Override
  public boolean exists(int lun) {
    return lun == 0;
  }

  @Override
  public Object unit(int lun) {
    return lun == 0 ? this : null;
  }

  @Override
  public Collection<?> units() {
    return List.of(this);
  }

  @Override
  public void resetUnit(Object unit, ItNexus by) {
    if (unit == this) {
      resets.add(0);
    }
  }

  @Override
  public void attach(ItNexus nexus) {
    attached.add(nexus);
  }

  @Override
  public void detach(ItNexus nexus) {
    attached.remove(nexus);
  }

  private static ScsiResult good(ByteBuffer data) {
    return new ScsiResult(ScsiResult.GOOD, new byte[0], data);
  }

  private static int lba(byte[] cdb) {
    return ((cdb[2] & 0xff) << 24)
        | ((cdb[3] & 0xff) << 16)
        | ((cdb[4] & 0xff) << 8)
        | (cdb[5] & 0xff);
  }

  private static int blocks(byte[] cdb) {
    return ((cdb[7] & 0xff) << 8) | (cdb[8] & 0xff);
  }
}
