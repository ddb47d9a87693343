package io.duet.mediator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The mediator's configuration, from {@code mediator.yaml} or command-line flags.
 *
 * <pre>
 * dataDir: /var/lib/duet/mediator   # required; relative paths are relative to this file
 * listen: 0.0.0.0:7090              # HTTPS address (default 127.0.0.1:7090; port 0 = free port)
 * tlsNames: [mediator.example.com]  # extra DNS names / IPs in the server certificate
 * clientCas: [sites-ca.crt]         # CAs whose client certificates are accepted (default none)
 * leaseMs: 5000                     # the leader's lease
 * graceMs: 2000                     # safety margin after a lease before a takeover
 * maxFailedLogins: 5                # failed logins before a user is locked out
 * lockoutMs: 60000                  # how long a lockout lasts
 * </pre>
 *
 * @param dataDir where relationships, the CA and the users live
 * @param host the listen host
 * @param port the listen port (0: any free port)
 * @param tlsNames extra names for the server certificate
 * @param clientCas files of CA certificates trusted for client certificates
 * @param leaseMs the leader's lease
 * @param graceMs the margin after a lease ends before the follower may take over
 * @param maxFailedLogins failures before a lockout
 * @param lockoutMs length of a lockout
 */
public record MediatorConfig(
    Path dataDir,
    String host,
    int port,
    List<String> tlsNames,
    List<Path> clientCas,
    long leaseMs,
    long graceMs,
    int maxFailedLogins,
    long lockoutMs) {

  public static final String HOST_DEFAULT = "127.0.0.1";
  public static final int PORT_DEFAULT = 7090;
  public static final long LEASE_MS_DEFAULT = 5000;
  public static final long GRACE_MS_DEFAULT = 2000;
  public static final int MAX_FAILED_LOGINS_DEFAULT = 5;
  public static final long LOCKOUT_MS_DEFAULT = 60_000;
  private static final Set<String> FIELDS =
      Set.of(
          "dataDir",
          "listen",
          "tlsNames",
          "clientCas",
          "leaseMs",
          "graceMs",
          "maxFailedLogins",
          "lockoutMs");
  private static final int MAX_CONFIG_BYTES = 1 << 20;

  public MediatorConfig {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(host, "host");
    tlsNames = List.copyOf(tlsNames);
    clientCas = List.copyOf(clientCas);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range");
    }
    if (leaseMs < 100 || graceMs < 0 || maxFailedLogins < 1 || lockoutMs < 0) {
      throw new IllegalArgumentException(
          "leaseMs must be >= 100, graceMs and lockoutMs >= 0, maxFailedLogins >= 1");
    }
  }

  /** The defaults for {@code dataDir}. */
  public static MediatorConfig defaults(Path dataDir) {
    return new MediatorConfig(
        dataDir,
        HOST_DEFAULT,
        PORT_DEFAULT,
        List.of(),
        List.of(),
        LEASE_MS_DEFAULT,
        GRACE_MS_DEFAULT,
        MAX_FAILED_LOGINS_DEFAULT,
        LOCKOUT_MS_DEFAULT);
  }

  /** The same configuration listening on {@code host:port}. */
  public MediatorConfig withListen(String newHost, int newPort) {
    return new MediatorConfig(
        dataDir,
        newHost,
        newPort,
        tlsNames,
        clientCas,
        leaseMs,
        graceMs,
        maxFailedLogins,
        lockoutMs);
  }

  /**
   * Reads {@code file}.
   *
   * @throws IOException naming the file and the problem, for anything but a valid configuration
   */
  public static MediatorConfig load(Path file) throws IOException {
    if (Files.size(file) > MAX_CONFIG_BYTES) {
      throw new IOException(file + ": larger than " + MAX_CONFIG_BYTES + " bytes");
    }
    return parse(Files.readString(file), file.toAbsolutePath().getParent(), file.toString());
  }

  static MediatorConfig parse(String text, Path base, String name) throws IOException {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(text);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new IOException(name + ": not valid YAML: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException(name + ": expected a mapping of settings");
    }
    Iterator<String> names = root.fieldNames();
    while (names.hasNext()) {
      String f = names.next();
      if (!FIELDS.contains(f)) {
        throw new IOException(
            name
                + ": unknown setting '"
                + f
                + "' (known: "
                + String.join(", ", FIELDS.stream().sorted().toList())
                + ")");
      }
    }
    try {
      Path dataDir = base.resolve(text(root, "dataDir", null, name));
      String listen = text(root, "listen", HOST_DEFAULT + ":" + PORT_DEFAULT, name);
      int colon = listen.lastIndexOf(':');
      if (colon <= 0) {
        throw new IOException(name + ": listen must be host:port, got '" + listen + "'");
      }
      String host = listen.substring(0, colon).replace("[", "").replace("]", "");
      int port = Integer.parseInt(listen.substring(colon + 1));
      List<Path> cas = new ArrayList<>();
      for (String ca : list(root, "clientCas", name)) {
        cas.add(base.resolve(ca));
      }
      return new MediatorConfig(
          dataDir,
          host,
          port,
          list(root, "tlsNames", name),
          cas,
          number(root, "leaseMs", LEASE_MS_DEFAULT, name),
          number(root, "graceMs", GRACE_MS_DEFAULT, name),
          (int) number(root, "maxFailedLogins", MAX_FAILED_LOGINS_DEFAULT, name),
          number(root, "lockoutMs", LOCKOUT_MS_DEFAULT, name));
    } catch (IllegalArgumentException e) {
      throw new IOException(name + ": " + e.getMessage(), e);
    }
  }

  private static String text(JsonNode root, String field, String dflt, String name)
      throws IOException {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      if (dflt == null) {
        throw new IOException(name + ": '" + field + "' is required");
      }
      return dflt;
    }
    if (!n.isValueNode()) {
      throw new IOException(name + ": '" + field + "' must be a single value");
    }
    return n.asText();
  }

  private static long number(JsonNode root, String field, long dflt, String name)
      throws IOException {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new IOException(name + ": '" + field + "' must be a whole number");
    }
    return n.asLong();
  }

  private static List<String> list(JsonNode root, String field, String name) throws IOException {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw new IOException(name + ": '" + field + "' must be a list");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : n) {
      if (!item.isValueNode()) {
        throw new IOException(name + ": '" + field + "' must hold plain values");
      }
      out.add(item.asText());
    }
    return out;
  }
}
