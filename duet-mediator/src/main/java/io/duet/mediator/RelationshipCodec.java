package io.duet.mediator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.mediator.Relationship.Contact;
import io.duet.mediator.Relationship.Pending;
import io.duet.mediator.Relationship.Report;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The payload of a relationship file (inside an {@link io.duet.store.AtomicFile} frame, so damage
 * is caught by its CRC first): a small JSON object, readable with any tool when debugging. Format 2
 * adds {@code pending} (an unconfirmed record); format 1 files read as confirmed records.
 */
final class RelationshipCodec {
  static final int FORMAT = 2;
  static final int FORMAT_WITHOUT_PENDING = 1;
  private static final ObjectMapper JSON = new ObjectMapper();

  private RelationshipCodec() {}

  static byte[] encode(Relationship r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", FORMAT)
        .put("groupId", r.groupId().toString())
        .put("siteA", r.siteA().toString())
        .put("siteB", r.siteB().toString())
        .put("epoch", r.epoch())
        .put("leader", r.leader().toString())
        .put("inSync", r.inSync());
    if (r.survivor() != null) {
      o.put("survivor", r.survivor().toString());
    }
    if (r.preElected() != null) {
      o.put("preElected", r.preElected().toString());
    }
    if (r.pending() != null) {
      ObjectNode p = o.putObject("pending");
      var awaiting = p.putArray("awaiting");
      r.pending().awaiting().stream().map(UUID::toString).sorted().forEach(awaiting::add);
      Report best = r.pending().best();
      if (best != null) {
        p.putObject("best")
            .put("epoch", best.epoch())
            .put("leader", best.leader().toString())
            .put("inSync", best.inSync());
      }
    }
    ObjectNode contacts = o.putObject("contacts");
    r.contacts()
        .forEach(
            (site, c) ->
                contacts
                    .putObject(site.toString())
                    .put("atMs", c.at().toEpochMilli())
                    .put("epoch", c.reportedEpoch()));
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode a relationship", e);
    }
  }

  /**
   * @throws IOException naming what is wrong, for any payload that is not a valid record
   */
  static Relationship decode(byte[] payload) throws IOException {
    try {
      JsonNode o = JSON.readTree(payload);
      if (o == null || !o.isObject()) {
        throw new IOException("not a JSON object");
      }
      long format = number(o, "format");
      if (format != FORMAT && format != FORMAT_WITHOUT_PENDING) {
        throw new IOException("unsupported relationship format " + format);
      }
      Map<UUID, Contact> contacts = new HashMap<>();
      JsonNode cs = o.get("contacts");
      if (cs != null && cs.isObject()) {
        for (var e : cs.properties()) {
          contacts.put(
              uuid(e.getKey(), "contact site"),
              new Contact(
                  Instant.ofEpochMilli(number(e.getValue(), "atMs")),
                  number(e.getValue(), "epoch")));
        }
      }
      return new Relationship(
          uuidField(o, "groupId", true),
          uuidField(o, "siteA", true),
          uuidField(o, "siteB", true),
          number(o, "epoch"),
          uuidField(o, "leader", true),
          bool(o, "inSync"),
          uuidField(o, "survivor", false),
          uuidField(o, "preElected", false),
          contacts,
          pending(o.get("pending")));
    } catch (IOException e) {
      throw new IOException("bad relationship record: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // Record invariants (IllegalArgumentException) and anything else the input provokes.
      throw new IOException("bad relationship record: " + e.getMessage(), e);
    }
  }

  private static Pending pending(JsonNode p) throws IOException {
    if (p == null || p.isNull()) {
      return null;
    }
    JsonNode awaiting = p.get("awaiting");
    if (!p.isObject() || awaiting == null || !awaiting.isArray() || awaiting.size() > 2) {
      throw new IOException("field 'pending' must hold an 'awaiting' list of at most two sites");
    }
    Set<UUID> sites = new HashSet<>();
    for (JsonNode s : awaiting) {
      sites.add(uuid(s.asText(), "awaiting site"));
    }
    JsonNode b = p.get("best");
    Report best =
        b == null || b.isNull()
            ? null
            : new Report(number(b, "epoch"), uuidField(b, "leader", true), bool(b, "inSync"));
    return new Pending(sites, best);
  }

  private static long number(JsonNode o, String field) throws IOException {
    JsonNode n = o.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
      throw new IOException("field '" + field + "' must be an integer");
    }
    return n.asLong();
  }

  private static boolean bool(JsonNode o, String field) throws IOException {
    JsonNode n = o.get(field);
    if (n == null || !n.isBoolean()) {
      throw new IOException("field '" + field + "' must be true or false");
    }
    return n.asBoolean();
  }

  private static UUID uuidField(JsonNode o, String field, boolean required) throws IOException {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw new IOException("field '" + field + "' is required");
      }
      return null;
    }
    if (!n.isTextual()) {
      throw new IOException("field '" + field + "' must be a UUID string");
    }
    return uuid(n.asText(), field);
  }

  static UUID uuid(String text, String what) throws IOException {
    try {
      return UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      throw new IOException(what + " '" + text + "' is not a UUID");
    }
  }
}
