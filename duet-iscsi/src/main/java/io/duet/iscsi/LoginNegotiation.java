package io.duet.iscsi;

import io.duet.iscsi.TargetCatalog.ChapCredentials;
import io.duet.iscsi.TargetCatalog.Target;
import io.duet.iscsi.TextKeys.Pair;
import io.duet.iscsi.TextKeys.TextFormatException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The target side of the iSCSI login phase (RFC 7143 6.3) as an explicit state machine: one call of
 * {@link #onRequest} per Login Request, returning the Login Response to send. Walks Security
 * (AuthMethod, CHAP) → Operational (key negotiation) → Full Feature, checks stage transitions,
 * versions, required keys, the catalog's ACL and CHAP credentials. It never throws for bad input:
 * failures come back as a response with a non-zero status and {@link State#FAILED}.
 */
final class LoginNegotiation {
  /** Stage codes of the CSG/NSG fields. */
  static final int SECURITY_STAGE = 0;

  static final int OPERATIONAL_STAGE = 1;
  static final int FULL_FEATURE_STAGE = 3;

  /** Login text accumulated across C-bit PDUs is bounded. */
  static final int MAX_LOGIN_TEXT_BYTES = 64 * 1024;

  /** Where the login stands. */
  enum State {
    START,
    SECURITY,
    OPERATIONAL,
    FULL_FEATURE,
    FAILED
  }

  /**
   * What to answer one Login Request with.
   *
   * @param transit the T bit
   * @param csg current stage
   * @param nsg next stage (valid with T)
   * @param status status class and detail, 0 for success
   * @param data the text segment
   */
  record Reply(boolean transit, int csg, int nsg, int status, byte[] data) {}

  private final TargetCatalog catalog;
  private final IscsiSettings settings;
  private final int portalGroupTag;
  private final BiFunction<Target, String, Optional<LunAccess>> lunResolver;
  private final Random random;
  private final OperationalKeys keys;

  private State state = State.START;
  private final Set<String> keysSeen = new HashSet<>();
  private byte[] pendingText = new byte[0];
  private String initiatorName;
  private boolean discovery;
  private Target target;
  private LunAccess luns;
  private ChapCredentials credentials;
  private Chap chap;
  private boolean authenticated;
  private long isid;
  private int tsih;
  private int cid;
  private boolean tpgtSent;
  private boolean declaredOurs;

  LoginNegotiation(
      TargetCatalog catalog,
      IscsiSettings settings,
      int portalGroupTag,
      BiFunction<Target, String, Optional<LunAccess>> lunResolver,
      Random random) {
    this.catalog = catalog;
    this.settings = settings;
    this.portalGroupTag = portalGroupTag;
    this.lunResolver = lunResolver;
    this.random = random;
    this.keys = new OperationalKeys(settings);
  }

  State state() {
    return state;
  }

  Target target() {
    return target;
  }

  LunAccess luns() {
    return luns;
  }

  String initiatorName() {
    return initiatorName;
  }

  /** The settled parameters; valid once {@link #state()} is FULL_FEATURE. */
  SessionParams params() {
    return keys.toParams(
        discovery, initiatorName, discovery ? null : target.name(), isid, tsih, cid);
  }

  /** Handles one Login Request PDU (header and its data segment). */
  Reply onRequest(Bhs request, byte[] data, int length) {
    int csg = (request.flags() >>> 2) & 3;
    try {
      if (state == State.FAILED || state == State.FULL_FEATURE) {
        throw new LoginException(LoginException.INVALID_DURING_LOGIN, "login already ended");
      }
      return step(request, data, length);
    } catch (LoginException e) {
      state = State.FAILED;
      failure = e;
      return new Reply(false, csg, 0, e.status(), new byte[0]);
    }
  }

  private LoginException failure;

  /** Why the login failed, when {@link #state()} is FAILED. */
  LoginException failure() {
    return failure;
  }

  private Reply step(Bhs request, byte[] data, int length) throws LoginException {
    boolean transit = (request.flags() & 0x80) != 0;
    boolean more = (request.flags() & 0x40) != 0;
    int csg = (request.flags() >>> 2) & 3;
    int nsg = request.flags() & 3;
    if (transit && more) {
      throw new LoginException(LoginException.INITIATOR_ERROR, "T and C both set");
    }
    boolean leading = state == State.START;
    if (leading) {
      first(request, csg);
    }
    checkStage(csg, transit, nsg);
    if (pendingText.length + length > MAX_LOGIN_TEXT_BYTES) {
      throw new LoginException(LoginException.INITIATOR_ERROR, "login text too long");
    }
    byte[] text = new byte[pendingText.length + length];
    System.arraycopy(pendingText, 0, text, 0, pendingText.length);
    System.arraycopy(data, 0, text, pendingText.length, length);
    if (more) {
      // The rest of the text follows; answer with an empty response that asks for it.
      pendingText = text;
      return new Reply(false, csg, 0, 0, new byte[0]);
    }
    pendingText = new byte[0];
    List<Pair> pairs;
    try {
      pairs = TextKeys.parse(text, text.length);
    } catch (TextFormatException e) {
      throw new LoginException(LoginException.INITIATOR_ERROR, "bad login text: " + e.getMessage());
    }
    for (Pair p : pairs) {
      // A key negotiated twice in one login is a protocol error (RFC 7143 6.2).
      if (!p.key().startsWith("CHAP_") && !keysSeen.add(p.key())) {
        throw new LoginException(LoginException.INITIATOR_ERROR, "key sent twice: " + p.key());
      }
    }
    if (initiatorName == null) {
      identify(pairs); // the first complete text of the login
    }
    List<Pair> out = new ArrayList<>();
    if (!discovery && !tpgtSent) {
      out.add(new Pair("TargetPortalGroupTag", Integer.toString(portalGroupTag)));
      tpgtSent = true;
    }
    boolean ready = csg == SECURITY_STAGE ? security(pairs, out) : operational(pairs, out);
    if (transit && ready) {
      if (nsg == FULL_FEATURE_STAGE || csg == OPERATIONAL_STAGE) {
        declareOurs(out);
      }
      state = nsg == FULL_FEATURE_STAGE ? State.FULL_FEATURE : State.OPERATIONAL;
      if (state == State.FULL_FEATURE && !authenticated) {
        throw new LoginException(LoginException.AUTHENTICATION_FAILURE, "not authenticated");
      }
      return new Reply(true, csg, nsg, 0, TextKeys.encode(out));
    }
    return new Reply(false, csg, 0, 0, TextKeys.encode(out));
  }

  private void first(Bhs request, int csg) throws LoginException {
    int versionMax = request.u8(2);
    int versionMin = request.u8(3);
    if (versionMin > 0 || versionMax < versionMin) {
      throw new LoginException(
          LoginException.UNSUPPORTED_VERSION,
          "version range " + versionMin + ".." + versionMax + " excludes 0");
    }
    isid = request.u48(8);
    tsih = request.u16(14);
    cid = request.u16(20);
    state = csg == SECURITY_STAGE ? State.SECURITY : State.OPERATIONAL;
  }

  private void checkStage(int csg, boolean transit, int nsg) throws LoginException {
    int current = state == State.SECURITY ? SECURITY_STAGE : OPERATIONAL_STAGE;
    if (csg != current) {
      throw new LoginException(
          LoginException.INITIATOR_ERROR, "CSG " + csg + " while in stage " + current);
    }
    if (transit && (nsg <= csg || nsg == 2)) {
      throw new LoginException(LoginException.INITIATOR_ERROR, "bad NSG " + nsg);
    }
  }

  /** The first request names the initiator, the session type and the target. */
  private void identify(List<Pair> pairs) throws LoginException {
    Map<String, String> m = toMap(pairs);
    initiatorName = m.get("InitiatorName");
    if (initiatorName == null || initiatorName.isEmpty()) {
      throw new LoginException(LoginException.MISSING_PARAMETER, "InitiatorName missing");
    }
    if (initiatorName.length() > 223) {
      throw new LoginException(LoginException.INITIATOR_ERROR, "InitiatorName too long");
    }
    String type = m.getOrDefault("SessionType", "Normal");
    switch (type) {
      case "Discovery" -> discovery = true;
      case "Normal" -> discovery = false;
      default ->
          throw new LoginException(
              LoginException.SESSION_TYPE_NOT_SUPPORTED, "SessionType " + type);
    }
    if (!discovery) {
      String name = m.get("TargetName");
      if (name == null || name.isEmpty()) {
        throw new LoginException(LoginException.MISSING_PARAMETER, "TargetName missing");
      }
      target =
          catalog
              .target(name)
              .orElseThrow(() -> new LoginException(LoginException.NOT_FOUND, "no target " + name));
      luns =
          lunResolver
              .apply(target, initiatorName)
              .orElseThrow(
                  () ->
                      new LoginException(
                          LoginException.AUTHORIZATION_FAILURE,
                          initiatorName + " may not log in to " + name));
    }
    credentials = catalog.credentials(initiatorName).orElse(null);
    if (credentials == null) {
      authenticated = true;
    } else if (state != State.SECURITY) {
      throw new LoginException(
          LoginException.AUTHENTICATION_FAILURE, initiatorName + " skipped CHAP");
    }
  }

  /** Security stage; returns whether it may end. */
  private boolean security(List<Pair> pairs, List<Pair> out) throws LoginException {
    Map<String, String> chapKeys = new LinkedHashMap<>();
    for (Pair p : pairs) {
      switch (p.key()) {
        case "AuthMethod" -> out.add(new Pair("AuthMethod", chooseAuthMethod(p.value())));
        case "InitiatorName", "SessionType", "TargetName", "InitiatorAlias" -> {}
        default -> {
          if (p.key().startsWith("CHAP_")) {
            chapKeys.put(p.key(), p.value());
          } else {
            keys.negotiate(p, out);
          }
        }
      }
    }
    if (chap != null) {
      out.addAll(chap.step(chapKeys));
      if (chap.state() == Chap.State.DONE) {
        authenticated = true;
      }
    } else if (!chapKeys.isEmpty()) {
      throw new LoginException(LoginException.INITIATOR_ERROR, "CHAP keys without AuthMethod");
    }
    return authenticated;
  }

  private String chooseAuthMethod(String offered) throws LoginException {
    List<String> methods = List.of(offered.split(",", 16));
    if (credentials != null) {
      if (!methods.contains("CHAP")) {
        throw new LoginException(
            LoginException.AUTHENTICATION_FAILURE, initiatorName + " must use CHAP");
      }
      chap = new Chap(credentials, random);
      return "CHAP";
    }
    if (methods.contains("None")) {
      return "None";
    }
    throw new LoginException(
        LoginException.AUTHENTICATION_FAILURE, "no CHAP secret for " + initiatorName);
  }

  private boolean operational(List<Pair> pairs, List<Pair> out) throws LoginException {
    for (Pair p : pairs) {
      if (p.key().equals("AuthMethod") || p.key().startsWith("CHAP_")) {
        throw new LoginException(
            LoginException.INITIATOR_ERROR, p.key() + " outside the security stage");
      }
      switch (p.key()) {
        case "InitiatorName", "SessionType", "TargetName", "InitiatorAlias" -> {}
        default -> keys.negotiate(p, out);
      }
    }
    return true;
  }

  private void declareOurs(List<Pair> out) {
    if (declaredOurs) {
      return;
    }
    declaredOurs = true;
    if (!discovery && settings.targetAlias() != null) {
      out.add(new Pair("TargetAlias", settings.targetAlias()));
    }
    keys.declare(out);
  }

  private static Map<String, String> toMap(List<Pair> pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (Pair p : pairs) {
      m.put(p.key(), p.value());
    }
    return m;
  }
}
