package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jitaccess.relay.testing.FakeAccessEngine;
import dev.jitaccess.testkit.TestCertificates;
import dev.jitaccess.relay.testing.TestTunnelAgent;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/** The real kubectl, configured only by the kubeconfig the relay generates. */
final class RelayServerKubectlTest {

  private static final TestCertificates CERTS = TestCertificates.create();

  @TempDir Path home;

  private FakeAccessEngine engine;
  private TestTunnelAgent agent;
  private RelayServer relay;

  @BeforeEach
  void start() {
    engine = new FakeAccessEngine();
    agent = TestTunnelAgent.start("prod");
    relay =
        RelayServer.builder()
            .tls(CERTS.serverKey(), CERTS.serverChain())
            .accessEngine(engine)
            .tunnelRegistry(agent)
            .build()
            .start();
  }

  @AfterEach
  void stop() {
    relay.close();
    agent.close();
  }

  private record Result(int exit, String out, String err) {}

  private Result kubectl(String token, String... args) throws Exception {
    assumeTrue(onPath("kubectl"), "kubectl is not installed");
    Path config = home.resolve("config-" + token);
    Files.writeString(config, relay.kubeconfig("alice", "prod", token));
    List<String> command = new ArrayList<>(List.of("kubectl", "--kubeconfig", config.toString(), "--cache-dir", home.resolve("cache").toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("HOME", home.toString());
    pb.environment().remove("KUBECONFIG");
    pb.redirectOutput(home.resolve("out").toFile()).redirectError(home.resolve("err").toFile());
    Process process = pb.start();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("kubectl finished").isTrue();
    return new Result(
        process.exitValue(),
        Files.readString(home.resolve("out"), StandardCharsets.UTF_8),
        Files.readString(home.resolve("err"), StandardCharsets.UTF_8));
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  @Test
  void kubeconfigIsWellFormed() {
    Map<String, Object> config = new Yaml().load(relay.kubeconfig("alice", "prod", "alice-token"));

    assertThat(config).containsEntry("current-context", "alice@prod").containsEntry("kind", "Config");
    assertThat(config.toString())
        .contains(":" + relay.port() + "/clusters/prod, certificate-authority-data=")
        .contains("token=alice-token");
  }

  @Test
  void kubectlGetNamespacesWorksThroughTheRelay() throws Exception {
    Result result = kubectl("alice-token", "get", "ns");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out()).contains("team-a").contains("default");
    List<TestTunnelAgent.Received> all = new ArrayList<>();
    for (TestTunnelAgent.Received r; (r = agent.pollRequest()) != null; ) {
      all.add(r);
    }
    assertThat(all).extracting(r -> r.headers().path().toString()).anyMatch(p -> p.startsWith("/api/v1/namespaces"));
    assertThat(all).allSatisfy(r -> {
      assertThat(r.all("jit-grant")).containsExactly(FakeAccessEngine.SIGNED_GRANT);
      assertThat(r.names()).doesNotContain("authorization");
    });
    assertThat(engine.tokens).containsOnly("alice-token");
  }

  @Test
  void kubectlShowsTheDenialReason() throws Exception {
    // --raw takes the path as is (no server prefix) and skips discovery, whose client hides Status messages.
    Result result = kubectl("bob-token", "get", "--raw", "/clusters/prod/api/v1/namespaces");

    assertThat(result.exit()).isNotZero();
    assertThat(result.err()).contains("Forbidden").contains("bob may not use cluster prod outside working hours");
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void kubectlGetShowsTheDenialReasonFromDiscovery() throws Exception {
    // Without --raw kubectl starts with discovery (GET /api), whose answer client-go reads with Result.Raw():
    // only a text/plain body becomes the message there; a JSON Status became "Forbidden: unknown".
    Result result = kubectl("bob-token", "get", "ns");

    assertThat(result.exit()).isNotZero();
    assertThat(result.err())
        .contains("Error from server (Forbidden): bob may not use cluster prod outside working hours")
        .doesNotContain("Forbidden: unknown");
    assertThat(agent.receivedNothing()).isTrue();
  }
}
