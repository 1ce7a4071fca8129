package io.qwenedit.emulator;

import io.vertx.core.buffer.Buffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The emulator's input, output and temp directories, kept in memory: uploads with ComfyUI's collision rules (same
 * content reuses the name, different content becomes {@code name (1).ext}), SaveImage's counter-numbered files.
 * Bounded: beyond {@code maxFiles} the oldest files are forgotten (a real server would keep them on disk).
 */
final class EmulatorStorage {
  static final List<String> TYPES = List.of("input", "output", "temp");

  /** Where an upload went: its stored name, and whether an identical file already had it. */
  record Stored(String name, boolean reused) {}

  /** A file as /view and history entries name it. */
  record FileRef(String filename, String subfolder, String type) {}

  /** A file value with ComfyUI's optional type annotation ({@code "name [output]"}) taken off. */
  record Annotated(String type, String value) {
    /** The type the annotation names, else {@code type}, and the value without the annotation. */
    static Annotated of(String value, String type) {
      String v = value;
      String found = type;
      for (String t : TYPES) {
        if (v.endsWith(" [" + t + "]")) {
          found = t;
          v = v.substring(0, v.length() - t.length() - 3);
        }
      }
      return new Annotated(found, v);
    }
  }

  private final Map<String, Buffer> files = new LinkedHashMap<>();
  /** SHA-256 of a file's bytes, computed once (LoadImage's IS_CHANGED and the upload collision rule need it). */
  private final java.util.IdentityHashMap<Buffer, String> hashes = new java.util.IdentityHashMap<>();
  private final int maxFiles;

  EmulatorStorage(int maxFiles) {
    this.maxFiles = maxFiles;
  }

  private static String key(String type, String subfolder, String name) {
    return type + "/" + (subfolder == null || subfolder.isEmpty() ? "" : subfolder + "/") + name;
  }

  /** A subfolder that stays inside its directory (no "..", no absolute path). */
  static boolean safeSubfolder(String subfolder) {
    if (subfolder == null || subfolder.isEmpty()) {
      return true;
    }
    if (subfolder.startsWith("/") || subfolder.startsWith("\\") || subfolder.matches("^[A-Za-z]:.*")) {
      return false;
    }
    for (String part : subfolder.split("[/\\\\]")) {
      if ("..".equals(part)) {
        return false;
      }
    }
    return true;
  }

  Buffer read(String type, String subfolder, String name) {
    return files.get(key(type, subfolder, name));
  }

  boolean exists(String type, String subfolder, String name) {
    return files.containsKey(key(type, subfolder, name));
  }

  /**
   * Stores an upload; returns the name it was stored under.
   *
   * @param overwrite replace a file of that name instead of renaming
   */
  Stored upload(String type, String subfolder, String name, Buffer data, boolean overwrite) {
    String stored = name;
    if (!overwrite) {
      int dot = name.lastIndexOf('.');
      String base = dot > 0 ? name.substring(0, dot) : name;
      String ext = dot > 0 ? name.substring(dot) : "";
      int i = 1;
      String incoming = null;
      while (exists(type, subfolder, stored)) {
        incoming = incoming == null ? sha256(data) : incoming;
        if (hash(read(type, subfolder, stored)).equals(incoming)) {
          return new Stored(stored, true);
        }
        stored = base + " (" + i + ")" + ext;
        i++;
      }
    }
    put(key(type, subfolder, stored), data);
    return new Stored(stored, false);
  }

  /**
   * The SHA-256 (hex) of a stored file (a buffer {@link #read} or {@link #resolveAnnotated} returned), remembered for
   * that buffer until it is replaced or forgotten.
   */
  String hash(Buffer stored) {
    return hashes.computeIfAbsent(stored, EmulatorStorage::sha256);
  }

  private static String sha256(Buffer data) {
    try {
      return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data.getBytes()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SaveImage: {@code <subfolder>/<base>_NNNNN_.png} with the next free counter for that prefix. */
  FileRef save(String filenamePrefix, Buffer png) {
    String prefix = filenamePrefix == null || filenamePrefix.isBlank() ? "ComfyUI" : filenamePrefix;
    int slash = prefix.lastIndexOf('/');
    String subfolder = slash >= 0 ? prefix.substring(0, slash) : "";
    String base = slash >= 0 ? prefix.substring(slash + 1) : prefix;
    Pattern counterPattern = Pattern.compile(Pattern.quote(key("output", subfolder, base)) + "_(\\d{5,})_\\.png");
    int max = 0;
    for (String k : files.keySet()) {
      Matcher m = counterPattern.matcher(k);
      if (m.matches()) {
        max = Math.max(max, Integer.parseInt(m.group(1)));
      }
    }
    String name = String.format("%s_%05d_.png", base, max + 1);
    put(key("output", subfolder, name), png);
    return new FileRef(name, subfolder, "output");
  }

  /**
   * Resolves a LoadImage value ({@code name}, {@code sub/name}, or with an annotation {@code "name [output]"}) to the
   * stored file, or null.
   */
  Buffer resolveAnnotated(String value) {
    Annotated a = Annotated.of(value, "input");
    String v = a.value();
    int slash = v.lastIndexOf('/');
    String subfolder = slash >= 0 ? v.substring(0, slash) : "";
    String name = slash >= 0 ? v.substring(slash + 1) : v;
    return read(a.type(), subfolder, name);
  }

  /** Uploaded files as LoadImage's combo lists them ({@code sub/name}), sorted. */
  List<String> inputFiles() {
    List<String> out = new ArrayList<>();
    for (String k : files.keySet()) {
      if (k.startsWith("input/")) {
        out.add(k.substring("input/".length()));
      }
    }
    out.sort(String::compareTo);
    return out;
  }

  void clear() {
    files.clear();
  }

  int size() {
    return files.size();
  }

  private void put(String key, Buffer data) {
    hashes.remove(files.remove(key));
    files.put(key, data);
    while (files.size() > maxFiles) {
      String oldest = files.keySet().iterator().next();
      hashes.remove(files.remove(oldest));
    }
  }
}
