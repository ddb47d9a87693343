package io.duet.node.cg;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.sync.link.ControlException;
import java.io.IOException;
import java.util.Set;

/**
 * The JSON bodies of site-to-site control requests: which operation, who asks (its {@link
 * SiteInfo}) and the operation's arguments. Decoding is strict (unknown fields, unknown operations
 * and missing arguments are refused with a message the requesting operator can read).
 */
final class ControlWire {
  static final String SITE_INFO = "site-info";
  static final String CG_CREATE = "cg-create";
  static final String CG_ADD_VOLUME = "cg-add-volume";
  static final String CG_DELETE = "cg-delete";

  /** The peer's view of one group (for {@code cg validate}); answered with its group view. */
  static final String CG_STATUS = "cg-status";

  private static final Set<String> OPS =
      Set.of(SITE_INFO, CG_CREATE, CG_ADD_VOLUME, CG_DELETE, CG_STATUS);

  /**
   * One request.
   *
   * @param group for cg-create: the group as the requesting site records it
   * @param groupId for cg-add-volume, cg-delete and cg-status
   * @param volume for cg-add-volume: the new volume with its identity
   */
  record Request(
      String op, SiteInfo from, CgRecord group, String groupId, CgRecord.VolumeSpec volume) {}

  private final ObjectMapper json;

  /** For views only, which a newer peer may extend: unknown fields are skipped there. */
  private final ObjectMapper lenient;

  ControlWire(ObjectMapper json) {
    this.json = json.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    this.lenient = json.copy().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  byte[] encode(Object value) {
    try {
      return json.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
    }
  }

  /** A request from the peer, checked for the arguments its operation needs. */
  Request request(byte[] body) throws ControlException {
    Request r = read(body, Request.class);
    if (r.op() == null || !OPS.contains(r.op())) {
      throw new ControlException("unknown control operation '" + r.op() + "'");
    }
    if (r.from() == null) {
      throw new ControlException("malformed " + r.op() + " request: no 'from' site");
    }
    boolean ok =
        switch (r.op()) {
          case CG_CREATE -> r.group() != null;
          case CG_ADD_VOLUME -> r.groupId() != null && r.volume() != null;
          case CG_DELETE, CG_STATUS -> r.groupId() != null;
          default -> true;
        };
    if (!ok) {
      throw new ControlException("malformed " + r.op() + " request: arguments missing");
    }
    return r;
  }

  SiteInfo siteInfo(byte[] body) throws ControlException {
    SiteInfo s = read(body, SiteInfo.class);
    if (s == null) {
      throw new ControlException("the peer answered with no site information");
    }
    return s;
  }

  /** The peer's view of a group, as its cg-status answer carries it. */
  CgViews.Group groupView(byte[] body) throws ControlException {
    CgViews.Group g = read(lenient, body, CgViews.Group.class);
    if (g == null) {
      throw new ControlException("the peer answered with no group view");
    }
    return g;
  }

  private <T> T read(byte[] body, Class<T> type) throws ControlException {
    return read(json, body, type);
  }

  private static <T> T read(ObjectMapper json, byte[] body, Class<T> type) throws ControlException {
    try {
      return json.readValue(body, type);
    } catch (IOException | RuntimeException e) {
      String m =
          e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new ControlException("malformed control message: " + m);
    }
  }
}
