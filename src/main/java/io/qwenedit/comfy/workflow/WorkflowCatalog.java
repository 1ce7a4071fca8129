package io.qwenedit.comfy.workflow;

import io.qwenedit.config.ConfigException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Every workflow the worker can run, by name: the ones built into the jar ({@code qwenedit-conf/workflows/}) and the
 * ones in the workflows directory ({@code COMFYUI_WORKFLOWS_DIR}, default {@code conf/workflows}), which win on the same
 * name. A workflow is {@code <name>.json} (API format) plus {@code <name>.mapping.json}. Everything is read and checked
 * once, at start-up: a broken file stops the program with one line naming the file and the node.
 */
public final class WorkflowCatalog {
  public static final String BUILT_IN_DIR = "qwenedit-conf/workflows";
  private static final String MAPPING_SUFFIX = ".mapping.json";

  private final Map<String, Workflow> workflows;
  private final String defaultName;
  private final String searched;

  private WorkflowCatalog(Map<String, Workflow> workflows, String defaultName, String searched) {
    this.workflows = Collections.unmodifiableMap(new TreeMap<>(workflows));
    this.defaultName = defaultName;
    this.searched = searched;
  }

  /**
   * Loads the built-in workflows, then those in {@code dir} (if it exists), and checks that {@code defaultName} is one
   * of them.
   *
   * @throws ConfigException naming the file and the node when a workflow or its mapping is broken
   */
  public static WorkflowCatalog load(Path dir, String defaultName) {
    Map<String, Workflow> all = new LinkedHashMap<>(readAll(builtInFiles(), "built-in "));
    String searched = "built into the jar";
    if (dir != null) {
      if (Files.isDirectory(dir)) {
        all.putAll(readAll(directoryFiles(dir), ""));
        searched = "built into the jar and in " + dir;
      } else {
        searched = "built into the jar (" + dir + " does not exist)";
      }
    }
    WorkflowCatalog catalog = new WorkflowCatalog(all, defaultName, searched);
    if (defaultName != null && !all.containsKey(defaultName)) {
      throw new ConfigException("Invalid setting COMFYUI_WORKFLOW=\"" + defaultName + "\": " + catalog.unknownMessage(defaultName));
    }
    return catalog;
  }

  /** Only the workflows built into the jar (tests, the emulator, the demo). */
  public static WorkflowCatalog builtIn(String defaultName) {
    return load(null, defaultName);
  }

  public Workflow get(String name) {
    return workflows.get(name);
  }

  /** The configured default ({@code COMFYUI_WORKFLOW}). */
  public Workflow defaultWorkflow() {
    return workflows.get(defaultName);
  }

  public String defaultName() {
    return defaultName;
  }

  public List<String> names() {
    return List.copyOf(workflows.keySet());
  }

  /** What a person reads when a job names a workflow that does not exist. */
  public String unknownMessage(String name) {
    return "there is no workflow named \"" + name + "\" (known: " + String.join(", ", workflows.keySet())
        + "; looked " + searched + "). Add <name>.json and <name>.mapping.json to the workflows directory, or pick a known name";
  }

  private static Map<String, Workflow> readAll(Map<String, FileText> files, String label) {
    Map<String, Workflow> out = new LinkedHashMap<>();
    for (Map.Entry<String, FileText> e : files.entrySet()) {
      String file = e.getKey();
      if (file.endsWith(MAPPING_SUFFIX)) {
        String name = file.substring(0, file.length() - MAPPING_SUFFIX.length());
        if (!files.containsKey(name + ".json")) {
          throw new ConfigException(label + e.getValue().shown() + ": mapping without a workflow: " + name + ".json is missing next to it");
        }
        continue;
      }
      if (!file.endsWith(".json")) {
        continue;
      }
      String name = file.substring(0, file.length() - ".json".length());
      FileText graphFile = e.getValue();
      FileText mappingFile = files.get(name + MAPPING_SUFFIX);
      if (mappingFile == null) {
        throw new ConfigException(label + graphFile.shown() + ": workflow without a mapping: " + name + MAPPING_SUFFIX
            + " must say which node inputs receive the image, the prompt, the seed, the steps and the filename prefix");
      }
      JsonObject graph = parse(graphFile, label);
      JsonObject mapping = parse(mappingFile, label);
      out.put(name, WorkflowMapping.resolve(name, graph, label + graphFile.shown(), mapping, label + mappingFile.shown()));
    }
    return out;
  }

  private static JsonObject parse(FileText f, String label) {
    try {
      return new JsonObject(f.text());
    } catch (DecodeException | ClassCastException e) {
      String msg = e.getMessage() == null ? "not a JSON object" : e.getMessage().split("\n")[0];
      throw new ConfigException(label + f.shown() + " is not valid JSON: " + msg);
    }
  }

  private record FileText(String shown, String text) {}

  private static Map<String, FileText> directoryFiles(Path dir) {
    try {
      return jsonFiles(dir, Path::toString);
    } catch (IOException e) {
      throw new ConfigException("Cannot read the workflows directory " + dir + ": " + e.getMessage());
    }
  }

  private static Map<String, FileText> builtInFiles() {
    URL url = WorkflowCatalog.class.getClassLoader().getResource(BUILT_IN_DIR);
    if (url == null) {
      return Map.of();
    }
    try {
      URI uri = url.toURI();
      if ("jar".equals(uri.getScheme())) {
        FileSystem fs;
        boolean opened = false;
        try {
          fs = FileSystems.newFileSystem(uri, Map.of());
          opened = true;
        } catch (FileSystemAlreadyExistsException e) {
          fs = FileSystems.getFileSystem(uri);
        }
        try {
          return jsonFiles(fs.provider().getPath(uri), WorkflowCatalog::builtInName);
        } finally {
          if (opened) {
            fs.close();
          }
        }
      }
      return jsonFiles(Path.of(uri), WorkflowCatalog::builtInName);
    } catch (IOException | URISyntaxException e) {
      throw new ConfigException("Cannot read the built-in workflows: " + e.getMessage());
    }
  }

  private static String builtInName(Path p) {
    return "workflows/" + p.getFileName();
  }

  /** The {@code .json} files of a directory by file name, each shown in messages as {@code shown} names it. */
  private static Map<String, FileText> jsonFiles(Path dir, Function<Path, String> shown) throws IOException {
    Map<String, FileText> out = new TreeMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : list.toList()) {
        String name = p.getFileName().toString();
        if (name.endsWith(".json") && Files.isRegularFile(p)) {
          out.put(name, new FileText(shown.apply(p), Files.readString(p, StandardCharsets.UTF_8)));
        }
      }
    }
    return out;
  }
}
