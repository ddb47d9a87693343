package io.duet.sync;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A unit-state machine for tests: each volume's state is the list of commands applied to it (8
 * bytes each); a command's result is its position in that list. Read from test threads, so
 * synchronized.
 */
final class RecordingStateMachine implements SharedStateMachine {
  private final List<List<Long>> applied = new ArrayList<>();
  private int installs;

  RecordingStateMachine(int volumes) {
    for (int i = 0; i < volumes; i++) {
      applied.add(new ArrayList<>());
    }
  }

  static byte[] command(long value) {
    return ByteBuffer.allocate(8).putLong(value).array();
  }

  static long value(byte[] bytes) {
    return ByteBuffer.wrap(bytes).getLong();
  }

  @Override
  public synchronized byte[] apply(int volume, byte[] command) {
    List<Long> log = applied.get(volume);
    log.add(value(command));
    return command(log.size());
  }

  @Override
  public synchronized byte[] snapshot(int volume) {
    List<Long> log = applied.get(volume);
    ByteBuffer b = ByteBuffer.allocate(8 * log.size());
    log.forEach(b::putLong);
    return b.array();
  }

  @Override
  public synchronized void install(int volume, byte[] snapshot) {
    ByteBuffer b = ByteBuffer.wrap(snapshot);
    List<Long> log = applied.get(volume);
    log.clear();
    while (b.hasRemaining()) {
      log.add(b.getLong());
    }
    installs++;
  }

  synchronized List<Long> applied(int volume) {
    return List.copyOf(applied.get(volume));
  }

  synchronized int installs() {
    return installs;
  }
}
