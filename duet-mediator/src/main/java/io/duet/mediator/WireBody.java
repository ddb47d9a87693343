package io.duet.mediator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Iterator;
import java.util.Set;
import java.util.UUID;

/**
 * One request body of the mediator API: a JSON object of known fields, read strictly. Every
 * accessor throws {@link MediatorException} INVALID naming the field, never anything else.
 */
final class WireBody {
  private final JsonNode root;

  private WireBody(JsonNode root) {
    this.root = root;
  }

  static WireBody parse(ObjectMapper json, String text, Set<String> allowed)
      throws MediatorException {
    if (text == null || text.isBlank()) {
      throw MediatorException.invalid("empty body; expected a JSON object");
    }
    JsonNode root;
    try {
      root = json.readTree(text);
    } catch (JsonProcessingException e) {
      throw MediatorException.invalid("body is not JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw MediatorException.invalid("body must be a JSON object");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        throw MediatorException.invalid(
            "unknown field '" + f + "' (expected " + allowed.stream().sorted().toList() + ")");
      }
    }
    return new WireBody(root);
  }

  UUID uuid(String field) throws MediatorException {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual()) {
      throw MediatorException.invalid("field '" + field + "' must be a UUID string");
    }
    return uuidText(n.asText(), "field '" + field + "'");
  }

  static UUID uuidText(String text, String what) throws MediatorException {
    try {
      return UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      throw MediatorException.invalid(what + " is not a UUID: '" + text + "'");
    }
  }

  long epoch() throws MediatorException {
    JsonNode n = root.get("epoch");
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
      throw MediatorException.invalid("field 'epoch' must be a non-negative integer");
    }
    return n.asLong();
  }

  boolean bool(String field) throws MediatorException {
    JsonNode n = root.get(field);
    if (n == null || !n.isBoolean()) {
      throw MediatorException.invalid("field '" + field + "' must be true or false");
    }
    return n.asBoolean();
  }

  String text(String field, int maxChars) throws MediatorException {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual()) {
      throw MediatorException.invalid("field '" + field + "' must be a string");
    }
    String s = n.asText();
    if (s.length() > maxChars) {
      throw MediatorException.invalid("field '" + field + "' exceeds " + maxChars + " characters");
    }
    return s;
  }
}
