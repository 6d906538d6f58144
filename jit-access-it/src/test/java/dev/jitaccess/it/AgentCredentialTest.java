package dev.jitaccess.it;

import static dev.jitaccess.it.E2eEnvironment.ALICE;
import static dev.jitaccess.it.E2eEnvironment.CLUSTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.RelayAgent;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay files an agent under the cluster of its verified credential: an agent for another cluster, or with
 * a credential another engine signed, never receives {@code c1}'s traffic, whatever the agent itself believes
 * (these agents all verify grants for {@code c1} and forward to {@code c1}'s stub).
 */
final class AgentCredentialTest {
  private static final String NOT_CONNECTED =
      "the agent of cluster " + CLUSTER + " is not connected to the relay; try again later";

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
  void anAgentWithAnotherClustersCredentialNeverServesThisCluster() throws Exception {
    Path kubeconfig = env.kubeconfig(ALICE);
    assertThat(env.kubectl.run(kubeconfig, "get", "ns").out()).contains("team-a");
    env.stopAgent(env.agent);
    int forwarded = env.kube.kubectlRequests().size();

    Kubectl.Result withoutAgent = env.kubectl.run(kubeconfig, "get", "ns");
    RelayAgent c2 = env.startAgent(env.jit.issueAgentCredential("c2", Duration.ofHours(1)), env.jit);
    E2eEnvironment.awaitConnected(c2);
    Kubectl.Result withC2Agent = env.kubectl.run(kubeconfig, "get", "ns");

    for (Kubectl.Result result : new Kubectl.Result[] {withoutAgent, withC2Agent}) {
      assertThat(result.exit()).isNotZero();
      assertThat(result.err()).contains("Error from server (ServiceUnavailable): " + NOT_CONNECTED);
    }
    assertThat(c2.isConnected()).as("the c2 agent is connected (as c2)").isTrue();
    assertThat(env.kube.kubectlRequests()).as("forwarded requests").hasSize(forwarded);
  }

  @Test
  void anAgentCredentialSignedByAnotherEngineIsRefusedAtConnect() throws Exception {
    Path kubeconfig = env.kubeconfig(ALICE);
    env.stopAgent(env.agent);
    JitAccess otherEngine = JitAccess.builder().build();

    RelayAgent forged = env.startAgent(otherEngine.issueAgentCredential(CLUSTER, Duration.ofHours(1)), otherEngine);

    // It dials, is refused (audited), backs off and dials again: refused every time.
    await("two refused connection attempts")
        .atMost(Duration.ofSeconds(15))
        .until(() -> env.audit.stream().filter(AgentCredentialTest::refusedAgent).count() >= 2);
    assertThat(forged.isConnected()).isFalse();
    Kubectl.Result result = env.kubectl.run(kubeconfig, "get", "ns");
    assertThat(result.exit()).isNotZero();
    // A cold discovery cache: kubectl's first request is GET /api, whose 503 client-go reports with its own
    // fixed text whatever the body says.
    assertThat(result.err())
        .as(result.toString())
        .contains("Error from server (ServiceUnavailable): the server is currently unable to handle the request");
    assertThat(env.kube.requests()).as("requests at the kube-apiserver").isEmpty();
  }

  private static boolean refusedAgent(AuditEvent event) {
    return event.type() == AuditEvent.Type.DENIED && "agent credential refused".equals(event.detail());
  }
}
