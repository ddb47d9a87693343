package io.duet.node.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The static configuration of one site, read from {@code site.yaml}. Everything an operator can
 * change at run time (hosts, mappings, extra portals, ALUA state) lives in the node's state
 * instead.
 *
 * <pre>
 * name: site-a                       # required; lower-case letters, digits, '-', '.'
 * dataDir: /var/lib/duet/site-a      # required; relative paths are relative to this file
 * portals: ["192.0.2.10:3260"]       # iSCSI portals (default 127.0.0.1:3260)
 * api: 127.0.0.1:7080                # REST API address (default loopback)
 * portGroupId: 1                     # ALUA target port group of this site
 * relativeTargetPortId: 1            # unique across both sites
 * portalGroupTag: 1                  # iSCSI TPGT of this site's portals
 * targetPrefix: iqn.2026-11.io.duet:site-a
 * nbd: ["127.0.0.1:10809"]           # NBD listeners (default none; port 0 = a free port)
 * nbdTls: {certificate: ..., key: ..., clientCa: ..., required: false}   # see NbdTlsConfig
 * replication: 192.0.2.10:7443       # peer link and pairing port (default none: no peering)
 * </pre>
 *
 * @param name the site name
 * @param dataDir where volumes, state and the API token live
 * @param portals iSCSI portals to open at start (port 0 = a free port)
 * @param api the REST API address (port 0 = a free port)
 * @param portGroupId ALUA target port group id, 1..65535
 * @param relativeTargetPortId relative target port id, 1..65535
 * @param portalGroupTag iSCSI target portal group tag, 1..65535
 * @param targetPrefix the name of the site's default iSCSI target
 * @param nbd NBD listeners to open at start (port 0 = a free port)
 * @param nbdTls the NBD server's TLS certificate, when STARTTLS is offered
 * @param replication the replication port (mutual TLS peer links and pairing), also the address
 *     this site advertises to a peer when pairing; empty means peering is not possible
 */
public record SiteConfig(
    String name,
    Path dataDir,
    List<HostPort> portals,
    HostPort api,
    int portGroupId,
    int relativeTargetPortId,
    int portalGroupTag,
    String targetPrefix,
    List<HostPort> nbd,
    Optional<NbdTlsConfig> nbdTls,
    Optional<HostPort> replication) {

  public static final HostPort API_DEFAULT = new HostPort("127.0.0.1", 7080);
  public static final HostPort PORTAL_DEFAULT = new HostPort("127.0.0.1", 3260);
  public static final int PORT_GROUP_ID_DEFAULT = 1;
  public static final int RELATIVE_TARGET_PORT_ID_DEFAULT = 1;
  public static final int PORTAL_GROUP_TAG_DEFAULT = 1;
  public static final String TARGET_PREFIX_BASE = "iqn.2026-11.io.duet:";

  private static final Set<String> FIELDS =
      Set.of(
          "name",
          "dataDir",
          "portals",
          "api",
          "portGroupId",
          "relativeTargetPortId",
          "portalGroupTag",
          "targetPrefix",
          "nbd",
          "nbdTls",
          "replication");
  private static final Pattern SITE_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{0,62}");
  private static final Pattern IQN =
      Pattern.compile(
          "(iqn\\.[0-9]{4}-[0-9]{2}\\.[a-z0-9][a-z0-9.-]*(:[a-z0-9.:_-]+)?)|(eui\\.[0-9a-f]{16})|(naa\\.[0-9a-f]{16,32})");
  private static final int MAX_CONFIG_BYTES = 1 << 20;

  public SiteConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dataDir, "dataDir");
    portals = List.copyOf(portals);
    Objects.requireNonNull(api, "api");
    Objects.requireNonNull(targetPrefix, "targetPrefix");
    nbd = List.copyOf(nbd);
    Objects.requireNonNull(nbdTls, "nbdTls");
    Objects.requireNonNull(replication, "replication");
  }

  /** A configuration without a replication port (what existed before peering). */
  public SiteConfig(
      String name,
      Path dataDir,
      List<HostPort> portals,
      HostPort api,
      int portGroupId,
      int relativeTargetPortId,
      int portalGroupTag,
      String targetPrefix,
      List<HostPort> nbd,
      Optional<NbdTlsConfig> nbdTls) {
    this(
        name,
        dataDir,
        portals,
        api,
        portGroupId,
        relativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        nbd,
        nbdTls,
        Optional.empty());
  }

  /** A configuration without NBD listeners or TLS (what existed before NBD). */
  public SiteConfig(
      String name,
      Path dataDir,
      List<HostPort> portals,
      HostPort api,
      int portGroupId,
      int relativeTargetPortId,
      int portalGroupTag,
      String targetPrefix) {
    this(
        name,
        dataDir,
        portals,
        api,
        portGroupId,
        relativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        List.of(),
        Optional.empty());
  }

  /**
   * A configuration with every default for site {@code name} keeping its data in {@code dataDir}.
   */
  public static SiteConfig defaults(String name, Path dataDir) {
    return new SiteConfig(
        name,
        dataDir,
        List.of(PORTAL_DEFAULT),
        API_DEFAULT,
        PORT_GROUP_ID_DEFAULT,
        RELATIVE_TARGET_PORT_ID_DEFAULT,
        PORTAL_GROUP_TAG_DEFAULT,
        TARGET_PREFIX_BASE + name);
  }

  public SiteConfig withPortals(List<HostPort> newPortals) {
    return new SiteConfig(
        name,
        dataDir,
        newPortals,
        api,
        portGroupId,
        relativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        nbd,
        nbdTls,
        replication);
  }

  public SiteConfig withApi(HostPort newApi) {
    return new SiteConfig(
        name,
        dataDir,
        portals,
        newApi,
        portGroupId,
        relativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        nbd,
        nbdTls,
        replication);
  }

  /** This configuration with NBD listeners {@code listeners} (port 0 = a free port). */
  public SiteConfig withNbd(List<HostPort> listeners) {
    return new SiteConfig(
        name,
        dataDir,
        portals,
        api,
        portGroupId,
        relativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        listeners,
        nbdTls,
        replication);
  }

  /** This configuration with the NBD server's TLS settings. */
  public SiteConfig withNbdTls(Optional<NbdTlsConfig> tls) {
    return new SiteConfig(
        name,
        dataDir,
        portals,
        api,
        portGroupId,
        relativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        nbd,
        tls,
        replication);
  }

  /** This configuration with a replication port (peering and peer links); port 0 = a free one. */
  public SiteConfig withReplication(Optional<HostPort> address) {
    return new SiteConfig(
        name,
        dataDir,
        portals,
        api,
        portGroupId,
        relativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        nbd,
        nbdTls,
        address);
  }

  /**
   * This configuration with another ALUA target port group and relative target port id (the two
   * sites of a pair need different ones).
   */
  public SiteConfig withPortGroup(int newPortGroupId, int newRelativeTargetPortId) {
    return new SiteConfig(
        name,
        dataDir,
        portals,
        api,
        newPortGroupId,
        newRelativeTargetPortId,
        portalGroupTag,
        targetPrefix,
        nbd,
        nbdTls,
        replication);
  }

  /** Reads and validates a YAML file. */
  public static SiteConfig load(Path file) throws ConfigException {
    String text;
    try {
      if (Files.size(file) > MAX_CONFIG_BYTES) {
        throw new ConfigException(file + ": larger than " + MAX_CONFIG_BYTES + " bytes");
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
    Path base = file.toAbsolutePath().getParent();
    return parse(text, base, file.toString());
  }

  /**
   * Parses YAML text.
   *
   * @param baseDir what a relative {@code dataDir} is resolved against
   * @param source the file name used in error messages
   */
  public static SiteConfig parse(String yaml, Path baseDir, String source) throws ConfigException {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where =
          at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw new ConfigException(
          source + ": not valid YAML" + where + ": " + e.getOriginalMessage(), e);
    } catch (RuntimeException e) {
      // SnakeYAML reports a few structural errors as unchecked exceptions.
      throw new ConfigException(source + ": not valid YAML: " + e.getMessage(), e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new ConfigException(source + ": empty configuration; field 'name' is required");
    }
    if (!root.isObject()) {
      throw new ConfigException(source + ": expected a mapping of fields at the top level");
    }
    return new Reader(root, baseDir, source).read();
  }

  /** Walks the YAML tree field by field so every error names its field. */
  private record Reader(JsonNode root, Path baseDir, String source) {
    SiteConfig read() throws ConfigException {
      Iterator<Map.Entry<String, JsonNode>> fields = root.properties().iterator();
      while (fields.hasNext()) {
        String key = fields.next().getKey();
        if (!FIELDS.contains(key)) {
          throw fail(
              key,
              "unknown field (known: "
                  + String.join(", ", FIELDS.stream().sorted().toList())
                  + ")");
        }
      }
      String name = requiredText("name");
      if (!SITE_NAME.matcher(name).matches()) {
        throw fail("name", "'" + name + "' must be 1-63 lower-case letters, digits, '-' or '.'");
      }
      Path dataDir;
      try {
        dataDir = baseDir.resolve(requiredText("dataDir")).normalize();
      } catch (java.nio.file.InvalidPathException e) {
        throw fail("dataDir", "not a valid path: " + e.getMessage());
      }
      List<HostPort> portals = portals();
      HostPort api = root.has("api") ? hostPort("api", root.get("api")) : API_DEFAULT;
      int group = id("portGroupId", PORT_GROUP_ID_DEFAULT);
      int rel = id("relativeTargetPortId", RELATIVE_TARGET_PORT_ID_DEFAULT);
      int tpgt = id("portalGroupTag", PORTAL_GROUP_TAG_DEFAULT);
      String prefix =
          root.has("targetPrefix") ? requiredText("targetPrefix") : TARGET_PREFIX_BASE + name;
      if (prefix.length() > 223 || !IQN.matcher(prefix).matches()) {
        throw fail(
            "targetPrefix",
            "'" + prefix + "' is not a lower-case iSCSI name (iqn.YYYY-MM.domain[:suffix])");
      }
      List<HostPort> nbd = nbdListeners();
      Optional<NbdTlsConfig> nbdTls = nbdTls();
      Optional<HostPort> replication =
          root.has("replication") && !root.get("replication").isNull()
              ? Optional.of(hostPort("replication", root.get("replication")))
              : Optional.empty();
      return new SiteConfig(
          name, dataDir, portals, api, group, rel, tpgt, prefix, nbd, nbdTls, replication);
    }

    private List<HostPort> nbdListeners() throws ConfigException {
      JsonNode node = root.get("nbd");
      if (node == null || node.isNull()) {
        return List.of();
      }
      if (!node.isArray()) {
        throw fail("nbd", "must be a list of host:port");
      }
      List<HostPort> out = new ArrayList<>();
      for (int i = 0; i < node.size(); i++) {
        String field = "nbd[" + i + "]";
        HostPort hp = hostPort(field, node.get(i));
        if (hp.port() != 0 && out.contains(hp)) {
          throw fail(field, "duplicate NBD listener " + hp);
        }
        out.add(hp);
      }
      return out;
    }

    private Optional<NbdTlsConfig> nbdTls() throws ConfigException {
      JsonNode node = root.get("nbdTls");
      if (node == null || node.isNull()) {
        return Optional.empty();
      }
      if (!node.isObject()) {
        throw fail("nbdTls", "must be a mapping (certificate, key, keystore, clientCa, required)");
      }
      Set<String> known =
          Set.of("certificate", "key", "keystore", "keystorePassword", "clientCa", "required");
      Iterator<String> names = node.fieldNames();
      while (names.hasNext()) {
        String n = names.next();
        if (!known.contains(n)) {
          throw fail("nbdTls." + n, "unknown field (known: " + String.join(", ", known) + ")");
        }
      }
      Optional<Path> cert = path(node, "certificate");
      Optional<Path> key = path(node, "key");
      Optional<Path> keystore = path(node, "keystore");
      if (keystore.isPresent() == (cert.isPresent() || key.isPresent())) {
        throw fail("nbdTls", "give either certificate and key (PEM) or keystore (PKCS#12)");
      }
      if (keystore.isEmpty() && (cert.isEmpty() || key.isEmpty())) {
        throw fail("nbdTls", "certificate and key go together");
      }
      JsonNode pw = node.get("keystorePassword");
      if (pw != null && !pw.isNull() && !pw.isTextual()) {
        throw fail("nbdTls.keystorePassword", "must be a string");
      }
      JsonNode req = node.get("required");
      if (req != null && !req.isNull() && !req.isBoolean()) {
        throw fail("nbdTls.required", "must be true or false");
      }
      return Optional.of(
          new NbdTlsConfig(
              cert,
              key,
              keystore,
              pw == null || pw.isNull() ? "" : pw.asText(),
              path(node, "clientCa"),
              req != null && req.asBoolean()));
    }

    private Optional<Path> path(JsonNode parent, String field) throws ConfigException {
      JsonNode n = parent.get(field);
      if (n == null || n.isNull()) {
        return Optional.empty();
      }
      if (!n.isTextual() || n.asText().isBlank()) {
        throw fail("nbdTls." + field, "must be a non-empty path");
      }
      try {
        return Optional.of(baseDir.resolve(n.asText().strip()).normalize());
      } catch (java.nio.file.InvalidPathException e) {
        throw fail("nbdTls." + field, "not a valid path: " + e.getMessage());
      }
    }

    private List<HostPort> portals() throws ConfigException {
      JsonNode node = root.get("portals");
      if (node == null || node.isNull()) {
        return List.of(PORTAL_DEFAULT);
      }
      if (!node.isArray()) {
        throw fail("portals", "must be a list of host:port");
      }
      List<HostPort> out = new ArrayList<>();
      for (int i = 0; i < node.size(); i++) {
        String field = "portals[" + i + "]";
        HostPort hp = hostPort(field, node.get(i));
        if (hp.wildcard()) {
          throw fail(
              field,
              "wildcard address "
                  + hp.host()
                  + " cannot be announced to initiators; list each address");
        }
        if (out.contains(hp)) {
          throw fail(field, "duplicate portal " + hp);
        }
        out.add(hp);
      }
      return out;
    }

    private HostPort hostPort(String field, JsonNode node) throws ConfigException {
      if (node == null || !node.isTextual()) {
        throw fail(field, "must be a string host:port");
      }
      try {
        return HostPort.parse(node.asText());
      } catch (IllegalArgumentException e) {
        throw fail(field, e.getMessage());
      }
    }

    private int id(String field, int dflt) throws ConfigException {
      JsonNode node = root.get(field);
      if (node == null || node.isNull()) {
        return dflt;
      }
      if (!node.isIntegralNumber() || node.asLong() < 1 || node.asLong() > 0xffff) {
        throw fail(field, "must be an integer 1..65535, got " + node);
      }
      return node.asInt();
    }

    private String requiredText(String field) throws ConfigException {
      JsonNode node = root.get(field);
      if (node == null || node.isNull()) {
        throw fail(field, "is required");
      }
      if (!node.isTextual() || node.asText().isBlank()) {
        throw fail(field, "must be a non-empty string");
      }
      return node.asText().strip();
    }

    private ConfigException fail(String field, String why) {
      return new ConfigException(source + ": field '" + field + "': " + why);
    }
  }
}
