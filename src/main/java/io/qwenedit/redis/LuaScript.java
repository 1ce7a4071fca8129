package io.qwenedit.redis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A Lua script from {@code src/main/resources/lua}, with the shared library prepended and its SHA-1 computed locally. */
public record LuaScript(String name, String source, String sha) {

  public static LuaScript load(String name) {
    String body = resource("lua/" + name + ".lua");
    String lib = resource("lua/lib.lua");
    String source = lib + "\n" + body;
    return new LuaScript(name, source, sha1(source));
  }

  /** A script without the queue library (it needs none of it). */
  public static LuaScript loadPlain(String name) {
    String source = resource("lua/" + name + ".lua");
    return new LuaScript(name, source, sha1(source));
  }

  private static String resource(String path) {
    try (InputStream in = LuaScript.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + path, e);
    }
  }

  static String sha1(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
