package io.duet.node.mediator;

import io.duet.mediator.MediatorClient;
import io.duet.mediator.MediatorConfig;
import io.duet.mediator.MediatorServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real mediator on a free loopback port in this JVM, with one user per site ({@value #USER_A} and
 * {@value #USER_B}), created in its data directory before it starts, as an operator would: the
 * mediator lets each user act for one site only.
 */
public final class MediatorTestServer implements AutoCloseable {
  public static final String USER_A = "site-a";
  public static final String USER_B = "site-b";
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  public final MediatorServer server;

  public MediatorTestServer(Path dir) throws IOException {
    for (String user : new String[] {USER_A, USER_B}) {
      MediatorServer.setPassword(dir, user, password(user).toCharArray());
    }
    server = MediatorServer.start(MediatorConfig.defaults(dir).withListen("127.0.0.1", 0));
  }

  /** The password of {@code user} (a test's secret, not a real one). */
  public String password(String user) {
    return "password of " + user;
  }

  /** {@code 127.0.0.1:PORT}, as an operator gives it to a site. */
  public String address() {
    URI u = URI.create(server.url());
    return u.getHost() + ":" + u.getPort();
  }

  public String caPem() throws IOException {
    return Files.readString(server.caCertificateFile());
  }

  public MediatorClient client(String user, String pass) throws IOException {
    return MediatorClient.withPassword(
        URI.create(server.url()), server.caCertificateFile(), user, pass, TIMEOUT);
  }

  /** A client logged in as {@code user}. */
  public MediatorClient client(String user) throws IOException {
    return client(user, password(user));
  }

  @Override
  public void close() {
    server.close();
  }
}
