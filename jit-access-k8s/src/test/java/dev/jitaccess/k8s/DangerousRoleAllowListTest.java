package dev.jitaccess.k8s;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.CRB_PATH;
import static dev.jitaccess.k8s.KubeStubs.body;
import static dev.jitaccess.k8s.KubeStubs.requests;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.ALICE;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.T0;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.VIEW_ALL;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.grant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.testkit.MutableInstantSource;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.util.ClientBuilder;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SECURITY 18: {@code admin}, {@code cluster-admin} and {@code system:*} ClusterRoles are refused before any
 * call unless allowedClusterRoles names them, whether asked cluster-wide or in one namespace; the allow-list
 * matches whole names exactly (no wildcard, prefix or case folding); and a role it does name is bound.
 */
@WireMockTest
final class DangerousRoleAllowListTest {
  /** What a typical agent allows: the read-mostly built-ins and one harmless aggregation role. */
  private static final Set<String> TYPICAL = Set.of("view", "edit", "system:aggregate-to-view");

  MutableInstantSource clock;
  RecordingSleeper sleeper;
  ApiClient client;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    clock = MutableInstantSource.at(T0);
    sleeper = new RecordingSleeper();
    client = new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build();
  }

  KubernetesAccountProvisioner provisioner(Set<String> allowed) {
    return KubernetesAccountProvisioner.builder()
        .apiClient(client)
        .allowedClusterRoles(allowed)
        .clock(clock)
        .sleeper(sleeper)
        .build();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "admin",
        "cluster-admin",
        "system:masters",
        "system:aggregate-to-admin",
        "system:aggregate-to-edit",
        "system:controller:clusterrole-aggregation-controller",
        "system:kube-controller-manager",
        "system:node",
        "system:auth-delegator",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        "Admin",
        "system:aggregate-to-view:x"
      })
  void aDangerousRoleOutsideTheAllowListIsRefusedBeforeAnyCall(String role) {
    KubernetesAccountProvisioner provisioner = provisioner(TYPICAL);

    for (Permission dangerous :
        new Permission[] {Permission.clusterWide(role), Permission.inNamespace(role, "team-a")}) {
      assertThatThrownBy(() -> provisioner.ensure(grant("g-1", ALICE, VIEW_ALL, dangerous)))
          .as("%s", dangerous)
          .isInstanceOfSatisfying(
              ProvisioningException.class,
              e -> {
                assertThat(e.statusCode()).isZero();
                assertThat(e.isRetryable()).isFalse();
              })
          .hasMessageContaining("ClusterRole '" + role + "' of grant g-1 is not in allowedClusterRoles");
    }
    verify(0, anyRequestedFor(anyUrl()));
    assertThat(sleeper.waits).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"system:*", "*", "admin*", "ADMIN", "system:aggregate-to-", "aggregate-to-admin"})
  void theAllowListMatchesWholeNamesOnly(String entry) {
    KubernetesAccountProvisioner provisioner = provisioner(Set.of("view", entry));

    for (String role : new String[] {"admin", "system:aggregate-to-admin", "cluster-admin"}) {
      assertThatThrownBy(() -> provisioner.ensure(grant("g-1", ALICE, Permission.clusterWide(role))))
          .as("%s with allow-list entry %s", role, entry)
          .isInstanceOf(ProvisioningException.class)
          .hasMessageContaining("'" + role + "'")
          .hasMessageContaining("allowedClusterRoles");
    }
    verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void dangerousRolesNamedInTheAllowListAreBound() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    KubernetesAccountProvisioner provisioner = provisioner(Set.of("admin", "system:aggregate-to-admin"));

    ProvisionedAccount account =
        provisioner.ensure(
            grant(
                "g-1",
                ALICE,
                Permission.clusterWide("system:aggregate-to-admin"),
                Permission.inNamespace("admin", "team-a")));

    assertThat(account.token()).isEqualTo("tok-1");
    V1ClusterRoleBinding crb =
        body(requests(postRequestedFor(urlPathEqualTo(CRB_PATH))).get(0), V1ClusterRoleBinding.class);
    assertThat(crb.getRoleRef().getName()).isEqualTo("system:aggregate-to-admin");
    assertThat(crb.getMetadata().getName()).matches("jit-[a-z2-7]{32}-[a-z2-7]{16}");
    V1RoleBinding rb =
        body(
            requests(postRequestedFor(urlPathEqualTo(KubeStubs.rbPath("team-a")))).get(0),
            V1RoleBinding.class);
    assertThat(rb.getRoleRef().getName()).isEqualTo("admin");
    assertThat(rb.getRoleRef().getKind()).isEqualTo("ClusterRole");
  }
}
