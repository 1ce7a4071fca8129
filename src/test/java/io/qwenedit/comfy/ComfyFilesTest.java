package io.qwenedit.comfy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files jobs leave in ComfyUI's directories (the layout of the ComfyUI fact sheet): old ones go, nothing else. */
class ComfyFilesTest {
  private static final long NOW = System.currentTimeMillis();
  private static final Duration MAX_AGE = Duration.ofHours(1);

  @TempDir
  Path dir;

  private static Path file(Path p, int bytes, Duration age) throws Exception {
    Files.createDirectories(p.getParent());
    Files.write(p, new byte[bytes]);
    Files.setLastModifiedTime(p, FileTime.fromMillis(NOW - age.toMillis()));
    return p;
  }

  @Test
  void removesOnlyOurOwnOldFilesFromInputAndOutputOfEveryDirectory() throws Exception {
    Path a = dir.resolve("comfy-a");
    Path b = dir.resolve("comfy-b");
    Path oldInput = file(a.resolve("input/qwenedit/photo.jpg"), 100, Duration.ofHours(2));
    Path oldInputRenamed = file(a.resolve("input/qwenedit/photo (1).jpg"), 100, Duration.ofHours(2));
    Path oldResult = file(a.resolve("output/qwenedit/job1_00001_.png"), 1000, Duration.ofHours(3));
    Path freshInput = file(a.resolve("input/qwenedit/job2.png"), 100, Duration.ofMinutes(5)); // a prompt may still use it
    Path freshResult = file(a.resolve("output/qwenedit/job2_00001_.png"), 1000, Duration.ofMinutes(59));
    Path othersInput = file(a.resolve("input/example.png"), 100, Duration.ofDays(30)); // not ours
    Path othersOutput = file(a.resolve("output/ComfyUI_00001_.png"), 100, Duration.ofDays(30));
    Path othersSub = file(a.resolve("output/someone/x.png"), 100, Duration.ofDays(30));
    Path nested = file(a.resolve("output/qwenedit/keep/deeper.png"), 100, Duration.ofDays(30)); // only files directly in ours
    Path temp = file(a.resolve("temp/qwenedit/t.png"), 100, Duration.ofDays(30)); // ComfyUI empties temp itself
    Path oldB = file(b.resolve("output/qwenedit/job3_00001_.png"), 500, Duration.ofHours(5));

    ComfyFiles.Sweep s = ComfyFiles.sweep(List.of(a, b, dir.resolve("no-such-comfy")), ComfyFiles.SUBFOLDER, MAX_AGE, NOW);

    assertEquals(4, s.removed());
    assertEquals(100 + 100 + 1000 + 500, s.bytes());
    assertEquals(List.of(), s.problems());
    for (Path gone : List.of(oldInput, oldInputRenamed, oldResult, oldB)) {
      assertFalse(Files.exists(gone), gone + " is removed");
    }
    for (Path kept : List.of(freshInput, freshResult, othersInput, othersOutput, othersSub, nested, temp)) {
      assertTrue(Files.exists(kept), kept + " is kept");
    }
    assertTrue(Files.isDirectory(a.resolve("input/qwenedit")), "the folders themselves stay");
  }

  @Test
  void aSymbolicLinkIsNotFollowedOutOfOurFolder() throws Exception {
    Path a = dir.resolve("comfy");
    Path precious = file(dir.resolve("elsewhere/precious.png"), 100, Duration.ofDays(30));
    Files.createDirectories(a.resolve("output/qwenedit"));
    Path link = a.resolve("output/qwenedit/link.png");
    Files.createSymbolicLink(link, precious);
    ComfyFiles.Sweep s = ComfyFiles.sweep(List.of(a), ComfyFiles.SUBFOLDER, MAX_AGE, NOW);
    assertEquals(0, s.removed());
    assertTrue(Files.exists(precious));
  }

  @Test
  void aFileWhereOurFolderShouldBeIsLeftAloneAndTheOtherFolderIsStillSwept() throws Exception {
    Path a = dir.resolve("comfy");
    Files.createDirectories(a.resolve("input"));
    Files.writeString(a.resolve("input/qwenedit"), "a file where our folder should be");
    Path old = file(a.resolve("output/qwenedit/job_00001_.png"), 10, Duration.ofHours(2));
    ComfyFiles.Sweep s = ComfyFiles.sweep(List.of(a), ComfyFiles.SUBFOLDER, MAX_AGE, NOW);
    assertEquals(1, s.removed());
    assertFalse(Files.exists(old));
    assertTrue(Files.exists(a.resolve("input/qwenedit")), "not ours to remove");
  }

  @Test
  void aFileThatCannotBeRemovedIsReportedAndTheOthersAreStillSwept() throws Exception {
    Path a = dir.resolve("comfy");
    Path stuck = file(a.resolve("input/qwenedit/stuck.png"), 10, Duration.ofHours(2));
    Path old = file(a.resolve("output/qwenedit/job_00001_.png"), 10, Duration.ofHours(2));
    // Root may remove any file of a writable folder: as root the file is made immutable (chattr +i), otherwise its
    // folder is made read-only. Undone after, so the temporary directory can be removed.
    boolean root = "root".equals(System.getProperty("user.name"));
    Path folder = stuck.getParent();
    if (root) {
      // (a file system or container that refuses it cannot stage this case: said in the report as a skip)
      Assumptions.assumeTrue(chattr("+i", stuck), "chattr +i refused here: no way to make a file root cannot remove");
    } else {
      Files.setPosixFilePermissions(folder, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
    }
    try {
      ComfyFiles.Sweep s = ComfyFiles.sweep(List.of(a), ComfyFiles.SUBFOLDER, MAX_AGE, NOW);
      assertEquals(1, s.removed(), "the other folder is still swept");
      assertFalse(Files.exists(old));
      assertTrue(Files.exists(stuck));
      assertEquals(1, s.problems().size(), s.problems().toString());
      assertTrue(s.problems().get(0).contains("stuck.png"), "the problem names the file: " + s.problems());
    } finally {
      if (root) {
        chattr("-i", stuck);
      } else {
        Files.setPosixFilePermissions(folder, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
  }

  private static boolean chattr(String flag, Path file) throws InterruptedException {
    try {
      return new ProcessBuilder("chattr", flag, file.toString()).inheritIO().start().waitFor() == 0;
    } catch (java.io.IOException e) {
      return false; // no chattr here
    }
  }
}
