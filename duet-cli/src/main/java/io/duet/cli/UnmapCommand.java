package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code duet unmap VOLUME --host HOST} (or {@code --id N}): removes one mapping. */
@Command(
    name = "unmap",
    description = "Remove a mapping (by volume and host, or by --id).",
    mixinStandardHelpOptions = true)
final class UnmapCommand extends ApiCommand {
  @Parameters(index = "0", arity = "0..1", paramLabel = "VOLUME")
  String volume;

  @Option(names = "--host", paramLabel = "HOST")
  String host;

  @Option(names = "--lun", paramLabel = "N")
  Integer lun;

  @Option(names = "--target", paramLabel = "TARGET")
  String target;

  @Option(
      names = "--id",
      paramLabel = "ID",
      description = "the mapping id (see 'duet mapping list')")
  Long id;

  @Override
  public Integer call() throws IOException {
    if (id == null && (volume == null || host == null)) {
      throw new UsageError("give VOLUME --host HOST, or --id ID");
    }
    ApiClient api = api();
    long chosen;
    if (id != null) {
      chosen = id;
    } else {
      List<JsonNode> matches = new ArrayList<>();
      for (JsonNode m : api.get("/mappings")) {
        if (m.path("volume").asText().equals(volume)
            && m.path("host").asText().equals(host)
            && (lun == null || m.path("lun").asInt() == lun)
            && (target == null
                || m.path("target")
                    .asText()
                    .toLowerCase(Locale.ROOT)
                    .endsWith(target.toLowerCase(Locale.ROOT)))) {
          matches.add(m);
        }
      }
      if (matches.isEmpty()) {
        throw new ApiClient.ApiError(
            404, "no mapping of volume " + volume + " to " + host + " (see 'duet mapping list')");
      }
      if (matches.size() > 1) {
        throw new UsageError(
            "volume "
                + volume
                + " is mapped to "
                + host
                + " "
                + matches.size()
                + " times; add --target or --lun, or use --id");
      }
      chosen = matches.get(0).path("id").asLong();
    }
    api.delete("/mappings/" + chosen);
    return done("mapping " + chosen + " removed");
  }
}
