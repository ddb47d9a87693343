package io.duet.iscsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.iscsi.TargetCatalog.ChapCredentials;
import io.duet.iscsi.TextKeys.Pair;
import io.duet.iscsi.TextKeys.TextFormatException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CodecTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void textKeysParseAndEncode() throws Exception {
    byte[] data = utf8("InitiatorName=iqn.x\0HeaderDigest=CRC32C,None\0\0");
    List<Pair> pairs = TextKeys.parse(data, data.length);
    assertThat(pairs)
        .containsExactly(
            new Pair("InitiatorName", "iqn.x"), new Pair("HeaderDigest", "CRC32C,None"));
    assertThat(TextKeys.encode(pairs))
        .isEqualTo(utf8("InitiatorName=iqn.x\0HeaderDigest=CRC32C,None\0"));
    byte[] noNul = utf8("A=1");
    assertThat(TextKeys.parse(noNul, noNul.length)).containsExactly(new Pair("A", "1"));
  }

  @Test
  void textKeysRejectMalformed() {
    for (String bad :
        List.of(
            "A=1\0A=2\0",
            "noequals\0",
            "=v\0",
            "k y=1\0",
            "K".repeat(64) + "=1\0",
            "K=" + "v".repeat(8193) + "\0")) {
      byte[] b = utf8(bad);
      assertThatThrownBy(() -> TextKeys.parse(b, b.length)).isInstanceOf(TextFormatException.class);
    }
  }

  @Test
  void textKeysFuzzOnlyThrowsFormatErrors() {
    Random random = new Random(42);
    byte[] alphabet = utf8("AB=\0x,=\0");
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[random.nextInt(200)];
      for (int j = 0; j < b.length; j++) {
        b[j] =
            random.nextBoolean()
                ? alphabet[random.nextInt(alphabet.length)]
                : (byte) random.nextInt(256);
      }
      try {
        List<Pair> pairs = TextKeys.parse(b, b.length);
        assertThat(pairs.size()).isLessThanOrEqualTo(TextKeys.MAX_PAIRS);
      } catch (TextFormatException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
    }
  }

  @Test
  void chapKnownVectors() {
    byte[] c = new byte[16];
    for (int i = 0; i < 16; i++) {
      c[i] = (byte) i;
    }
    assertThat(HexFormat.of().formatHex(Chap.digest(Chap.Algorithm.MD5, 7, utf8("topsecret12"), c)))
        .isEqualTo("881fd2c73fc36649b7ac2ab92d029e03");
    byte[] c2 = new byte[32];
    for (int i = 0; i < 32; i++) {
      c2[i] = (byte) i;
    }
    assertThat(
            HexFormat.of()
                .formatHex(Chap.digest(Chap.Algorithm.SHA256, 200, utf8("topsecret12"), c2)))
        .isEqualTo("022ab73431c1d8e49195d9eaf053d5909c226854b7fb7e9a5f526a0105204bc4");
  }

  @Test
  void binaryValuesHexAndBase64() {
    assertThat(Chap.decodeBinary("0xdeadbeef01")).isEqualTo(HexFormat.of().parseHex("deadbeef01"));
    assertThat(Chap.decodeBinary("0XABC")).isEqualTo(new byte[] {0x0a, (byte) 0xbc});
    assertThat(Chap.decodeBinary("0b3q2+7wE=")).isEqualTo(HexFormat.of().parseHex("deadbeef01"));
    for (String bad : List.of("", "0x", "12", "0xZZ", "0b***", "0q1234")) {
      assertThatThrownBy(() -> Chap.decodeBinary(bad)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void chapOneWayAndMutualExchange() throws Exception {
    ChapCredentials creds =
        new ChapCredentials("user", utf8("secret-1234"), "tgt", utf8("tsecret-5678"));
    Chap chap = new Chap(creds, new Random(1));
    List<Pair> offer = chap.step(Map.of("CHAP_A", "6,7,5"));
    Map<String, String> o = toMap(offer);
    assertThat(o.get("CHAP_A")).isEqualTo("7");
    int id = Integer.parseInt(o.get("CHAP_I"));
    byte[] challenge = Chap.decodeBinary(o.get("CHAP_C"));
    byte[] response = Chap.digest(Chap.Algorithm.SHA256, id, utf8("secret-1234"), challenge);
    byte[] mine = {1, 2, 3, 4, 5, 6, 7, 8};
    List<Pair> answer =
        chap.step(
            Map.of(
                "CHAP_N", "user",
                "CHAP_R", "0b" + java.util.Base64.getEncoder().encodeToString(response),
                "CHAP_I", "9",
                "CHAP_C", "0x0102030405060708"));
    Map<String, String> a = toMap(answer);
    assertThat(a.get("CHAP_N")).isEqualTo("tgt");
    assertThat(Chap.decodeBinary(a.get("CHAP_R")))
        .isEqualTo(Chap.digest(Chap.Algorithm.SHA256, 9, utf8("tsecret-5678"), mine));
    assertThat(chap.state()).isEqualTo(Chap.State.DONE);
  }

  @Test
  void chapRefusesWrongResponseReflectionAndUnknownAlgorithm() throws Exception {
    ChapCredentials creds =
        new ChapCredentials("user", utf8("secret-1234"), "tgt", utf8("t-secret-99"));
    Chap chap = new Chap(creds, new Random(2));
    Map<String, String> o = toMap(chap.step(Map.of("CHAP_A", "5")));
    assertThatThrownBy(() -> chap.step(Map.of("CHAP_N", "user", "CHAP_R", "0x00112233")))
        .isInstanceOfSatisfying(
            LoginException.class,
            e -> assertThat(e.status()).isEqualTo(LoginException.AUTHENTICATION_FAILURE));

    Chap reflect = new Chap(creds, new Random(3));
    Map<String, String> r = toMap(reflect.step(Map.of("CHAP_A", "5")));
    byte[] ch = Chap.decodeBinary(r.get("CHAP_C"));
    byte[] resp =
        Chap.digest(Chap.Algorithm.MD5, Integer.parseInt(r.get("CHAP_I")), utf8("secret-1234"), ch);
    assertThatThrownBy(
            () ->
                reflect.step(
                    Map.of(
                        "CHAP_N",
                        "user",
                        "CHAP_R",
                        "0x" + HexFormat.of().formatHex(resp),
                        "CHAP_I",
                        "1",
                        "CHAP_C",
                        r.get("CHAP_C"))))
        .isInstanceOf(LoginException.class)
        .hasMessageContaining("equals ours");

    Chap none = new Chap(creds, new Random(4));
    assertThatThrownBy(() -> none.step(Map.of("CHAP_A", "6,99,abc")))
        .isInstanceOf(LoginException.class);
    assertThat(o).containsKey("CHAP_C");
  }

  @Test
  void lunEncodingRoundTrips() {
    for (int lun : new int[] {0, 1, 255, 256, 1000, 16383}) {
      assertThat(Lun.decode(Lun.encode(lun))).isEqualTo(lun);
    }
    assertThat(Lun.decode(0x0001_0000_0000_0001L)).isEqualTo(Lun.INVALID);
    assertThat(Lun.decode(0xc000_0000_0000_0000L)).isEqualTo(Lun.INVALID);
  }

  @Test
  void cmdWindowAdmitsOnlyInsideTheWindowAndNeverShrinks() {
    CmdWindow w = new CmdWindow(10, 4);
    assertThat(w.maxCmdSn()).isEqualTo(13);
    assertThat(w.admit(9, false)).isFalse();
    assertThat(w.admit(14, false)).isFalse();
    assertThat(w.admit(10, false)).isTrue();
    assertThat(w.admit(99, true)).isTrue();
    assertThat(w.expCmdSn()).isEqualTo(11);
    assertThat(w.maxCmdSn()).isEqualTo(13);
    w.completed();
    assertThat(w.maxCmdSn()).isEqualTo(14);
    CmdWindow wrap = new CmdWindow(0xfffffffe, 8);
    assertThat(wrap.admit(0xfffffffe, false)).isTrue();
    assertThat(wrap.admit(0xffffffff, false)).isTrue();
    assertThat(wrap.admit(0, false)).isTrue();
    assertThat(wrap.admit(0xfffffffd, false)).isFalse();
  }

  @Test
  void writeTruncationCutsWholeBlocksOnly() {
    byte[] w10 = TestInitiator.cdb10(0x2a, 0, 2);
    byte[] cut = WriteTruncation.truncate(w10, 1024, 512);
    assertThat(cut[7]).isEqualTo((byte) 0);
    assertThat(cut[8]).isEqualTo((byte) 1);
    assertThat(WriteTruncation.truncate(w10, 1024, 0)[8]).isEqualTo((byte) 0);
    assertThat(WriteTruncation.truncate(w10, 1024, 200)).isNull();
    assertThat(WriteTruncation.truncate(TestInitiator.cdb10(0x42, 0, 1), 24, 8)).isNull();
  }

  private static Map<String, String> toMap(List<Pair> pairs) {
    java.util.LinkedHashMap<String, String> m = new java.util.LinkedHashMap<>();
    pairs.forEach(p -> m.put(p.key(), p.value()));
    return m;
  }
}
