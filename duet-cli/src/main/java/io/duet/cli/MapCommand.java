package io.duet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code duet map VOLUME --host HOST|'*'}: shows a volume to a host at a LUN. */
@Command(
    name = "map",
    description = "Map a volume to a host (or '*' for every initiator).",
    mixinStandardHelpOptions = true)
final class MapCommand extends ApiCommand {
  @Parameters(index = "0", paramLabel = "VOLUME")
  String volume;

  @Option(
      names = "--host",
      required = true,
      paramLabel = "HOST",
      description = "a host name, or '*' for any initiator")
  String host;

  @Option(names = "--lun", paramLabel = "N", description = "LUN number (default: the lowest free)")
  Integer lun;

  @Option(
      names = "--target",
      paramLabel = "TARGET",
      description = "target name or suffix (default: the site's target)")
  String target;

  @Option(names = "--read-only", description = "the host may only read")
  boolean readOnly;

  @Override
  public Integer call() throws IOException {
    ObjectNode body =
        cli()
            .mapper()
            .createObjectNode()
            .put("volume", volume)
            .put("host", host)
            .put("readOnly", readOnly);
    if (lun != null) {
      body.put("lun", lun);
    }
    if (target != null) {
      body.put("target", target);
    }
    return show(api().post("/mappings", body), MappingCommand.printer(this));
  }
}
