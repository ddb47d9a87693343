package io.duet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** A noun such as {@code volume}: given without a verb it is a usage error (exit 2). */
abstract class GroupCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    throw new ParameterException(
        spec.commandLine(),
        "missing subcommand: one of "
            + String.join(
                ", ",
                spec.subcommands().keySet().stream().filter(k -> !k.equals("help")).toList()));
  }
}
