package io.qwenedit.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP/1.1 over a plain socket, for what an HTTP client library will not do: announce a body and not send it, or send
 * a body that never ends, and read the server's answer meanwhile.
 */
final class RawHttp {
  record Response(int status, String head, String body) {
    String raw() {
      return head + "\r\n\r\n" + body;
    }
  }

  /** @param hungUp the server closed the connection while the body was still being sent */
  record Streamed(Response response, long bytesSent, boolean hungUp) {}

  private RawHttp() {}

  /** Sends only the headers of a POST announcing {@code contentLength} bytes, then reads the answer. */
  static Response postHeadersOnly(int port, String path, String contentType, long contentLength) throws IOException {
    try (Socket s = connect(port)) {
      OutputStream out = s.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + contentType + "\r\nContent-Length: "
          + contentLength + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return read(s.getInputStream());
    }
  }

  /**
   * Streams a chunked body from another thread (up to {@code maxBytes}) while this thread reads the answer; returns
   * the answer and how many body bytes the sender got out before the server stopped it.
   */
  static Streamed postChunkedForever(int port, String path, String contentType, long maxBytes) throws Exception {
    try (Socket s = connect(port)) {
      OutputStream out = s.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + contentType
          + "\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      AtomicLong sent = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicBoolean hungUp = new AtomicBoolean();
      Thread writer = new Thread(() -> {
        byte[] chunk = new byte[16 * 1024];
        java.util.Arrays.fill(chunk, (byte) '7');
        byte[] header = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        try {
          while (!stop.get() && sent.get() < maxBytes) {
            out.write(header);
            out.write(chunk);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            sent.addAndGet(chunk.length);
          }
        } catch (IOException expected) {
          hungUp.set(!stop.get()); // the server hung up: that is the point
        }
      }, "raw-http-writer");
      writer.setDaemon(true);
      writer.start();
      Response r = read(s.getInputStream());
      // Give the writer a moment to notice the closed connection, then stop it.
      writer.join(2000);
      stop.set(true);
      return new Streamed(r, sent.get(), hungUp.get());
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
    s.setSoTimeout(10_000);
    return s;
  }

  private static Response read(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("connection closed before the response headers ended: " + head);
      }
      head.write(c);
      matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    String headText = head.toString(StandardCharsets.ISO_8859_1).strip();
    int status = Integer.parseInt(headText.split(" ")[1]);
    long length = -1;
    for (String line : headText.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Long.parseLong(line.substring(15).strip());
      }
    }
    byte[] body = length >= 0 ? in.readNBytes((int) length) : new byte[0];
    return new Response(status, headText, new String(body, StandardCharsets.UTF_8));
  }
}
