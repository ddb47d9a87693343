package io.duet.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.duet.store.LocalVolume;
import io.duet.store.VolumeStore;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Negotiation and transmission over a raw socket: well-formed, malformed and hostile input. */
class ProtocolTest {
  static final long SIZE = 1 << 20;

  @TempDir Path dir;
  private VolumeStore store;
  private LocalVolume volume;
  private NbdServer server;
  private int port;

  @BeforeEach
  void start() throws Exception {
    store = VolumeStore.open(dir);
    volume = store.create("vol", SIZE, 512);
    LocalVolume ro = store.create("ro", SIZE, 4096);
    server =
        new NbdServer(
            new TestExports().add("vol", volume, false).add("ro", ro, true),
            NbdSettings.defaults());
    port = server.listen(new InetSocketAddress("127.0.0.1", 0)).getPort();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    store.close();
  }

  /** After whatever a test did, a fresh client still gets served. */
  private void serverStillServes() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", true)) {
      c.request(0, Nbd.CMD_READ, 99, 0, 512, null);
      RawClient.Reply r = c.reply(0);
      assertThat(r.error()).isZero();
      // A fresh volume is one hole: the block comes back as a hole chunk, then DONE.
      assertThat(r.type()).isIn(Nbd.REPLY_TYPE_OFFSET_DATA, Nbd.REPLY_TYPE_OFFSET_HOLE);
      while ((r.flags() & Nbd.REPLY_FLAG_DONE) == 0) {
        r = c.reply(0);
        assertThat(r.error()).isZero();
      }
    }
  }

  @Test
  void greetingAdvertisesFixedNewstyleAndNoZeroes() throws Exception {
    try (RawClient c = new RawClient(port)) {
      assertThat(c.greeting()).isEqualTo(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
    }
  }

  @Test
  void unknownClientFlagsCloseTheConnection() throws Exception {
    try (RawClient c = new RawClient(port)) {
      c.greeting();
      c.out.writeInt(0x80);
      c.out.flush();
      assertThat(c.closedByServer()).isTrue();
    }
    serverStillServes();
  }

  @Test
  void badOptionMagicClosesTheConnection() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      c.out.writeLong(0x1122334455667788L);
      c.out.writeInt(Nbd.OPT_LIST);
      c.out.writeInt(0);
      c.out.flush();
      assertThat(c.closedByServer()).isTrue();
    }
    serverStillServes();
  }

  @Test
  void unknownOptionIsUnsupportedAndNegotiationContinues() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      RawClient.OptionReply r = c.option(4242, new byte[] {1, 2, 3});
      assertThat(r.option()).isEqualTo(4242);
      assertThat(r.type()).isEqualTo(Nbd.REP_ERR_UNSUP);
      RawClient.OptionReply list = c.option(Nbd.OPT_LIST, new byte[0]);
      assertThat(list.type()).isEqualTo(Nbd.REP_SERVER);
    }
  }

  @Test
  void listNamesEveryExport() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      c.sendOption(Nbd.OPT_LIST, new byte[0]);
      RawClient.OptionReply a = c.readOptionReply();
      RawClient.OptionReply b = c.readOptionReply();
      assertThat(c.readOptionReply().type()).isEqualTo(Nbd.REP_ACK);
      assertThat(new String(a.data(), 4, a.data().length - 4)).isEqualTo("ro");
      assertThat(new String(b.data(), 4, b.data().length - 4)).isEqualTo("vol");
      assertThat(c.option(Nbd.OPT_LIST, new byte[] {1}).type()).isEqualTo(Nbd.REP_ERR_INVALID);
    }
  }

  @Test
  void optionLength2To31IsTooBigThenClosed() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      c.out.writeLong(Nbd.IHAVEOPT);
      c.out.writeInt(Nbd.OPT_LIST);
      c.out.writeInt(0x80000000);
      c.out.flush();
      assertThat(c.readOptionReply().type()).isEqualTo(Nbd.REP_ERR_TOO_BIG);
      assertThat(c.closedByServer()).isTrue();
    }
    serverStillServes();
  }

  @Test
  void moderatelyOverlongOptionIsSkippedWithTooBig() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      RawClient.OptionReply r = c.option(Nbd.OPT_INFO, new byte[Nbd.MAX_OPTION_BYTES + 1]);
      assertThat(r.type()).isEqualTo(Nbd.REP_ERR_TOO_BIG);
      assertThat(c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]).type()).isEqualTo(Nbd.REP_ACK);
    }
  }

  @Test
  void goForAnUnknownExportIsUnknownAndAbortIsAcked() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      assertThat(c.option(Nbd.OPT_GO, RawClient.goData("nope")).type())
          .isEqualTo(Nbd.REP_ERR_UNKNOWN);
      assertThat(c.option(Nbd.OPT_GO, new byte[] {0, 0, 0, 9}).type())
          .isEqualTo(Nbd.REP_ERR_INVALID);
      assertThat(c.option(Nbd.OPT_ABORT, new byte[0]).type()).isEqualTo(Nbd.REP_ACK);
      assertThat(c.closedByServer()).isTrue();
    }
  }

  @Test
  void exportNameOfAMissingExportCloses() throws Exception {
    try (RawClient c = new RawClient(port).handshake()) {
      c.sendOption(Nbd.OPT_EXPORT_NAME, "missing".getBytes());
      assertThat(c.closedByServer()).isTrue();
    }
  }

  @Test
  void exportNameEntersTransmissionWithSimpleReplies() throws Exception {
    try (RawClient c = new RawClient(port)) {
      c.greeting();
      c.out.writeInt(Nbd.CLIENT_FIXED_NEWSTYLE); // zeroes wanted
      c.sendOption(Nbd.OPT_EXPORT_NAME, "vol".getBytes());
      assertThat(c.in.readLong()).isEqualTo(SIZE);
      int flags = c.in.readUnsignedShort();
      assertThat(flags & Nbd.TF_CAN_MULTI_CONN).isNotZero();
      assertThat(flags & Nbd.TF_SEND_DF).isZero(); // no structured replies negotiated
      assertThat(c.in.readNBytes(124)).containsOnly(0);
      byte[] data = new byte[3];
      new Random(1).nextBytes(data);
      c.request(0, Nbd.CMD_WRITE, 1, 1000, 3, data); // unaligned: read-modify-write
      assertThat(c.reply(0).error()).isZero();
      c.request(0, Nbd.CMD_READ, 2, 999, 5, null);
      RawClient.Reply r = c.reply(5);
      assertThat(r.error()).isZero();
      assertThat(r.payload()).containsExactly(0, data[0], data[1], data[2], 0);
    }
  }

  @Test
  void transmissionErrorsFollowTheSpec() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", true)) {
      c.request(0, Nbd.CMD_READ, 1, SIZE - 512, 1024, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EINVAL);
      c.request(0, Nbd.CMD_WRITE, 2, SIZE, 512, new byte[512]);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.ENOSPC);
      c.request(0, Nbd.CMD_READ, 3, 0, Nbd.MAX_PAYLOAD_BYTES + 1L, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EOVERFLOW);
      c.request(0, 77, 4, 0, 0, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EINVAL);
      c.request(0x4000, Nbd.CMD_FLUSH, 5, 0, 0, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EINVAL);
      c.request(0, Nbd.CMD_READ, 6, -1L, 512, null); // offset 2^64-1
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EINVAL);
      c.request(
          Nbd.CMD_FLAG_FAST_ZERO | Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE_ZEROES, 7, 0, 512, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.ENOTSUP);
      c.request(Nbd.CMD_FLAG_FAST_ZERO, Nbd.CMD_WRITE_ZEROES, 8, 0, 4096, null);
      assertThat(c.reply(0).error()).isZero();
      c.request(0, Nbd.CMD_BLOCK_STATUS, 9, 0, 0, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EINVAL);
      // The connection survived all of it.
      c.request(0, Nbd.CMD_FLUSH, 10, 0, 0, null);
      RawClient.Reply ok = c.reply(0);
      assertThat(ok.error()).isZero();
      assertThat(ok.cookie()).isEqualTo(10);
    }
  }

  @Test
  void oversizeWriteIsSkippedAndRefused() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", false)) {
      long length = Nbd.MAX_PAYLOAD_BYTES + 512L;
      c.request(0, Nbd.CMD_WRITE, 1, 0, length, null);
      byte[] chunk = new byte[1 << 20];
      for (long sent = 0; sent < length; sent += chunk.length) {
        c.out.write(chunk, 0, (int) Math.min(chunk.length, length - sent));
      }
      c.out.flush();
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EOVERFLOW);
      c.request(0, Nbd.CMD_READ, 2, 0, 512, null);
      assertThat(c.reply(512).error()).isZero();
    }
  }

  @Test
  void readOnlyExportRefusesWritesWithEperm() throws Exception {
    try (RawClient c = new RawClient(port).attach("ro", false)) {
      c.request(0, Nbd.CMD_WRITE, 1, 0, 4096, new byte[4096]);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EPERM);
      c.request(0, Nbd.CMD_TRIM, 2, 0, 4096, null);
      assertThat(c.reply(0).error()).isEqualTo(Nbd.EPERM);
      c.request(0, Nbd.CMD_READ, 3, 0, 4096, null);
      assertThat(c.reply(4096).error()).isZero();
    }
  }

  @Test
  void badRequestMagicClosesOnlyThatConnection() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", true)) {
      c.out.writeInt(0xdeadbeef);
      c.out.write(new byte[24]);
      c.out.flush();
      assertThat(c.closedByServer()).isTrue();
    }
    serverStillServes();
  }

  @Test
  void blockStatusReportsHolesAfterTrim() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", true)) {
      byte[] data = new byte[64 << 10];
      new Random(7).nextBytes(data);
      c.request(0, Nbd.CMD_WRITE, 1, 0, data.length, data);
      assertThat(c.reply(0).error()).isZero();
      c.request(0, Nbd.CMD_TRIM, 2, 16 << 10, 16 << 10, null);
      assertThat(c.reply(0).error()).isZero();
      c.request(0, Nbd.CMD_BLOCK_STATUS, 3, 0, SIZE, null);
      RawClient.Reply r = c.reply(0);
      assertThat(r.type()).isEqualTo(Nbd.REPLY_TYPE_BLOCK_STATUS);
      ByteBuffer p = ByteBuffer.wrap(r.payload());
      assertThat(p.getInt()).isEqualTo(Nbd.BASE_ALLOCATION_ID);
      assertThat(new long[] {p.getInt(), p.getInt()}).containsExactly(16 << 10, 0);
      assertThat(new long[] {p.getInt(), p.getInt()})
          .containsExactly(16 << 10, Nbd.STATE_HOLE | Nbd.STATE_ZERO);
      assertThat(new long[] {p.getInt(), p.getInt()}).containsExactly(32 << 10, 0);
      c.request(Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_BLOCK_STATUS, 4, 20 << 10, 100 << 10, null);
      RawClient.Reply one = c.reply(0);
      assertThat(one.payload()).hasSize(12);
      ByteBuffer q = ByteBuffer.wrap(one.payload(), 4, 8);
      assertThat(q.getInt()).isEqualTo(12 << 10);
      assertThat(q.getInt()).isEqualTo(Nbd.STATE_HOLE | Nbd.STATE_ZERO);
    }
  }

  @Test
  void randomBytesAfterTheGreetingNeverHurtTheServer() throws Exception {
    Random random = new Random(20261101);
    for (int i = 0; i < 30; i++) {
      try (RawClient c = new RawClient(port).handshake()) {
        byte[] junk = new byte[random.nextInt(200)];
        random.nextBytes(junk);
        if (random.nextBoolean() && junk.length >= 8) {
          ByteBuffer.wrap(junk).putLong(Nbd.IHAVEOPT); // past the magic, into option parsing
        }
        c.out.write(junk);
        c.out.flush();
      }
    }
    serverStillServes();
    try (RawClient c = new RawClient(port).attach("vol", true)) {
      for (int i = 0; i < 50; i++) {
        byte[] header = new byte[Nbd.REQUEST_HEADER_BYTES];
        random.nextBytes(header);
        ByteBuffer b = ByteBuffer.wrap(header).putInt(Nbd.REQUEST_MAGIC);
        b.putShort((short) random.nextInt(1 << 5));
        b.putShort((short) (random.nextBoolean() ? Nbd.CMD_READ : random.nextInt(12)));
        if (header[7] == Nbd.CMD_WRITE || header[7] == Nbd.CMD_DISC) {
          header[7] = Nbd.CMD_CACHE; // payload or disconnect would desynchronise this test
        }
        c.out.write(header);
        c.out.flush();
        RawClient.Reply r = c.reply(0);
        assertThat(r.cookie()).isEqualTo(ByteBuffer.wrap(header, 8, 8).getLong());
        while ((r.flags() & Nbd.REPLY_FLAG_DONE) == 0) {
          r = c.reply(0);
        }
      }
    }
    serverStillServes();
  }

  @Test
  void concurrentUnalignedWritesToOneBlockLoseNothing() throws Exception {
    int clients = 4;
    int writesEach = 64;
    java.util.List<Thread> threads = new java.util.ArrayList<>();
    java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    for (int t = 0; t < clients; t++) {
      int id = t;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    // Each client owns bytes id, id+4, id+8, ... of block 0: read-modify-write
                    // must never undo another client's byte.
                    try (RawClient c = new RawClient(port).attach("vol", false)) {
                      for (int i = 0; i < writesEach; i++) {
                        int at = id + clients * i;
                        c.request(0, Nbd.CMD_WRITE, i, at, 1, new byte[] {(byte) (id + 1)});
                        assertThat(c.reply(0).error()).isZero();
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failures).isEmpty();
    ByteBuffer block = ByteBuffer.allocate(512);
    volume.read(0, block);
    for (int at = 0; at < clients * writesEach; at++) {
      assertThat(block.get(at)).as("byte " + at).isEqualTo((byte) (at % clients + 1));
    }
  }

  @Test
  void closingTheServerDropsAttachedClients() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", true)) {
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (server.connections().stream().noneMatch(i -> i.export().isPresent())) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.onSpinWait();
      }
      server.close();
      assertThat(c.closedByServer()).isTrue();
      while (!server.connections().isEmpty()) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.onSpinWait();
      }
    }
  }

  @Test
  void structuredReadsSendHolesAsHoleChunks() throws Exception {
    try (RawClient c = new RawClient(port).attach("vol", true)) {
      byte[] data = new byte[4096];
      new Random(3).nextBytes(data);
      c.request(0, Nbd.CMD_WRITE, 1, 0, data.length, data);
      assertThat(c.reply(0).error()).isZero();
      c.request(0, Nbd.CMD_READ, 2, 100, 8192, null);
      RawClient.Reply first = c.reply(0);
      assertThat(first.type()).isEqualTo(Nbd.REPLY_TYPE_OFFSET_DATA);
      assertThat(first.flags() & Nbd.REPLY_FLAG_DONE).isZero();
      ByteBuffer p = ByteBuffer.wrap(first.payload());
      assertThat(p.getLong()).isEqualTo(100);
      assertThat(p.remaining()).isEqualTo(4096 - 100);
      assertThat(java.util.Arrays.copyOfRange(first.payload(), 8, first.payload().length))
          .isEqualTo(java.util.Arrays.copyOfRange(data, 100, 4096));
      RawClient.Reply hole = c.reply(0);
      assertThat(hole.type()).isEqualTo(Nbd.REPLY_TYPE_OFFSET_HOLE);
      ByteBuffer h = ByteBuffer.wrap(hole.payload());
      assertThat(h.getLong()).isEqualTo(4096);
      assertThat(h.getInt()).isEqualTo(8192 + 100 - 4096);
      RawClient.Reply done = c.reply(0);
      assertThat(done.type()).isEqualTo(Nbd.REPLY_TYPE_NONE);
      assertThat(done.flags() & Nbd.REPLY_FLAG_DONE).isNotZero();
      // Don't-fragment: one data chunk with the zeros spelled out.
      c.request(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 3, 100, 8192, null);
      RawClient.Reply whole = c.reply(0);
      assertThat(whole.type()).isEqualTo(Nbd.REPLY_TYPE_OFFSET_DATA);
      assertThat(whole.flags() & Nbd.REPLY_FLAG_DONE).isNotZero();
      assertThat(whole.payload()).hasSize(8 + 8192);
    }
  }
}
