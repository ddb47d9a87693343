package io.duet.node.mediator;

import io.duet.mediator.MediatorClient;
import io.duet.mediator.MediatorConfig;
import io.duet.mediator.MediatorServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A real mediator on a free loopback port in this JVM, with its first user's password. */
public final class MediatorTestServer implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  public final MediatorServer server;
  public final String password;

  public MediatorTestServer(Path dir) throws IOException {
    server = MediatorServer.start(MediatorConfig.defaults(dir).withListen("127.0.0.1", 0));
    password = Files.readString(server.initialPasswordFile()).strip();
  }

  /** {@code 127.0.0.1:PORT}, as an operator gives it to a site. */
  public String address() {
    URI u = URI.create(server.url());
    return u.getHost() + ":" + u.getPort();
  }

  public String caPem() throws IOException {
    return Files.readString(server.caCertificateFile());
  }

  public MediatorClient client(String pass) throws IOException {
    return MediatorClient.withPassword(
        URI.create(server.url()),
        server.caCertificateFile(),
        MediatorServer.INITIAL_USER,
        pass,
        TIMEOUT);
  }

  @Override
  public void close() {
    server.close();
  }
}
