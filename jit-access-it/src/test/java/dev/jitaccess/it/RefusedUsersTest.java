package dev.jitaccess.it;

import static dev.jitaccess.it.E2eEnvironment.ALICE;
import static dev.jitaccess.it.E2eEnvironment.BOB;
import static dev.jitaccess.it.E2eEnvironment.CLUSTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.jitaccess.api.AuditEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Users the relay refuses: one the policy denies, one whose access was revoked. */
final class RefusedUsersTest {
  private static final String BOB_DENIED = "no binding allows " + BOB + " on cluster " + CLUSTER;

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
  void deniedUserSeesTheDenialReasonFromDiscoveryAndNothingReachesTheCluster() throws Exception {
    Kubectl.Result result = env.kubectl.run(env.kubeconfig(BOB), "get", "ns");

    assertThat(result.exit()).isNotZero();
    assertThat(result.err())
        .contains("Error from server (Forbidden): " + BOB_DENIED)
        .doesNotContain("unknown");
    assertThat(env.kube.requests()).as("requests at the kube-apiserver").isEmpty();
    assertThat(env.audit)
        .anyMatch(
            e -> e.type() == AuditEvent.Type.DENIED && BOB.equals(e.subjectId()) && CLUSTER.equals(e.cluster()));
  }

  @Test
  void deniedUserSeesTheDenialReasonOnResourceRequests() throws Exception {
    // --raw skips discovery: the answer is a JSON Status, which kubectl decodes.
    Kubectl.Result result =
        env.kubectl.run(env.kubeconfig(BOB), "get", "--raw", "/clusters/" + CLUSTER + "/api/v1/namespaces");

    assertThat(result.exit()).isNotZero();
    assertThat(result.err()).contains("Error from server (Forbidden): " + BOB_DENIED);
    assertThat(env.kube.requests()).isEmpty();
  }

  @Test
  void revokedUserIsRefusedAndNothingNewReachesTheCluster() throws Exception {
    Path kubeconfig = env.kubeconfig(ALICE);
    Kubectl.Result before = env.kubectl.run(kubeconfig, "get", "ns");
    assertThat(before.exit()).as(before.toString()).isZero();
    assertThat(before.out()).contains("team-a");

    env.jit.revoke(ALICE);
    // The relay pushes the revocation to the agent, which deletes the ServiceAccount (its tokens die with it).
    await("ServiceAccount deleted").atMost(Duration.ofSeconds(15)).until(() -> env.kube.serviceAccountDeletions() == 1);
    Set<UUID> seen = env.kube.requests().stream().map(LoggedRequest::getId).collect(Collectors.toSet());

    Kubectl.Result after = env.kubectl.run(kubeconfig, "get", "ns");

    assertThat(after.exit()).isNotZero();
    assertThat(after.out()).doesNotContain("team-a");
    assertThat(after.err()).contains("You must be logged in to the server (Unauthorized)");
    // Only the rest of the agent's clean-up (listing leftover bindings) may still arrive: no forwarded request,
    // no new account, binding or token.
    assertThat(env.kube.requests())
        .filteredOn(r -> !seen.contains(r.getId()))
        .allSatisfy(
            r -> {
              assertThat(r.getHeader("User-Agent")).startsWith("Kubernetes Java Client");
              assertThat(r.getMethod().getName()).isIn("GET", "DELETE");
            });
    assertThat(env.kube.serviceAccountCreations()).isEqualTo(1);
  }
}
