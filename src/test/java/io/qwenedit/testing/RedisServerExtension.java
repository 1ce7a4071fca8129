package io.qwenedit.testing;

import io.qwenedit.redis.LocalRedisServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real redis-server process for a test class: started before all tests on a free port, emptied before each test,
 * stopped after all (and by a shutdown hook if the JVM dies first).
 */
public final class RedisServerExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {
  private final boolean appendOnly;
  private LocalRedisServer server;

  public RedisServerExtension() {
    this(false);
  }

  public RedisServerExtension(boolean appendOnly) {
    this.appendOnly = appendOnly;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    server = LocalRedisServer.start(appendOnly);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (server != null) {
      server.close();
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (!server.isRunning()) {
      server.restart();
    }
    command("FLUSHALL");
  }

  public LocalRedisServer server() {
    return server;
  }

  public String url() {
    return server.url();
  }

  public int port() {
    return server.port();
  }

  /** Sends one inline command on a fresh socket and returns the first reply line (test set-up and checks). */
  public String command(String inline) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      StringBuilder sb = new StringBuilder();
      int c;
      while ((c = in.read()) != -1 && c != '\n') {
        if (c != '\r') {
          sb.append((char) c);
        }
      }
      return sb.toString();
    } catch (IOException e) {
      throw new IllegalStateException("redis command failed: " + inline, e);
    }
  }
}
