package dev.jitaccess.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the real {@code kubectl} with a kubeconfig and nothing else of the machine's: {@code HOME} and the
 * discovery cache point into a directory of the test.
 */
final class Kubectl {
  /** What one run printed. */
  record Result(int exit, String out, String err) {
    String both() {
      return out + err;
    }
  }

  private final Path home;
  private final AtomicInteger runs = new AtomicInteger();
  private final Map<Process, Integer> outputs = new ConcurrentHashMap<>();

  Kubectl(Path home) {
    this.home = home;
  }

  static boolean installed() {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, "kubectl"))) {
        return true;
      }
    }
    return false;
  }

  /** Runs kubectl to its end (at most 30 s) with a 20 s request timeout. */
  Result run(Path kubeconfig, String... args) throws IOException, InterruptedException {
    Process process = start(kubeconfig, args);
    boolean finished = process.waitFor(30, TimeUnit.SECONDS);
    if (!finished) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
    Result result = result(process);
    assertThat(finished).as("kubectl %s finished within 30 s; it printed %s", List.of(args), result).isTrue();
    return result;
  }

  /** Starts kubectl; the caller waits for it and reads {@link #result(Process)}. */
  Process start(Path kubeconfig, String... args) throws IOException {
    int run = runs.incrementAndGet();
    List<String> command = new ArrayList<>();
    command.add("kubectl");
    command.add("--kubeconfig=" + kubeconfig);
    command.add("--cache-dir=" + home.resolve("cache"));
    command.add("--request-timeout=20s");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile());
    builder.environment().remove("KUBECONFIG");
    builder.environment().put("HOME", home.toString());
    builder.environment().put("KUBECACHEDIR", home.resolve("cache").toString());
    builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.redirectOutput(home.resolve("out-" + run).toFile());
    builder.redirectError(home.resolve("err-" + run).toFile());
    Process process = builder.start();
    outputs.put(process, run);
    return process;
  }

  /** The exit code (-1 while running) and the output so far. */
  Result result(Process process) throws IOException {
    int run = outputs.get(process);
    return new Result(
        process.isAlive() ? -1 : process.exitValue(),
        Files.readString(home.resolve("out-" + run), StandardCharsets.UTF_8),
        Files.readString(home.resolve("err-" + run), StandardCharsets.UTF_8));
  }
}
