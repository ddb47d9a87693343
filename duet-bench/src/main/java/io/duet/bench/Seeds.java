package io.duet.bench;

/** Fixed seeds, so every run of a benchmark touches the same bytes and offsets. */
final class Seeds {
  static final long DATA = 0x5eed_da7aL;
  static final long OFFSETS = 0x5eed_0ff5L;

  private Seeds() {}
}
