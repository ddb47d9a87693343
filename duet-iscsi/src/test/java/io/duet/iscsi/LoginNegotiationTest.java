package io.duet.iscsi;

import static io.duet.iscsi.TestInitiator.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.duet.iscsi.LoginNegotiation.Reply;
import io.duet.iscsi.LoginNegotiation.State;
import io.duet.iscsi.TargetCatalog.ChapCredentials;
import io.duet.iscsi.TestInitiator.Pdu;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LoginNegotiationTest {
  private final FakeCatalog catalog = new FakeCatalog();
  private final MemoryLuns luns = new MemoryLuns(1);

  private LoginNegotiation negotiation() {
    return new LoginNegotiation(
        catalog,
        IscsiSettings.DEFAULTS,
        7,
        (t, i) -> catalog.allowed(i) ? Optional.of(luns) : Optional.empty(),
        new Random(3));
  }

  private static Bhs request(boolean transit, boolean more, int csg, int nsg, int versionMin) {
    Bhs b = new Bhs();
    b.u8(0, 0x40 | Bhs.LOGIN_REQUEST);
    b.u8(1, (transit ? 0x80 : 0) | (more ? 0x40 : 0) | (csg << 2) | (transit ? nsg : 0));
    b.u8(3, versionMin);
    b.u48(8, 0x23d000000001L);
    return b;
  }

  private static Reply send(LoginNegotiation n, Bhs b, byte[] data) {
    return n.onRequest(b, data, data.length);
  }

  private static Map<String, String> keys(Reply r) {
    return new Pdu(new Bhs(), r.data()).keys();
  }

  @Test
  void securityThenOperationalThenFullFeature() {
    LoginNegotiation n = negotiation();
    Reply r =
        send(
            n,
            request(true, false, 0, 1, 0),
            text("InitiatorName=iqn.a", "TargetName=" + FakeCatalog.TARGET, "AuthMethod=None"));
    assertThat(r.status()).isZero();
    assertThat(r.transit()).isTrue();
    assertThat(keys(r))
        .containsEntry("AuthMethod", "None")
        .containsEntry("TargetPortalGroupTag", "7");
    assertThat(n.state()).isEqualTo(State.OPERATIONAL);
    r =
        send(
            n,
            request(true, false, 1, 3, 0),
            text(
                "HeaderDigest=CRC32C,None",
                "DataDigest=None",
                "MaxRecvDataSegmentLength=4096",
                "FirstBurstLength=1048576",
                "MaxBurstLength=65536",
                "InitialR2T=Yes",
                "ImmediateData=No",
                "ErrorRecoveryLevel=2",
                "MaxConnections=4",
                "OFMarker=Yes",
                "OFMarkInt=2048~4096",
                "DefaultTime2Wait=0"));
    assertThat(n.state()).isEqualTo(State.FULL_FEATURE);
    Map<String, String> k = keys(r);
    assertThat(k)
        .containsEntry("HeaderDigest", "CRC32C")
        .containsEntry("MaxBurstLength", "65536")
        .containsEntry("ErrorRecoveryLevel", "0")
        .containsEntry("MaxConnections", "1")
        .containsEntry("OFMarker", "No")
        .containsEntry("OFMarkInt", "Irrelevant")
        .containsEntry("DefaultTime2Wait", "2")
        .containsKey("MaxRecvDataSegmentLength");
    SessionParams p = n.params();
    assertThat(p.headerDigest()).isTrue();
    assertThat(p.maxSendDataSegmentLength()).isEqualTo(4096);
    assertThat(p.firstBurstLength()).isEqualTo(65536); // capped by MaxBurstLength
    assertThat(p.initialR2T()).isTrue();
    assertThat(p.immediateData()).isFalse();
    assertThat(p.isidHex()).isEqualTo("23d000000001");
  }

  @Test
  void refusals() {
    assertThat(
            send(
                    negotiation(),
                    request(true, false, 1, 3, 1),
                    text("InitiatorName=iqn.a", "TargetName=" + FakeCatalog.TARGET))
                .status())
        .isEqualTo(LoginException.UNSUPPORTED_VERSION);
    assertThat(
            send(
                    negotiation(),
                    request(true, false, 1, 3, 0),
                    text("InitiatorName=iqn.a", "SessionType=Weird"))
                .status())
        .isEqualTo(LoginException.SESSION_TYPE_NOT_SUPPORTED);
    assertThat(
            send(negotiation(), request(true, true, 1, 3, 0), text("InitiatorName=iqn.a")).status())
        .isEqualTo(LoginException.INITIATOR_ERROR);
    assertThat(
            send(
                    negotiation(),
                    request(true, false, 1, 2, 0),
                    text("InitiatorName=iqn.a", "TargetName=" + FakeCatalog.TARGET))
                .status())
        .isEqualTo(LoginException.INITIATOR_ERROR);
    LoginNegotiation n = negotiation();
    send(
        n,
        request(false, false, 1, 0, 0),
        text("InitiatorName=iqn.a", "TargetName=" + FakeCatalog.TARGET, "MaxBurstLength=8192"));
    Reply again = send(n, request(true, false, 1, 3, 0), text("MaxBurstLength=8192"));
    assertThat(again.status()).isEqualTo(LoginException.INITIATOR_ERROR);
    assertThat(n.state()).isEqualTo(State.FAILED);
    assertThat(send(n, request(true, false, 1, 3, 0), new byte[0]).status()).isNotZero();
    catalog.chap.put(
        "iqn.a",
        new ChapCredentials("u", "0123456789ab".getBytes(StandardCharsets.UTF_8), null, null));
    assertThat(
            send(
                    negotiation(),
                    request(true, false, 0, 1, 0),
                    text(
                        "InitiatorName=iqn.a",
                        "TargetName=" + FakeCatalog.TARGET,
                        "AuthMethod=None"))
                .status())
        .isEqualTo(LoginException.AUTHENTICATION_FAILURE);
  }

  @Test
  void textSplitOverContinuationPdus() {
    LoginNegotiation n = negotiation();
    byte[] all = text("InitiatorName=iqn.a", "TargetName=" + FakeCatalog.TARGET);
    byte[] head = java.util.Arrays.copyOf(all, 10);
    byte[] tail = java.util.Arrays.copyOfRange(all, 10, all.length);
    Reply r = send(n, request(false, true, 1, 0, 0), head);
    assertThat(r.status()).isZero();
    assertThat(r.data()).isEmpty();
    r = send(n, request(true, false, 1, 3, 0), tail);
    assertThat(r.status()).isZero();
    assertThat(n.state()).isEqualTo(State.FULL_FEATURE);
  }

  @Test
  void randomLoginsNeverThrow() {
    Random random = new Random(11);
    String[] keys = {
      "InitiatorName=iqn.a",
      "TargetName=" + FakeCatalog.TARGET,
      "AuthMethod=CHAP",
      "CHAP_A=5",
      "CHAP_N=u",
      "CHAP_R=0x00",
      "CHAP_C=0bAAAA",
      "CHAP_I=999",
      "HeaderDigest=X",
      "MaxBurstLength=-1",
      "SessionType=Discovery",
      "=",
      "A",
      "MaxRecvDataSegmentLength=0x10"
    };
    catalog.chap.put(
        "iqn.a",
        new ChapCredentials(
            "u",
            "0123456789ab".getBytes(StandardCharsets.UTF_8),
            "t",
            "abcdefabcdef".getBytes(StandardCharsets.UTF_8)));
    for (int i = 0; i < 3000; i++) {
      LoginNegotiation n = negotiation();
      for (int step = 0; step < 4; step++) {
        Bhs b = new Bhs();
        random.nextBytes(b.bytes);
        b.u8(0, Bhs.LOGIN_REQUEST);
        StringBuilder sb = new StringBuilder();
        for (int k = random.nextInt(5); k > 0; k--) {
          sb.append(keys[random.nextInt(keys.length)]).append('\0');
        }
        byte[] data = sb.toString().getBytes(StandardCharsets.UTF_8);
        if (data.length > 0 && random.nextInt(4) == 0) {
          data[random.nextInt(data.length)] ^= (byte) random.nextInt(256);
        }
        Reply r = n.onRequest(b, data, data.length);
        assertThat(r).isNotNull();
        if (r.status() != 0) {
          assertThat(n.state()).isEqualTo(State.FAILED);
          break;
        }
      }
    }
  }
}
