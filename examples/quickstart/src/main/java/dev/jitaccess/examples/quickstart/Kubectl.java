package dev.jitaccess.examples.quickstart;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code kubectl} with one kubeconfig and nothing else of the machine's: {@code KUBECONFIG} is
 * unset, and {@code HOME} and the discovery cache point into the demo's directory.
 */
final class Kubectl {
  private static final long TIMEOUT_SECONDS = 60;

  /** What one run did: the exit code (-1 if it had to be killed) and what it printed (stdout then stderr). */
  record Result(int exit, String output) {}

  private final Path home;
  private int runs;

  Kubectl(Path home) {
    this.home = home;
  }

  /** Whether an executable {@code kubectl} is on the {@code PATH}. */
  static boolean installed() {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "kubectl"))) {
        return true;
      }
    }
    return false;
  }

  /** Runs {@code kubectl --kubeconfig <file> <args>} to its end, at most 60 s. */
  synchronized Result run(Path kubeconfig, String... args) throws IOException, InterruptedException {
    Files.createDirectories(home);
    int run = ++runs;
    Path out = home.resolve("run-" + run + ".out");
    Path err = home.resolve("run-" + run + ".err");
    List<String> command = new ArrayList<>();
    command.add("kubectl");
    command.add("--kubeconfig=" + kubeconfig);
    command.add("--cache-dir=" + home.resolve("cache"));
    command.add("--request-timeout=20s");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile());
    builder.environment().remove("KUBECONFIG");
    builder.environment().put("HOME", home.toString());
    builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.redirectOutput(out.toFile());
    builder.redirectError(err.toFile());
    Process process = builder.start();
    int exit;
    if (process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      exit = process.exitValue();
    } else {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      exit = -1;
    }
    return new Result(
        exit, Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
  }
}
