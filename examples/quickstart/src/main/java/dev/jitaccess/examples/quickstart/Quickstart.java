package dev.jitaccess.examples.quickstart;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * The one-command demo ({@code ./demo}): the engine with the sample policy, the relay on localhost with a TLS
 * certificate made for this run, an agent, and a cluster (the current kubeconfig's when it answers, otherwise
 * an in-process sandbox without RBAC enforcement), all in this JVM. It writes a kubeconfig per sample user and
 * prints the kubectl commands to try.
 *
 * <ul>
 *   <li>{@code ./demo}: interactive; type {@code revoke alice}, {@code grants}, {@code verify} or {@code quit}
 *       here, or press Ctrl-C.
 *   <li>{@code ./demo --script}: runs the steps itself with the real kubectl and exits 0 only if every step
 *       behaved as described.
 *   <li>{@code --sandbox}: use the sandbox even if the current kubeconfig's cluster is reachable;
 *       {@code --dir <path>}: where the kubeconfigs and the audit file go (default: a new temporary directory).
 * </ul>
 */
public final class Quickstart {
  private Quickstart() {}

  /** What the command line asked for. */
  record Options(boolean script, boolean sandbox, Path dir) {
    static Options parse(String... args) throws IOException {
      boolean script = false;
      boolean sandbox = false;
      Path dir = null;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--script" -> script = true;
          case "--sandbox" -> sandbox = true;
          case "--dir" -> {
            if (i + 1 == args.length) {
              throw new IllegalArgumentException("--dir needs a directory");
            }
            dir = Path.of(args[++i]);
          }
          default -> throw new IllegalArgumentException(
              "unknown option '" + args[i] + "'; use --script, --sandbox or --dir <path>");
        }
      }
      if (dir == null) {
        dir = Files.createTempDirectory("jit-access-demo");
      } else {
        Files.createDirectories(dir);
      }
      return new Options(script, sandbox, dir.toAbsolutePath());
    }
  }

  /**
   * Runs the demo and exits: 0 when it ended as asked (script: every step behaved as described), 1 otherwise,
   * 2 for a bad command line.
   *
   * @param args {@code --script}, {@code --sandbox}, {@code --dir <path>}
   * @throws Exception if the demo cannot start
   */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(run(options, System.out, System.in));
  }

  /** The demo without {@code System.exit}: the exit status. */
  static int run(Options options, PrintStream out, InputStream in) throws IOException, InterruptedException {
    out.println("Starting the jit-access demo (engine, relay, agent, cluster) in " + options.dir() + " ...");
    if (options.script() && !Kubectl.installed()) {
      out.println("--script runs kubectl, but no kubectl is on the PATH. Install it (e.g. the Debian package"
          + " kubernetes-client) or run ./demo without --script.");
      return 1;
    }
    try (DemoEnvironment env = DemoEnvironment.start(options.dir(), options.sandbox())) {
      DemoSteps steps = new DemoSteps(env, new Kubectl(options.dir().resolve("kubectl-home")), out);
      steps.printSetup();
      if (options.script()) {
        return steps.runScript() ? 0 : 1;
      }
      steps.printInstructions();
      interact(env, steps, out, in);
      return 0;
    }
  }

  /** Reads commands until {@code quit}; when the input ends (no terminal), waits for Ctrl-C. */
  private static void interact(DemoEnvironment env, DemoSteps steps, PrintStream out, InputStream in)
      throws IOException, InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stopped.countDown();
      env.close();
    }, "jit-access-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    out.print("> ");
    out.flush();
    String line;
    while ((line = reader.readLine()) != null) {
      String command = line.trim().toLowerCase(Locale.ROOT);
      if (command.equals("quit") || command.equals("exit")) {
        Runtime.getRuntime().removeShutdownHook(hook);
        out.println("Stopping.");
        return;
      }
      steps.command(command);
      out.print("> ");
      out.flush();
    }
    out.println();
    out.println("No more input: running until Ctrl-C.");
    stopped.await();
  }
}
