package io.duet.node;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A request body read strictly: it must be one JSON object, every field must be known, and each
 * accessor names the field in its error, so a client learns exactly what to fix.
 */
final class JsonBody {
  private final JsonNode root;

  private JsonBody(JsonNode root) {
    this.root = root;
  }

  /**
   * @param allowed the fields this request may carry
   * @throws AdminException INVALID for anything but a JSON object of known fields
   */
  static JsonBody parse(ObjectMapper json, String body, Set<String> allowed) {
    if (body == null || body.isBlank()) {
      throw AdminException.invalid("request body is empty; expected a JSON object");
    }
    JsonNode root;
    try {
      root = json.readTree(body);
    } catch (JsonProcessingException e) {
      throw AdminException.invalid("request body is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw AdminException.invalid("request body must be a JSON object");
    }
    Iterator<String> names = root.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw AdminException.invalid(
            "unknown field '"
                + name
                + "' (allowed: "
                + String.join(", ", allowed.stream().sorted().toList())
                + ")");
      }
    }
    return new JsonBody(root);
  }

  boolean has(String field) {
    return root.has(field);
  }

  /** Present and explicitly null: a PATCH asking to clear the field. */
  boolean isNull(String field) {
    return root.has(field) && root.get(field).isNull();
  }

  String requiredString(String field) {
    String v = optionalString(field);
    if (v == null) {
      throw AdminException.invalid("field '" + field + "' is required");
    }
    return v;
  }

  String optionalString(String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw AdminException.invalid("field '" + field + "' must be a string");
    }
    return n.asText();
  }

  Integer optionalInt(String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw AdminException.invalid("field '" + field + "' must be an integer");
    }
    return n.asInt();
  }

  boolean optionalBoolean(String field, boolean dflt) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isBoolean()) {
      throw AdminException.invalid("field '" + field + "' must be true or false");
    }
    return n.asBoolean();
  }

  /** A size: a byte count, or a string such as {@code "10GiB"} (see {@link ByteSize}). */
  long requiredSize(String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      throw AdminException.invalid(
          "field '" + field + "' is required (bytes, or a string like \"10GiB\")");
    }
    if (n.isIntegralNumber()) {
      if (!n.canConvertToLong() || n.asLong() <= 0) {
        throw AdminException.invalid("field '" + field + "' must be a positive number of bytes");
      }
      return n.asLong();
    }
    if (n.isTextual()) {
      try {
        return ByteSize.parse(n.asText());
      } catch (IllegalArgumentException e) {
        throw AdminException.invalid("field '" + field + "': " + e.getMessage());
      }
    }
    throw AdminException.invalid(
        "field '" + field + "' must be a number of bytes or a string like \"10GiB\"");
  }

  /** A list of strings; a single string is taken as a list of one. */
  List<String> stringList(String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (n.isTextual()) {
      return List.of(n.asText());
    }
    if (!n.isArray()) {
      throw AdminException.invalid("field '" + field + "' must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : n) {
      if (!item.isTextual()) {
        throw AdminException.invalid("field '" + field + "' must contain only strings");
      }
      out.add(item.asText());
    }
    return out;
  }
}
