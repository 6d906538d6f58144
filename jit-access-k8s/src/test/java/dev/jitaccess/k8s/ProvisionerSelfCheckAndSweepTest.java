package dev.jitaccess.k8s;

import dev.jitaccess.testkit.MutableInstantSource;

import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.SA_PATH;
import static dev.jitaccess.k8s.KubeStubs.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.api.spi.AccountProvisioner;
import io.kubernetes.client.openapi.models.V1ResourceAttributes;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReviewSpec;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewStatus;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WireMockTest
final class ProvisionerSelfCheckAndSweepTest {
  static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  static final String SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

  AccountProvisioner provisioner;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build())
            .allowedClusterRoles(Set.of("view"))
            .clock(MutableInstantSource.at(NOW))
            .maxAttempts(1)
            .sleeper(new RecordingSleeper())
            .build();
  }

  static V1SelfSubjectAccessReview review(boolean allowed) {
    return new V1SelfSubjectAccessReview()
        .apiVersion("authorization.k8s.io/v1")
        .kind("SelfSubjectAccessReview")
        .spec(new V1SelfSubjectAccessReviewSpec().resourceAttributes(new V1ResourceAttributes().verb("get")))
        .status(new V1SubjectAccessReviewStatus().allowed(allowed));
  }

  @Test
  void impersonationAllowedToTheAgentIsReported() {
    stubFor(post(urlPathEqualTo(SSAR)).atPriority(5).willReturn(json(201, review(false))));
    stubFor(
        post(urlPathEqualTo(SSAR))
            .atPriority(1)
            .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.verb", equalTo("impersonate")))
            .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.resource", equalTo("users")))
            .willReturn(json(201, review(true))));

    List<String> findings = provisioner.privilegeWarnings();

    assertThat(findings).singleElement().asString().contains("impersonate users").contains("agent-rbac.yaml");
    verify(postRequestedFor(urlPathEqualTo(SSAR))
        .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.verb", equalTo("escalate"))));
    verify(postRequestedFor(urlPathEqualTo(SSAR))
        .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.verb", equalTo("*"))));
    verify(postRequestedFor(urlPathEqualTo(SSAR))
        .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.resource", equalTo("secrets"))));
  }

  @Test
  void leastPrivilegeAgentHasNoFindings() {
    stubFor(post(urlPathEqualTo(SSAR)).willReturn(json(201, review(false))));

    assertThat(provisioner.privilegeWarnings()).isEmpty();
    verify(7, postRequestedFor(urlPathEqualTo(SSAR)));
  }

  @Test
  void aFailedReviewIsAnErrorNotASilentPass() {
    stubFor(post(urlPathEqualTo(SSAR)).willReturn(KubeStubs.status(403, "Forbidden", "no")));

    assertThatThrownBy(() -> provisioner.privilegeWarnings())
        .isInstanceOfSatisfying(ProvisioningException.class, e -> assertThat(e.statusCode()).isEqualTo(403));
  }

  @Test
  void sweepIdleDeletesExpiredAccountsAndTheirBindingsAndNamesThem() {
    V1ServiceAccount expired =
        KubeStubs.managedAccount("expired", NOW.minus(Duration.ofHours(1)).toString());
    V1ServiceAccount live = KubeStubs.managedAccount("live", NOW.plus(Duration.ofHours(1)).toString());
    stubFor(get(urlPathEqualTo(SA_PATH)).willReturn(json(200, KubeStubs.accountList(List.of(expired, live), null))));
    KubeStubs.stubBindingLists(
        List.of(KubeStubs.managedClusterBinding("expired", "view"), KubeStubs.managedClusterBinding("live", "view")),
        List.of());
    stubFor(delete(urlPathMatching(SA_PATH + "/[^/]+")).willReturn(json(200, new V1ServiceAccount())));
    stubFor(delete(urlPathMatching(KubeStubs.RBAC + "/.*")).willReturn(KubeStubs.deleted("clusterrolebindings", "x")));

    List<String> deleted = provisioner.sweepIdle();

    assertThat(deleted)
        .containsExactlyInAnyOrder(
            "clusterrolebinding/" + KubeStubs.bindingName("expired", Permission.clusterWide("view")),
            "serviceaccount/jit-access/" + KubeStubs.saName("expired"));
    verify(0, deleteRequestedFor(urlPathEqualTo(KubeStubs.saPath(KubeStubs.saName("live")))));
  }
}
