package dev.jitaccess.it;

import static dev.jitaccess.it.E2eEnvironment.ALICE;
import static dev.jitaccess.it.E2eEnvironment.CLUSTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jitaccess.relay.RelayAgent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent goes away under a user's open watch: the real kubectl, relay, agent and a stubbed kube-apiserver. */
final class AgentFaultTest {
  @TempDir Path dir;
  private E2eEnvironment env;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(Kubectl.installed(), "kubectl is not on the PATH");
    env = new E2eEnvironment(dir);
  }

  @AfterEach
  void stop() {
    if (env != null) {
      env.close();
    }
  }

  @Test
  void agentGoneMidWatchEndsTheWatchWithAnErrorAndANewAgentServesAgain() throws Exception {
    // The stub sends each event 8 s after the last: the second would come 8 s after the first.
    env.kube.stubWatch("watched-one", "watched-two", Duration.ofSeconds(8));
    Path kubeconfig = env.kubeconfig(ALICE);
    Process watch = env.kubectl.start(kubeconfig, "get", "ns", "--watch");
    try {
      await("first watch event printed")
          .atMost(Duration.ofSeconds(20))
          .until(() -> env.kubectl.result(watch).out().contains("watched-one"));

      env.agent.close();

      // Before the second event was due (and long before kubectl's 20 s request timeout): the stream ended at once.
      assertThat(watch.waitFor(5, TimeUnit.SECONDS)).as("kubectl ended within 5 s").isTrue();
      Kubectl.Result ended = env.kubectl.result(watch);
      assertThat(ended.out()).doesNotContain("watched-two");
      // kubectl get --watch prints the failure as a Status and exits 0: the error is in what it printed.
      assertThat(ended.out() + ended.err()).as("kubectl reports the cut watch").contains("stream error");
    } finally {
      watch.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
    assertThat(env.relayStatus(env.sessionToken(ALICE), "/api/v1/namespaces")).as("no agent for " + CLUSTER).isEqualTo(503);

    RelayAgent restarted = env.startAgent(env.jit.issueAgentCredential(CLUSTER, Duration.ofHours(1)), env.jit);
    E2eEnvironment.awaitConnected(restarted);

    Kubectl.Result again = env.kubectl.run(kubeconfig, "get", "ns");
    assertThat(again.exit()).as("%s", again).isZero();
    assertThat(again.out()).contains("team-a");
  }
}
