package io.duet.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** The few admin operations the end-to-end tests perform, in one place so they match the API. */
final class Admin {
  static final String LIBISCSI_1 = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test";
  static final String LIBISCSI_2 = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2";

  private final DuetApi api;

  Admin(DuetApi api) {
    this.api = api;
  }

  JsonNode createVolume(String name, String size, int blockSize) throws IOException {
    return api.post(
        "/api/v1/volumes",
        "{\"name\":\"" + name + "\",\"size\":\"" + size + "\",\"blockSize\":" + blockSize + "}");
  }

  JsonNode createHost(String name, String chapUser, String chapSecret, String... iqns)
      throws IOException {
    StringBuilder b = new StringBuilder("{\"name\":\"" + name + "\",\"iqns\":[");
    for (int i = 0; i < iqns.length; i++) {
      b.append(i == 0 ? "" : ",").append('"').append(iqns[i]).append('"');
    }
    b.append(']');
    if (chapUser != null) {
      b.append(",\"chapUser\":\"")
          .append(chapUser)
          .append("\",\"chapSecret\":\"")
          .append(chapSecret)
          .append('"');
    }
    return api.post("/api/v1/hosts", b.append('}').toString());
  }

  JsonNode createTarget(String name) throws IOException {
    return api.post("/api/v1/targets", "{\"name\":\"" + name + "\"}");
  }

  /** Maps a volume; {@code host} "*" means every initiator; {@code target} null is the default. */
  JsonNode map(String volume, String host, int lun, String target, boolean readOnly)
      throws IOException {
    return api.post(
        "/api/v1/mappings",
        "{\"volume\":\""
            + volume
            + "\",\"host\":\""
            + host
            + "\",\"lun\":"
            + lun
            + (target == null ? "" : ",\"target\":\"" + target + "\"")
            + ",\"readOnly\":"
            + readOnly
            + "}");
  }

  /** The iSCSI name of the site's default target. */
  String defaultTarget() throws IOException {
    JsonNode targets = api.get("/api/v1/targets");
    JsonNode list = targets.isArray() ? targets : targets.get("targets");
    return list.get(0).get("name").asText();
  }
}
