package io.duet.node.cg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.sync.link.ControlException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlWireTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final SiteInfo A =
      new SiteInfo(
          "site-a",
          "00000000-0000-0000-0000-00000000000a",
          1,
          List.of(1),
          List.of("iqn.a"),
          List.of("127.0.0.1:3260"),
          1);
  static final SiteInfo B =
      new SiteInfo(
          "site-b",
          "00000000-0000-0000-0000-00000000000b",
          2,
          List.of(2),
          List.of("iqn.b"),
          List.of("127.0.0.1:3261"),
          1);

  @TempDir Path dir;

  static CgRecord record() {
    return new CgRecord(
        "00000000-0000-0000-0000-0000000000c1",
        "cg1",
        CgRecord.ACTIVE_ACTIVE,
        B.siteId(),
        "site-b",
        A.siteId(),
        A.siteId(),
        true,
        true,
        true,
        100,
        List.of(
            new CgRecord.VolumeSpec(
                "vol1",
                "00000000-0000-0000-0000-000000000001",
                "60000000000000000000000000000001",
                "S1",
                1 << 20,
                512)),
        B);
  }

  @Test
  void requestsRoundTrip() throws Exception {
    ControlWire wire = new ControlWire(JSON);
    ControlWire.Request create =
        new ControlWire.Request(ControlWire.CG_CREATE, A, record(), null, null);
    assertThat(wire.request(wire.encode(create))).isEqualTo(create);
    ControlWire.Request info = new ControlWire.Request(ControlWire.SITE_INFO, A, null, null, null);
    assertThat(wire.request(wire.encode(info))).isEqualTo(info);
    assertThat(wire.siteInfo(wire.encode(B))).isEqualTo(B);
  }

  @Test
  void malformedRequestsAreRefusedWithAReason() {
    ControlWire wire = new ControlWire(JSON);
    assertThatThrownBy(() -> wire.request(utf8("{\"op\":\"format-disk\",\"from\":null}")))
        .isInstanceOf(ControlException.class)
        .hasMessageContaining("unknown control operation 'format-disk'");
    assertThatThrownBy(() -> wire.request(utf8("{\"op\":\"cg-create\"}")))
        .hasMessageContaining("no 'from' site");
    assertThatThrownBy(
            () ->
                wire.request(
                    wire.encode(
                        new ControlWire.Request(ControlWire.CG_DELETE, A, null, null, null))))
        .hasMessageContaining("arguments missing");
    assertThatThrownBy(() -> wire.request(utf8("{\"op\":\"site-info\",\"extra\":1}")))
        .hasMessageContaining("malformed control message");
    assertThatThrownBy(() -> wire.request(utf8("[1,2")))
        .hasMessageContaining("malformed control message");
    assertThatThrownBy(() -> wire.siteInfo(utf8("null"))).isInstanceOf(ControlException.class);
  }

  @Test
  void randomAndMutatedBytesNeverEscapeAsOtherExceptions() {
    ControlWire wire = new ControlWire(JSON);
    byte[] valid =
        wire.encode(new ControlWire.Request(ControlWire.CG_CREATE, A, record(), null, null));
    Random random = new Random(11);
    int accepted = 0;
    for (int i = 0; i < 3000; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = new byte[random.nextInt(200)];
        random.nextBytes(b);
      } else {
        b = valid.clone();
        for (int k = 0; k < 1 + random.nextInt(4); k++) {
          b[random.nextInt(b.length)] = (byte) random.nextInt(128);
        }
      }
      try {
        wire.request(b);
        accepted++;
      } catch (ControlException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
    }
    assertThat(accepted).isLessThan(3000);
  }

  @Test
  void portGroupClashesAreNamed() {
    assertThat(A.clashWith(B)).isNull();
    SiteInfo sameGroup = new SiteInfo("site-c", "c", 1, List.of(3), List.of(), List.of(), 1);
    assertThat(A.clashWith(sameGroup)).contains("target port group 1").contains("portGroupId");
    SiteInfo samePort = new SiteInfo("site-c", "c", 3, List.of(1), List.of(), List.of(), 1);
    assertThat(A.clashWith(samePort)).contains("relative target port id 1");
  }

  @Test
  void groupsFileRoundTripsAndRefusesDamage() throws Exception {
    CgFile file = new CgFile(dir, JSON);
    assertThat(file.load()).isEmpty();
    file.save(List.of(record()));
    assertThat(file.load()).containsExactly(record());
    Path p = dir.resolve(CgFile.FILE_NAME);
    byte[] bytes = Files.readAllBytes(p);
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(p, bytes);
    assertThatThrownBy(file::load).isInstanceOf(java.io.IOException.class);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
