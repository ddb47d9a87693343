package io.duet.cli;

/**
 * The command line cannot be carried out as given (missing token, bad option value): exit code 2.
 */
final class UsageError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageError(String message) {
    super(message);
  }
}
