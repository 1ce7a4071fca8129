package io.qwenedit.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The redis-server bundled in the jar: what the demo and the tests fall back on where none is installed. */
class LocalRedisServerTest {
  @Test
  void theBundledRedisStartsAnswersAndIsSixPointTwo() throws Exception {
    var bin = LocalRedisServer.bundledBinary();
    assertNotNull(bin, "this platform has a bundled redis-server");
    assertTrue(Files.isExecutable(bin));
    assertEquals(bin, LocalRedisServer.bundledBinary(), "extracted once, then reused");
    try (LocalRedisServer s = LocalRedisServer.start(bin, LocalRedisServer.freePort(), List.of("--appendonly", "no"))) {
      assertTrue(s.ping());
      assertEquals(bin, s.binary());
      String info = inline(s.port(), "INFO server");
      assertTrue(info.contains("redis_version:6.2."), info);
    }
  }

  @Test
  void eachPlatformGetsItsOwnBinaryOrNone() {
    assertEquals("redis-server-6.2.6-v5-linux-amd64", LocalRedisServer.bundledResource("Linux", "amd64"));
    assertEquals("redis-server-6.2.7-linux-arm64", LocalRedisServer.bundledResource("Linux", "aarch64"));
    assertEquals("redis-server-6.2.6-v5-darwin-arm64", LocalRedisServer.bundledResource("Mac OS X", "aarch64"));
    assertEquals("redis-server-5.0.14.1-windows-amd64.exe", LocalRedisServer.bundledResource("Windows 11", "amd64"));
    assertNull(LocalRedisServer.bundledResource("Linux", "riscv64"));
    assertNull(LocalRedisServer.bundledResource("SunOS", "sparcv9"));
  }

  private static String inline(int port, String command) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String header = readLine(in); // $<length>
      int len = Integer.parseInt(header.substring(1));
      return new String(in.readNBytes(len), StandardCharsets.UTF_8);
    }
  }

  private static String readLine(InputStream in) throws Exception {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      if (c != '\r') {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }
}
