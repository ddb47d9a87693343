package io.duet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.duet.node.ByteSize;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code duet volume create|list|show|resize|delete}. */
@Command(
    name = "volume",
    description = "Create, list, show, grow and delete volumes.",
    mixinStandardHelpOptions = true,
    subcommands = {
      VolumeCommand.Create.class,
      VolumeCommand.ListVolumes.class,
      VolumeCommand.Show.class,
      VolumeCommand.Resize.class,
      VolumeCommand.Delete.class
    })
final class VolumeCommand extends GroupCommand {

  static long size(String text) {
    try {
      return ByteSize.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--size: " + e.getMessage());
    }
  }

  static void table(ApiCommand c, JsonNode list) {
    Table t = new Table("NAME", "SIZE", "BLOCK", "UUID", "NAA", "MAPPINGS");
    for (JsonNode v : list) {
      t.row(
          v.path("name").asText(),
          ByteSize.format(v.path("sizeBytes").asLong()),
          v.path("blockSize").asInt(),
          v.path("uuid").asText(),
          v.path("naa").asText(),
          v.path("mappings").size());
    }
    t.print(c.out());
  }

  @Command(name = "create", description = "Create a volume.", mixinStandardHelpOptions = true)
  static final class Create extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(
        names = "--size",
        required = true,
        paramLabel = "SIZE",
        description = "e.g. 1GiB, 512MiB, or bytes")
    String size;

    @Option(
        names = "--block-size",
        paramLabel = "BYTES",
        defaultValue = "512",
        description = "512 or 4096 (default 512)")
    int blockSize;

    @Override
    public Integer call() throws IOException {
      if (blockSize != 512 && blockSize != 4096) {
        throw new UsageError("--block-size must be 512 or 4096");
      }
      ObjectNode body =
          cli()
              .mapper()
              .createObjectNode()
              .put("name", name)
              .put("size", size(size))
              .put("blockSize", blockSize);
      JsonNode v = api().post("/volumes", body);
      return show(
          v,
          n ->
              out()
                  .println(
                      "volume "
                          + n.path("name").asText()
                          + " created: "
                          + ByteSize.format(n.path("sizeBytes").asLong())
                          + ", "
                          + n.path("blockSize").asInt()
                          + "-byte blocks, "
                          + n.path("naa").asText()));
    }
  }

  @Command(name = "list", description = "List volumes.", mixinStandardHelpOptions = true)
  static final class ListVolumes extends ApiCommand {
    @Override
    public Integer call() throws IOException {
      return show(api().get("/volumes"), n -> table(this, n));
    }
  }

  @Command(name = "show", description = "Show one volume.", mixinStandardHelpOptions = true)
  static final class Show extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws IOException {
      return show(
          api().get("/volumes/" + ApiClient.segment(name)),
          n -> {
            Table t = new Table("FIELD", "VALUE");
            t.row("name", text(n, "name"))
                .row("uuid", text(n, "uuid"))
                .row("size", ByteSize.format(n.path("sizeBytes").asLong()))
                .row("sizeBytes", text(n, "sizeBytes"))
                .row("blockSize", text(n, "blockSize"))
                .row("blockCount", text(n, "blockCount"))
                .row("naa", text(n, "naa"))
                .row("serial", text(n, "serial"))
                .row("mappings", n.path("mappings").toString());
            t.print(out());
          });
    }
  }

  @Command(
      name = "resize",
      description = "Grow a volume (shrinking is refused).",
      mixinStandardHelpOptions = true)
  static final class Resize extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(
        names = "--size",
        required = true,
        paramLabel = "SIZE",
        description = "the new size, e.g. 20GiB")
    String size;

    @Override
    public Integer call() throws IOException {
      ObjectNode body = cli().mapper().createObjectNode().put("size", size(size));
      JsonNode v = api().patch("/volumes/" + ApiClient.segment(name), body);
      return show(
          v,
          n ->
              out()
                  .println(
                      "volume "
                          + n.path("name").asText()
                          + " is now "
                          + ByteSize.format(n.path("sizeBytes").asLong())));
    }
  }

  @Command(
      name = "delete",
      description = "Delete a volume and its data.",
      mixinStandardHelpOptions = true)
  static final class Delete extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--force", description = "also remove its mappings")
    boolean force;

    @Override
    public Integer call() throws IOException {
      api().delete("/volumes/" + ApiClient.segment(name) + (force ? "?force=true" : ""));
      return done("volume " + name + " deleted");
    }
  }
}
