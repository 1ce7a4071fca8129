package io.qwenedit.redis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Lua script from {@code src/main/resources/lua}, with the functions it uses from {@code lib.lua} prepended (only
 * those, and what they use: every local function costs a closure on every call) and its SHA-1 computed locally.
 */
public record LuaScript(String name, String source, String sha) {
  private static final Pattern FUNCTION = Pattern.compile("^local function (\\w+)\\(", Pattern.MULTILINE);

  public static LuaScript load(String name) {
    String body = resource("lua/" + name + ".lua");
    String source = librarySubset(resource("lua/lib.lua"), body) + body;
    return new LuaScript(name, source, sha1(source));
  }

  /** A script without the queue library (it needs none of it). */
  public static LuaScript loadPlain(String name) {
    String source = resource("lua/" + name + ".lua");
    return new LuaScript(name, source, sha1(source));
  }

  /** The library's functions that {@code body} calls, directly or through each other, in the library's order. */
  static String librarySubset(String lib, String body) {
    Map<String, String> functions = new LinkedHashMap<>();
    List<Integer> starts = new ArrayList<>();
    List<String> names = new ArrayList<>();
    Matcher m = FUNCTION.matcher(lib);
    while (m.find()) {
      starts.add(commentStart(lib, m.start()));
      names.add(m.group(1));
    }
    for (int i = 0; i < starts.size(); i++) {
      int end = i + 1 < starts.size() ? starts.get(i + 1) : lib.length();
      functions.put(names.get(i), lib.substring(starts.get(i), end));
    }
    Set<String> needed = new LinkedHashSet<>();
    List<String> todo = new ArrayList<>(List.of(body));
    while (!todo.isEmpty()) {
      String text = todo.remove(todo.size() - 1);
      for (String fn : functions.keySet()) {
        if (!needed.contains(fn) && Pattern.compile("\\b" + fn + "\\(").matcher(text).find()) {
          needed.add(fn);
          todo.add(functions.get(fn));
        }
      }
    }
    StringBuilder out = new StringBuilder();
    functions.forEach((fn, text) -> {
      if (needed.contains(fn)) {
        out.append(text);
      }
    });
    return out.append('\n').toString();
  }

  /** Includes the comment lines right above a function in its text. */
  private static int commentStart(String lib, int functionStart) {
    int start = functionStart;
    while (start > 0) {
      int prevLineEnd = start - 1;
      int prevLineStart = lib.lastIndexOf('\n', prevLineEnd - 1) + 1;
      if (lib.substring(prevLineStart, prevLineEnd).startsWith("--")) {
        start = prevLineStart;
      } else {
        break;
      }
    }
    return start;
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
