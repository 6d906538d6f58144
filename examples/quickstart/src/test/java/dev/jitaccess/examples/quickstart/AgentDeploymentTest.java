package dev.jitaccess.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.Yaml;
import java.io.File;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Checks {@code deploy/agent-deployment.yaml}: hardened, and running as the ServiceAccount of agent-rbac.yaml. */
final class AgentDeploymentTest {
  private static final File DEPLOYMENT = new File("../../deploy/agent-deployment.yaml");
  private static final File RBAC = new File("../../deploy/agent-rbac.yaml");

  private static V1Deployment deployment() throws Exception {
    return Yaml.loadAs(DEPLOYMENT, V1Deployment.class);
  }

  @Test
  void runsAsTheAgentServiceAccountOfTheRbacManifest() throws Exception {
    V1ServiceAccount account =
        Yaml.loadAll(RBAC).stream()
            .filter(V1ServiceAccount.class::isInstance)
            .map(V1ServiceAccount.class::cast)
            .findFirst()
            .orElseThrow();
    V1Deployment deployment = deployment();

    assertThat(deployment.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(account.getMetadata().getName())
        .isEqualTo("jit-access-agent");
    assertThat(deployment.getMetadata().getNamespace()).isEqualTo(account.getMetadata().getNamespace());
  }

  @Test
  void everyContainerIsNonRootReadOnlyWithoutPrivilegeEscalationOrCapabilities() throws Exception {
    V1PodSpec pod = deployment().getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getContainers()).isNotEmpty();
    for (V1Container container : pod.getContainers()) {
      V1SecurityContext security = container.getSecurityContext();
      assertThat(security).as(container.getName()).isNotNull();
      assertThat(security.getRunAsNonRoot()).as(container.getName()).isTrue();
      assertThat(security.getReadOnlyRootFilesystem()).as(container.getName()).isTrue();
      assertThat(security.getAllowPrivilegeEscalation()).as(container.getName()).isFalse();
      assertThat(security.getPrivileged()).as(container.getName()).isNotEqualTo(Boolean.TRUE);
      assertThat(security.getCapabilities().getDrop()).as(container.getName()).isEqualTo(List.of("ALL"));
      assertThat(security.getCapabilities().getAdd()).as(container.getName()).isNullOrEmpty();
      assertThat(container.getResources().getRequests()).as(container.getName()).containsKeys("cpu", "memory");
      assertThat(container.getResources().getLimits()).as(container.getName()).containsKey("memory");
    }
  }

  @Test
  void theCredentialComesFromASecretAndTheImageIsAMarkedPlaceholder() throws Exception {
    V1Container agent = deployment().getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(agent.getImage()).contains("REPLACE-WITH-YOUR-AGENT-IMAGE");
    assertThat(agent.getEnv())
        .filteredOn(env -> env.getName().equals("JITACCESS_AGENT_CREDENTIAL"))
        .singleElement()
        .satisfies(
            env -> {
              assertThat(env.getValue()).isNull();
              assertThat(env.getValueFrom().getSecretKeyRef().getName()).isEqualTo("jit-access-agent-credential");
            });
  }
}
