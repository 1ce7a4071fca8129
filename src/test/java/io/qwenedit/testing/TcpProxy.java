package io.qwenedit.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loopback TCP proxy the test controls. {@link #freezeExisting()} makes every open connection go silent — bytes
 * are read and dropped in both directions, nothing is closed, no FIN, no RST — the way a NAT or firewall that lost
 * its state behaves. New connections made afterwards are forwarded normally. {@link #delayToServer(long)} holds what
 * clients send for a while before passing it on, in order (a slow network or a slow server, as the client sees it).
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile boolean closed;
  private volatile long toServerDelayMs;
  /** Passes delayed bytes on in the order they were read (one delay for all: deadlines come in order). */
  private final ScheduledExecutorService delayed = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "tcp-proxy-delay");
    t.setDaemon(true);
    return t;
  });

  private static final class Link {
    final Socket client;
    final Socket upstream;
    final AtomicBoolean frozen = new AtomicBoolean();

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }
  }

  public TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public String redisUrl() {
    return "redis://127.0.0.1:" + port() + "/0";
  }

  /** Connections open now stop forwarding, silently and for good. */
  public void freezeExisting() {
    links.forEach(l -> l.frozen.set(true));
  }

  /** From now on, bytes from clients reach the server {@code ms} after they were sent (0: at once again). */
  public void delayToServer(long ms) {
    toServerDelayMs = ms;
  }

  public int openLinks() {
    return (int) links.stream().filter(l -> !l.client.isClosed()).count();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress("127.0.0.1", targetPort), 2000);
        Link link = new Link(client, upstream);
        links.add(link);
        pump(link, client, upstream, "c2s", true);
        pump(link, upstream, client, "s2c", false);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void pump(Link link, Socket from, Socket to, String dir, boolean toServer) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          long delay = toServer ? toServerDelayMs : 0;
          if (link.frozen.get()) {
            continue;
          }
          if (delay > 0) {
            byte[] chunk = Arrays.copyOf(buf, n);
            delayed.schedule(() -> write(link, out, chunk), delay, TimeUnit.MILLISECONDS);
          } else {
            out.write(buf, 0, n);
            out.flush();
          }
        }
      } catch (IOException ignored) {
        // connection ended
      } finally {
        if (!link.frozen.get()) {
          closeQuietly(link.client);
          closeQuietly(link.upstream);
        }
      }
    }, "tcp-proxy-" + dir);
    t.setDaemon(true);
    t.start();
  }

  private static void write(Link link, OutputStream out, byte[] chunk) {
    if (link.frozen.get()) {
      return;
    }
    try {
      out.write(chunk);
      out.flush();
    } catch (IOException e) {
      closeQuietly(link.client);
      closeQuietly(link.upstream);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() {
    closed = true;
    delayed.shutdownNow();
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    links.forEach(l -> {
      closeQuietly(l.client);
      closeQuietly(l.upstream);
    });
  }
}
