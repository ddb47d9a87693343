package io.duet.mediator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.mediator.MediatorException.Kind;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mediator's REST routes under {@code /api/v1}: authentication (HTTP Basic checked against
 * {@link Credentials}, or a client certificate the TLS layer already verified against the allowed
 * CAs), authorization by {@link SiteBindings}, strict bodies, and the edge where {@link
 * MediatorException} kinds become HTTP statuses. A refused decision is answered 409 with the same
 * body as a granted one (200).
 *
 * <p>Authorization: every request that names a site acts for it, and its principal must be bound to
 * that site (bound at the first such request): a decision for its {@code site}, a registration for
 * its {@code siteA} (the sites' client always registers itself as site A; the peer, named as site
 * B, registers the same relationship from its own side). A DELETE needs a principal bound to one of
 * the relationship's sites. Reading (status, relationships) needs only a login.
 */
final class MediatorApi {
  static final String BASE = "/api/v1";
  static final String REL = BASE + "/relationships/{group}";
  static final String CLIENT_CERT_ATTRIBUTE = "jakarta.servlet.request.X509Certificate";
  static final String PRINCIPAL_ATTRIBUTE = "duet.principal";
  private static final Logger log = LoggerFactory.getLogger(MediatorApi.class);
  private static final Set<String> REGISTER = Set.of("siteA", "siteB", "leader", "epoch");
  private static final Set<String> HEARTBEAT = Set.of("site", "epoch", "leader", "inSync");
  private static final Set<String> SITE_EPOCH = Set.of("site", "epoch");
  private static final Set<String> FORCED = Set.of("site", "epoch", "reason");

  /** Requests served through the site-facing operations. */
  private interface Operation {
    Request read(WireBody body) throws MediatorException;
  }

  private final MediatorState state;
  private final Credentials credentials;
  private final SiteBindings bindings;
  private final ObjectMapper json;
  private final StatusPage statusPage;

  MediatorApi(
      MediatorState state,
      Credentials credentials,
      SiteBindings bindings,
      ObjectMapper json,
      StatusPage page) {
    this.state = state;
    this.credentials = credentials;
    this.bindings = bindings;
    this.json = json;
    this.statusPage = page;
  }

  void routes(JavalinConfig cfg) {
    cfg.routes.before(this::authenticate);
    cfg.routes.exception(
        MediatorException.class,
        (e, ctx) -> {
          if (e.kind() == Kind.FORBIDDEN) {
            // Either a misconfigured site (two sites sharing a user) or an impersonation attempt.
            log.warn("{} {} refused: {}", ctx.method(), ctx.path(), e.getMessage());
          }
          error(ctx, e.kind(), e.getMessage());
        });
    cfg.routes.exception(
        HttpResponseException.class,
        (e, ctx) ->
            error(
                ctx,
                Kind.ofStatus(e.getStatus()),
                e.getStatus() == 404
                    ? "no such endpoint: " + ctx.method() + " " + ctx.path()
                    : e.getMessage(),
                e.getStatus()));
    cfg.routes.exception(
        Exception.class,
        (e, ctx) -> {
          log.error("{} {} failed", ctx.method(), ctx.path(), e);
          error(ctx, Kind.INTERNAL, e.getClass().getSimpleName() + ": " + e.getMessage());
        });

    cfg.routes.get(BASE + "/health", ctx -> ctx.json(Map.of("status", "ok")));
    cfg.routes.get(BASE + "/status", this::status);
    cfg.routes.get("/", ctx -> ctx.html(statusPage.html(state.views())));
    cfg.routes.get(BASE + "/relationships", ctx -> ctx.json(state.views()));
    cfg.routes.get(REL, ctx -> ctx.json(state.view(group(ctx))));
    cfg.routes.put(REL, this::register);
    cfg.routes.delete(REL, this::remove);
    decide(
        cfg,
        "heartbeat",
        HEARTBEAT,
        b -> new Request.Heartbeat(b.uuid("site"), b.epoch(), b.uuid("leader"), b.bool("inSync")));
    decide(cfg, "lease", SITE_EPOCH, b -> new Request.RenewLease(b.uuid("site"), b.epoch()));
    decide(cfg, "out-of-sync", SITE_EPOCH, b -> new Request.OutOfSync(b.uuid("site"), b.epoch()));
    decide(cfg, "takeover", SITE_EPOCH, b -> new Request.Takeover(b.uuid("site"), b.epoch()));
    decide(cfg, "pre-election", SITE_EPOCH, b -> new Request.PreElect(b.uuid("site"), b.epoch()));
    decide(
        cfg,
        "forced-failover",
        FORCED,
        b -> new Request.ForcedFailover(b.uuid("site"), b.epoch(), b.text("reason", 500)));
  }

  private void decide(JavalinConfig cfg, String verb, Set<String> fields, Operation op) {
    Handler h =
        ctx -> {
          UUID group = group(ctx);
          Request req = op.read(WireBody.parse(json, ctx.body(), fields));
          bindings.authorize(principal(ctx), req.site());
          Decision d = state.apply(group, req);
          if (!d.granted()) {
            log.info("{} {} refused for {}: {}", verb, group, req.site(), d.message());
          } else if (d.relationship().epoch() != req.epoch()) {
            log.info(
                "{} {} by {}: {} (epoch {})",
                verb,
                group,
                req.site(),
                d.message(),
                d.relationship().epoch());
          }
          ctx.status(d.granted() ? 200 : 409).json(d);
        };
    cfg.routes.post(REL + "/" + verb, h);
  }

  private void register(Context ctx) throws MediatorException {
    WireBody b = WireBody.parse(json, ctx.body(), REGISTER);
    long epoch = b.epoch();
    if (epoch < 1) {
      throw MediatorException.invalid("field 'epoch' must be at least 1");
    }
    UUID siteA = b.uuid("siteA");
    bindings.authorize(principal(ctx), siteA);
    ctx.json(state.register(group(ctx), siteA, b.uuid("siteB"), b.uuid("leader"), epoch));
  }

  private void remove(Context ctx) throws MediatorException {
    Principal p = principal(ctx);
    state.remove(group(ctx), bindings.siteOf(p).orElse(null), p.toString());
    ctx.status(204);
  }

  private static Principal principal(Context ctx) {
    // Set by authenticate() for every route but the health check.
    Principal p = ctx.attribute(PRINCIPAL_ATTRIBUTE);
    if (p == null) {
      throw new IllegalStateException("no principal for " + ctx.path());
    }
    return p;
  }

  private void status(Context ctx) {
    List<RelationshipView> views = state.views();
    String accept = ctx.header("Accept");
    if ("html".equals(ctx.queryParam("format"))
        || (accept != null && accept.contains("text/html"))) {
      ctx.html(statusPage.html(views));
      return;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.putAll(statusPage.summary());
    out.put("relationships", views);
    ctx.json(out);
  }

  private static UUID group(Context ctx) throws MediatorException {
    return WireBody.uuidText(ctx.pathParam("group"), "group id");
  }

  private void authenticate(Context ctx) throws MediatorException {
    if (ctx.path().equals(BASE + "/health")) {
      return;
    }
    if (ctx.req().getAttribute(CLIENT_CERT_ATTRIBUTE) instanceof X509Certificate[] chain
        && chain.length > 0) {
      // The TLS layer accepted only chains up to a configured client CA.
      ctx.attribute(
          PRINCIPAL_ATTRIBUTE, Principal.certificate(chain[0].getSubjectX500Principal().getName()));
      return;
    }
    String header = ctx.header("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      throw new MediatorException(
          Kind.UNAUTHORIZED, "send HTTP Basic credentials or a client certificate");
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new MediatorException(Kind.UNAUTHORIZED, "malformed Basic credentials");
    }
    int colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw new MediatorException(Kind.UNAUTHORIZED, "malformed Basic credentials");
    }
    String user = decoded.substring(0, colon);
    credentials.authenticate(user, decoded.substring(colon + 1).toCharArray());
    ctx.attribute(PRINCIPAL_ATTRIBUTE, Principal.user(user));
  }

  private void error(Context ctx, Kind kind, String detail) {
    error(ctx, kind, detail, kind.httpStatus());
  }

  private void error(Context ctx, Kind kind, String detail, int status) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("error", kind.name().toLowerCase(java.util.Locale.ROOT));
    body.put("detail", detail == null ? "" : detail);
    if (status == 401) {
      ctx.header("WWW-Authenticate", "Basic realm=\"duet-mediator\"");
    }
    try {
      ctx.status(status).contentType("application/json").result(json.writeValueAsString(body));
    } catch (JsonProcessingException e) {
      ctx.status(500).result("{\"error\":\"internal\"}");
    }
  }
}
