package io.qwenedit.comfy;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The files jobs leave in ComfyUI's directories: each job's uploaded input ({@code input/<subfolder>/}) and its saved
 * result ({@code output/<subfolder>/}). ComfyUI keeps them for good and has no HTTP call to delete them, so a worker
 * that sees ComfyUI's base directory ({@code COMFYUI_DIR}) removes those older than {@code COMFYUI_FILES_MAX_AGE}.
 * Only regular files directly in our own subfolder are touched, never anything else of ComfyUI's.
 */
public final class ComfyFiles {
  /** Our subfolder of ComfyUI's input and output directories: uploads go there, and results are saved there. */
  public static final String SUBFOLDER = "qwenedit";

  private ComfyFiles() {}

  /** What one sweep removed, and what it could not (the first few problems, for the log). */
  public record Sweep(int removed, long bytes, List<String> problems) {}

  /** Removes the files older than {@code maxAge} (by modification time) from {@code input/<sub>} and {@code output/<sub>}. */
  public static Sweep sweep(List<Path> baseDirs, String subfolder, Duration maxAge, long nowMillis) {
    long cutoff = nowMillis - maxAge.toMillis();
    int removed = 0;
    long bytes = 0;
    List<String> problems = new ArrayList<>();
    for (Path base : baseDirs) {
      for (String type : List.of("input", "output")) {
        Path dir = base.resolve(type).resolve(subfolder);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
          continue; // nothing uploaded or saved there yet
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
          for (Path f : files) {
            try {
              BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
              if (a.isRegularFile() && a.lastModifiedTime().toMillis() < cutoff) {
                Files.delete(f);
                removed++;
                bytes += a.size();
              }
            } catch (NoSuchFileException gone) {
              // removed meanwhile (another worker sweeping the same directory)
            } catch (IOException e) {
              note(problems, f + ": " + e);
            }
          }
        } catch (IOException e) {
          note(problems, dir + ": " + e);
        }
      }
    }
    return new Sweep(removed, bytes, problems);
  }

  private static void note(List<String> problems, String problem) {
    if (problems.size() < 5) {
      problems.add(problem);
    }
  }
}
