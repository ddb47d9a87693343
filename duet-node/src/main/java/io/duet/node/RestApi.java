package io.duet.node;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.node.cg.ConsistencyGroups;
import io.duet.node.config.HostPort;
import io.duet.node.mediator.MediatorRequest;
import io.duet.node.mediator.SiteMediator;
import io.duet.scsi.AluaState;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Type;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The site's REST API under {@code /api/v1} (Javalin on Jetty): JSON in and out, bearer-token
 * authentication on every request, errors as {@code {"error": ..., "detail": ...}}. This is the
 * edge where {@link AdminException} kinds become HTTP statuses. The OpenAPI document served at
 * {@code /api/v1/openapi.json} lists every route registered here.
 */
final class RestApi implements AutoCloseable {
  static final String BASE = "/api/v1";
  static final long MAX_REQUEST_BYTES = 1 << 20;
  static final int EVENTS_LIMIT_DEFAULT = 100;
  static final int EVENTS_LIMIT_MAX = 1000;

  private static final Logger log = LoggerFactory.getLogger(RestApi.class);
  private static final Set<String> VOLUME_FIELDS = Set.of("name", "size", "blockSize");
  private static final Set<String> RESIZE_FIELDS = Set.of("size");
  private static final Set<String> HOST_FIELDS =
      Set.of("name", "iqns", "chapUser", "chapSecret", "mutualUser", "mutualSecret", "site");
  private static final Set<String> MAPPING_FIELDS =
      Set.of("volume", "host", "target", "lun", "readOnly");
  private static final Set<String> NAME_FIELDS = Set.of("name");
  private static final Set<String> PORTAL_FIELDS = Set.of("address");
  private static final Set<String> ALUA_FIELDS = Set.of("state");
  private static final Set<String> PEER_FIELDS = Set.of("address", "passphrase");
  private static final Set<String> NBD_EXPORT_FIELDS =
      Set.of("volume", "name", "allow", "readOnly");
  private static final Set<String> MEDIATOR_FIELDS =
      Set.of("address", "caCert", "user", "password");

  private final SiteAdmin admin;
  private final Peering peering;
  private final ConsistencyGroups groups;
  private final SiteMediator mediator;
  private final ApiToken token;
  private final ObjectMapper json;
  private final Clock clock;
  private final Instant started;
  private final List<String> routes = new ArrayList<>();
  private final byte[] openApi;
  private Javalin app;

  RestApi(SiteAdmin admin, ApiToken token, ObjectMapper json, Clock clock, Instant started)
      throws IOException {
    this(admin, null, null, null, token, json, clock, started);
  }

  RestApi(
      SiteAdmin admin,
      Peering peering,
      ConsistencyGroups groups,
      SiteMediator mediator,
      ApiToken token,
      ObjectMapper json,
      Clock clock,
      Instant started)
      throws IOException {
    this.admin = admin;
    this.peering = peering;
    this.groups = groups;
    this.mediator = mediator;
    this.token = token;
    this.json = json;
    this.clock = clock;
    this.started = started;
    try (InputStream in = RestApi.class.getResourceAsStream("openapi.json")) {
      if (in == null) {
        throw new IOException("openapi.json resource missing from the duet-node jar");
      }
      this.openApi = in.readAllBytes();
    }
  }

  /** Starts serving; returns the bound address (a real port when {@code address} asked for 0). */
  InetSocketAddress start(HostPort address) {
    app = Javalin.create(cfg -> configure(cfg, address));
    app.start();
    return new InetSocketAddress(address.host(), app.port());
  }

  /** The routes as {@code "METHOD /path"}, for the OpenAPI completeness test. */
  List<String> routes() {
    return List.copyOf(routes);
  }

  private void configure(JavalinConfig cfg, HostPort address) {
    cfg.startup.showJavalinBanner = false;
    cfg.startup.showOldJavalinVersionWarning = false;
    cfg.jetty.host = address.host();
    cfg.jetty.port = address.port();
    cfg.http.maxRequestSize = MAX_REQUEST_BYTES;
    cfg.concurrency.useVirtualThreads = true;
    cfg.jsonMapper(new JacksonMapper(json));
    cfg.routes.before(this::authenticate);
    cfg.routes.exception(
        AdminException.class,
        (e, ctx) -> error(ctx, status(e.kind()), label(e.kind()), e.getMessage()));
    cfg.routes.exception(HttpResponseException.class, (e, ctx) -> httpError(ctx, e));
    cfg.routes.exception(
        Exception.class,
        (e, ctx) -> {
          log.error("{} {} failed", ctx.method(), ctx.path(), e);
          error(ctx, 500, "internal", e.getClass().getSimpleName() + ": " + e.getMessage());
        });

    route(cfg, "GET", "/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));
    route(cfg, "GET", "/status", ctx -> ctx.json(status()));
    route(cfg, "GET", "/events", this::events);

    route(cfg, "GET", "/volumes", ctx -> ctx.json(admin.volumes()));
    route(cfg, "POST", "/volumes", this::createVolume);
    route(cfg, "GET", "/volumes/{name}", ctx -> ctx.json(admin.volume(ctx.pathParam("name"))));
    route(cfg, "PATCH", "/volumes/{name}", this::resizeVolume);
    route(cfg, "POST", "/volumes/{name}/resize", this::resizeVolume);
    route(
        cfg,
        "DELETE",
        "/volumes/{name}",
        ctx -> {
          admin.deleteVolume(ctx.pathParam("name"), force(ctx));
          ctx.status(204);
        });

    route(cfg, "GET", "/hosts", ctx -> ctx.json(admin.hosts()));
    route(cfg, "POST", "/hosts", this::createHost);
    route(cfg, "GET", "/hosts/{name}", ctx -> ctx.json(admin.host(ctx.pathParam("name"))));
    route(cfg, "PATCH", "/hosts/{name}", this::updateHost);
    route(
        cfg,
        "DELETE",
        "/hosts/{name}",
        ctx -> {
          admin.deleteHost(ctx.pathParam("name"), force(ctx));
          ctx.status(204);
        });

    route(cfg, "GET", "/mappings", ctx -> ctx.json(admin.mappings()));
    route(cfg, "POST", "/mappings", this::createMapping);
    route(cfg, "GET", "/mappings/{id}", ctx -> ctx.json(admin.mapping(mappingId(ctx))));
    route(
        cfg,
        "DELETE",
        "/mappings/{id}",
        ctx -> {
          admin.deleteMapping(mappingId(ctx));
          ctx.status(204);
        });

    route(cfg, "GET", "/targets", ctx -> ctx.json(admin.targets()));
    route(
        cfg,
        "POST",
        "/targets",
        ctx -> {
          JsonBody body = JsonBody.parse(json, ctx.body(), NAME_FIELDS);
          ctx.status(201).json(admin.createTarget(body.requiredString("name")));
        });
    route(cfg, "GET", "/targets/{name}", ctx -> ctx.json(admin.target(ctx.pathParam("name"))));
    route(
        cfg,
        "DELETE",
        "/targets/{name}",
        ctx -> {
          admin.deleteTarget(ctx.pathParam("name"), force(ctx));
          ctx.status(204);
        });

    route(cfg, "GET", "/portals", ctx -> ctx.json(admin.portals()));
    route(
        cfg,
        "POST",
        "/portals",
        ctx -> {
          JsonBody body = JsonBody.parse(json, ctx.body(), PORTAL_FIELDS);
          ctx.status(201).json(admin.addPortal(hostPort(body.requiredString("address"))));
        });
    route(
        cfg,
        "DELETE",
        "/portals/{address}",
        ctx -> {
          admin.removePortal(hostPort(ctx.pathParam("address")));
          ctx.status(204);
        });

    route(cfg, "GET", "/alua", ctx -> ctx.json(admin.alua()));
    route(
        cfg,
        "PUT",
        "/alua",
        ctx -> {
          JsonBody body = JsonBody.parse(json, ctx.body(), ALUA_FIELDS);
          ctx.json(admin.setAlua(aluaState(body.requiredString("state"))));
        });

    route(cfg, "GET", "/sessions", ctx -> ctx.json(admin.sessions()));

    route(cfg, "GET", "/nbd/exports", ctx -> ctx.json(admin.nbd().exports()));
    route(cfg, "POST", "/nbd/exports", this::createNbdExport);
    route(
        cfg,
        "GET",
        "/nbd/exports/{name}",
        ctx -> ctx.json(admin.nbd().export(ctx.pathParam("name"))));
    route(
        cfg,
        "DELETE",
        "/nbd/exports/{name}",
        ctx -> {
          admin.nbd().delete(ctx.pathParam("name"));
          ctx.status(204);
        });

    peerRoutes(cfg);
    mediatorRoutes(cfg);
    new CgRoutes(groups, json)
        .register((method, path, handler) -> route(cfg, method, path, handler));
  }

  private void peerRoutes(JavalinConfig cfg) {
    route(cfg, "GET", "/peers", ctx -> ctx.json(peering().list()));
    route(
        cfg,
        "POST",
        "/peers",
        ctx -> {
          JsonBody body = JsonBody.parse(json, ctx.body(), PEER_FIELDS);
          ctx.status(201)
              .json(
                  peering()
                      .create(body.requiredString("address"), body.requiredString("passphrase")));
        });
    route(cfg, "POST", "/peers/invitations", ctx -> ctx.status(201).json(peering().invite()));
    route(cfg, "GET", "/peers/{name}", ctx -> ctx.json(peering().peer(ctx.pathParam("name"))));
    route(
        cfg,
        "DELETE",
        "/peers/{name}",
        ctx -> {
          peering().delete(ctx.pathParam("name"));
          ctx.status(204);
        });
  }

  private void mediatorRoutes(JavalinConfig cfg) {
    route(cfg, "GET", "/mediator", ctx -> ctx.json(mediator().view()));
    route(
        cfg,
        "PUT",
        "/mediator",
        ctx -> {
          JsonBody body = JsonBody.parse(json, ctx.body(), MEDIATOR_FIELDS);
          ctx.json(
              mediator()
                  .configure(
                      new MediatorRequest(
                          body.optionalString("address"),
                          body.optionalString("caCert"),
                          body.optionalString("user"),
                          body.optionalString("password"))));
        });
    route(
        cfg,
        "DELETE",
        "/mediator",
        ctx -> {
          mediator().remove();
          ctx.status(204);
        });
  }

  private SiteMediator mediator() {
    return available(mediator, "the mediator settings are");
  }

  private Peering peering() {
    return available(peering, "peering is");
  }

  /** A part of the site that a test may build the API without: refused clearly when absent. */
  static <T> T available(T part, String what) {
    if (part == null) {
      throw AdminException.conflict(what + " not available in this process");
    }
    return part;
  }

  private void createNbdExport(Context ctx) throws IOException {
    JsonBody body = JsonBody.parse(json, ctx.body(), NBD_EXPORT_FIELDS);
    List<String> allow = body.has("allow") ? body.stringList("allow") : null;
    ctx.status(201)
        .json(
            admin
                .nbd()
                .create(
                    body.requiredString("volume"),
                    body.optionalString("name"),
                    allow,
                    body.optionalBoolean("readOnly", false)));
  }

  private void route(JavalinConfig cfg, String method, String path, Handler handler) {
    String full = BASE + path;
    routes.add(method + " " + full);
    switch (method) {
      case "GET" -> cfg.routes.get(full, handler);
      case "POST" -> cfg.routes.post(full, handler);
      case "PUT" -> cfg.routes.put(full, handler);
      case "PATCH" -> cfg.routes.patch(full, handler);
      case "DELETE" -> cfg.routes.delete(full, handler);
      default -> throw new IllegalArgumentException(method);
    }
  }

  private void authenticate(Context ctx) {
    if (!token.accepts(ctx.header("Authorization"))) {
      // Thrown, not answered: Javalin then skips the endpoint handler.
      throw new Unauthorized();
    }
  }

  /** A request without the right bearer token. */
  private static final class Unauthorized extends HttpResponseException {
    private static final long serialVersionUID = 1L;

    Unauthorized() {
      super(
          401,
          "missing or wrong API token: send 'Authorization: Bearer <token>' (the token is in <data"
              + " dir>/api-token)");
    }
  }

  private void createVolume(Context ctx) throws IOException {
    JsonBody body = JsonBody.parse(json, ctx.body(), VOLUME_FIELDS);
    String name = body.requiredString("name");
    long size = body.requiredSize("size");
    Integer bs = body.optionalInt("blockSize");
    ctx.status(201).json(admin.createVolume(name, size, bs == null ? 512 : bs));
  }

  private void resizeVolume(Context ctx) throws IOException {
    JsonBody body = JsonBody.parse(json, ctx.body(), RESIZE_FIELDS);
    ctx.json(admin.resizeVolume(ctx.pathParam("name"), body.requiredSize("size")));
  }

  private void createHost(Context ctx) throws IOException {
    JsonBody body = JsonBody.parse(json, ctx.body(), HOST_FIELDS);
    SiteState.Host host =
        new SiteState.Host(
            body.requiredString("name"),
            body.stringList("iqns"),
            body.optionalString("chapUser"),
            body.optionalString("chapSecret"),
            body.optionalString("mutualUser"),
            body.optionalString("mutualSecret"),
            body.optionalString("site"));
    ctx.status(201).json(admin.createHost(host));
  }

  /**
   * Fields present replace the stored ones; a field set to null clears it (e.g. turns CHAP off).
   */
  private void updateHost(Context ctx) throws IOException {
    String name = ctx.pathParam("name");
    JsonBody body = JsonBody.parse(json, ctx.body(), HOST_FIELDS);
    SiteState.Host old = admin.storedHost(name);
    String newName = body.has("name") ? body.requiredString("name") : old.name();
    SiteState.Host merged =
        new SiteState.Host(
            newName,
            body.has("iqns") ? body.stringList("iqns") : old.iqns(),
            body.has("chapUser") ? body.optionalString("chapUser") : old.chapUser(),
            body.has("chapSecret") ? body.optionalString("chapSecret") : old.chapSecret(),
            body.has("mutualUser") ? body.optionalString("mutualUser") : old.mutualUser(),
            body.has("mutualSecret") ? body.optionalString("mutualSecret") : old.mutualSecret(),
            body.has("site") ? body.optionalString("site") : old.site());
    ctx.json(admin.replaceHost(name, merged));
  }

  private void createMapping(Context ctx) throws IOException {
    JsonBody body = JsonBody.parse(json, ctx.body(), MAPPING_FIELDS);
    SiteState.Mapping m =
        admin.createMapping(
            body.requiredString("volume"),
            body.requiredString("host"),
            body.optionalString("target"),
            body.optionalInt("lun"),
            body.optionalBoolean("readOnly", false));
    ctx.status(201).json(m);
  }

  private void events(Context ctx) {
    long since = longParam(ctx, "since", 0);
    long limit = longParam(ctx, "limit", EVENTS_LIMIT_DEFAULT);
    if (limit < 1 || limit > EVENTS_LIMIT_MAX) {
      throw AdminException.invalid("limit must be 1.." + EVENTS_LIMIT_MAX);
    }
    ctx.json(admin.events().since(since, (int) limit));
  }

  private Views.Status status() {
    SiteState s = admin.state();
    String version = Node.class.getPackage().getImplementationVersion();
    long uptime = Math.max(0, (clock.millis() - started.toEpochMilli()) / 1000);
    return new Views.Status(
        admin.config().name(),
        s.siteUuid(),
        version == null ? "dev" : version,
        started.toString(),
        uptime,
        admin.volumes().size(),
        s.hosts().size(),
        s.mappings().size(),
        admin.sessions().size(),
        admin.portals().stream().map(Views.Portal::address).toList(),
        admin.targets().stream().map(Views.Target::name).toList(),
        app == null
            ? ""
            : "http://"
                + HostPort.of(new InetSocketAddress(admin.config().api().host(), app.port())),
        admin.alua(),
        admin.events().recent(10),
        admin.nbd().listeners().stream().map(HostPort::toString).toList(),
        admin.nbd().urls(),
        peering == null ? "" : peering.address(),
        peering == null ? List.of() : peering.list(),
        groups == null ? List.of() : groups.summaries(),
        mediator == null ? null : mediator.view());
  }

  private static long longParam(Context ctx, String name, long dflt) {
    String v = ctx.queryParam(name);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw AdminException.invalid(
          "query parameter '" + name + "' must be an integer, got '" + v + "'");
    }
  }

  static boolean force(Context ctx) {
    String v = ctx.queryParam("force");
    if (v == null || v.isEmpty() || v.equals("false")) {
      return false;
    }
    if (v.equals("true")) {
      return true;
    }
    throw AdminException.invalid("query parameter 'force' must be true or false");
  }

  private static long mappingId(Context ctx) {
    String v = ctx.pathParam("id");
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw AdminException.invalid("mapping id must be a number, got '" + v + "'");
    }
  }

  private static HostPort hostPort(String text) {
    try {
      return HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      throw AdminException.invalid("portal address: " + e.getMessage());
    }
  }

  private static AluaState aluaState(String text) {
    String t = text.strip().toUpperCase(Locale.ROOT).replace('-', '_').replace('/', '_');
    try {
      return AluaState.valueOf(t);
    } catch (IllegalArgumentException e) {
      throw AdminException.invalid(
          "state '"
              + text
              + "' is not an ALUA state (active-optimized, active-non-optimized, standby,"
              + " unavailable, transitioning)");
    }
  }

  private static int status(AdminException.Kind kind) {
    return switch (kind) {
      case INVALID -> 400;
      case NOT_FOUND -> 404;
      case CONFLICT -> 409;
      case UNAVAILABLE -> 503;
    };
  }

  private static String label(AdminException.Kind kind) {
    return switch (kind) {
      case INVALID -> "bad request";
      case NOT_FOUND -> "not found";
      case CONFLICT -> "conflict";
      case UNAVAILABLE -> "unavailable";
    };
  }

  private void httpError(Context ctx, HttpResponseException e) {
    int code = e.getStatus();
    String label =
        switch (code) {
          case 401 -> "unauthorized";
          case 404 -> "not found";
          case 405 -> "method not allowed";
          case 413 -> "request too large";
          default -> code >= 500 ? "internal" : "bad request";
        };
    String detail =
        code == 404 && !(e instanceof Unauthorized)
            ? "no such endpoint: " + ctx.method() + " " + ctx.path()
            : e.getMessage();
    error(ctx, code, label, detail);
  }

  private void error(Context ctx, int code, String label, String detail) {
    try {
      ctx.status(code)
          .contentType("application/json")
          .result(
              json.writeValueAsString(
                  Map.of("error", label, "detail", detail == null ? "" : detail)));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (app != null) {
      app.stop();
    }
  }

  /** Javalin's JSON hook, backed by the node's own Jackson 2 mapper. */
  private record JacksonMapper(ObjectMapper json) implements JsonMapper {
    @Override
    public String toJsonString(Object obj, Type type) {
      try {
        return json.writeValueAsString(obj);
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public <T> T fromJsonString(String text, Type type) {
      try {
        return json.readValue(text, json.constructType(type));
      } catch (JsonProcessingException e) {
        throw AdminException.invalid("request body is not valid JSON: " + e.getOriginalMessage());
      }
    }
  }
}
