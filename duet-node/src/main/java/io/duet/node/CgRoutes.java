package io.duet.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.duet.node.cg.ConsistencyGroups;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.util.Set;

/**
 * The consistency-group routes of the REST API ({@code /cgs...}, the contract in cg-api): request
 * bodies parsed strictly here, the work done by {@link ConsistencyGroups}.
 */
final class CgRoutes {
  private static final Set<String> CREATE_FIELDS =
      Set.of(
          "name", "policy", "peer", "volumes", "leader", "autoResync", "autoRecover", "resyncRate");
  private static final Set<String> VOLUME_FIELDS = Set.of("volume");
  private static final Set<String> VERIFY_FIELDS = Set.of("repair");
  private static final Set<String> FAILOVER_FIELDS = Set.of("force", "reason");
  private static final Set<String> RESYNC_FIELDS = Set.of("full");
  private static final Set<String> PATCH_FIELDS = Set.of("autoResync", "autoRecover", "resyncRate");

  /** Registers one route (RestApi's, so OpenAPI completeness covers these too). */
  interface Registrar {
    void route(String method, String path, Handler handler);
  }

  private final ConsistencyGroups groups;
  private final ObjectMapper json;

  CgRoutes(ConsistencyGroups groups, ObjectMapper json) {
    this.groups = groups;
    this.json = json;
  }

  void register(Registrar r) {
    r.route("GET", "/cgs", ctx -> ctx.json(groups().list()));
    r.route("POST", "/cgs", this::create);
    r.route("GET", "/cgs/{name}", ctx -> ctx.json(groups().get(ctx.pathParam("name"))));
    r.route("PATCH", "/cgs/{name}", this::update);
    r.route(
        "DELETE",
        "/cgs/{name}",
        ctx -> {
          groups().delete(ctx.pathParam("name"), RestApi.force(ctx));
          ctx.status(204);
        });
    r.route(
        "POST",
        "/cgs/{name}/volumes",
        ctx -> {
          JsonBody body = JsonBody.parse(json, ctx.body(), VOLUME_FIELDS);
          ctx.json(groups().addVolume(ctx.pathParam("name"), body.requiredString("volume")));
        });
    r.route(
        "POST",
        "/cgs/{name}/verify",
        ctx -> {
          JsonBody body = optionalBody(ctx, VERIFY_FIELDS);
          boolean repair = body != null && body.optionalBoolean("repair", false);
          ctx.json(groups().verify(ctx.pathParam("name"), repair));
        });
    r.route(
        "POST",
        "/cgs/{name}/switchover",
        ctx -> ctx.json(groups().switchover(ctx.pathParam("name"))));
    r.route(
        "POST",
        "/cgs/{name}/failover",
        ctx -> {
          JsonBody body = optionalBody(ctx, FAILOVER_FIELDS);
          boolean force = body != null && body.optionalBoolean("force", false);
          String reason = body == null ? null : body.optionalString("reason");
          ctx.json(groups().failover(ctx.pathParam("name"), force, reason));
        });
    r.route(
        "GET", "/cgs/{name}/validate", ctx -> ctx.json(groups().validate(ctx.pathParam("name"))));
    r.route(
        "POST",
        "/cgs/{name}/resync",
        ctx -> {
          JsonBody body = optionalBody(ctx, RESYNC_FIELDS);
          if (body != null && body.optionalBoolean("full", false)) {
            ctx.status(202).json(groups().resyncFull(ctx.pathParam("name")));
            return;
          }
          groups().resync(ctx.pathParam("name"));
          ctx.status(202).json(groups().get(ctx.pathParam("name")));
        });
  }

  private ConsistencyGroups groups() {
    return RestApi.available(groups, "consistency groups are");
  }

  private void create(Context ctx) throws IOException {
    JsonBody body = JsonBody.parse(json, ctx.body(), CREATE_FIELDS);
    ConsistencyGroups.CreateRequest req =
        new ConsistencyGroups.CreateRequest(
            body.requiredString("name"),
            body.requiredString("policy"),
            body.requiredString("peer"),
            body.stringList("volumes"),
            body.optionalString("leader"),
            body.has("autoResync") ? body.optionalBoolean("autoResync", true) : null,
            body.has("autoRecover") ? body.optionalBoolean("autoRecover", true) : null,
            body.has("resyncRate") ? body.requiredSize("resyncRate") : null);
    ctx.status(201).json(groups().create(req));
  }

  private void update(Context ctx) throws IOException {
    JsonBody body = JsonBody.parse(json, ctx.body(), PATCH_FIELDS);
    ctx.json(
        groups()
            .update(
                ctx.pathParam("name"),
                body.has("autoResync") ? body.optionalBoolean("autoResync", true) : null,
                body.has("autoRecover") ? body.optionalBoolean("autoRecover", true) : null,
                body.has("resyncRate") ? body.requiredSize("resyncRate") : null));
  }

  /** A body that may be absent (then null), else strict like every other. */
  private JsonBody optionalBody(Context ctx, Set<String> fields) {
    String b = ctx.body();
    return b == null || b.isBlank() ? null : JsonBody.parse(json, b, fields);
  }
}
