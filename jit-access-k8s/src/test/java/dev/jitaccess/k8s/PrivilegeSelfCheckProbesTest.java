package dev.jitaccess.k8s;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import dev.jitaccess.testkit.MutableInstantSource;
import io.kubernetes.client.openapi.models.V1ResourceAttributes;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReviewSpec;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewStatus;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SECURITY 19: each of the seven privileges KubernetesAccountProvisioner#checkOwnPrivileges documents is
 * probed with a SelfSubjectAccessReview of exactly its attributes, and a positive answer to that probe alone
 * becomes exactly one finding naming it (the provisioner reports; RelayAgentHousekeepingTest covers the
 * agent's warning and its refuse-to-start option).
 */
@WireMockTest
final class PrivilegeSelfCheckProbesTest {
  static final String SSAR = ProvisionerSelfCheckAndSweepTest.SSAR;
  static final String RBAC = "rbac.authorization.k8s.io";

  /** The probes, with the attributes kube-apiserver must be asked about and the words of the finding. */
  enum Probe {
    IMPERSONATE_USERS("impersonate", "", "users", null, "impersonate users"),
    IMPERSONATE_GROUPS("impersonate", "", "groups", null, "impersonate groups"),
    IMPERSONATE_SERVICEACCOUNTS("impersonate", "", "serviceaccounts", null, "impersonate serviceaccounts"),
    ESCALATE_CLUSTERROLES("escalate", RBAC, "clusterroles", null, "escalate clusterroles"),
    BIND_CLUSTER_ADMIN("bind", RBAC, "clusterroles", "cluster-admin", "bind the cluster-admin ClusterRole"),
    EVERYTHING("*", "*", "*", null, "do anything (* on *, as cluster-admin)"),
    READ_ALL_SECRETS("get", "", "secrets", null, "get secrets in all namespaces");

    final String verb;
    final String group;
    final String resource;
    final @Nullable String name;
    final String finding;

    Probe(String verb, String group, String resource, @Nullable String name, String finding) {
      this.verb = verb;
      this.group = group;
      this.resource = resource;
      this.name = name;
      this.finding = finding;
    }

    MappingBuilder review() {
      MappingBuilder review =
          post(urlPathEqualTo(SSAR))
              .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.verb", equalTo(verb)))
              .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.group", equalTo(group)))
              .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.resource", equalTo(resource)));
      return name == null
          ? review
          : review.withRequestBody(matchingJsonPath("$.spec.resourceAttributes.name", equalTo(name)));
    }

    RequestPatternBuilder reviewed() {
      RequestPatternBuilder reviewed =
          postRequestedFor(urlPathEqualTo(SSAR))
              .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.verb", equalTo(verb)))
              .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.group", equalTo(group)))
              .withRequestBody(matchingJsonPath("$.spec.resourceAttributes.resource", equalTo(resource)));
      return name == null
          ? reviewed
          : reviewed.withRequestBody(matchingJsonPath("$.spec.resourceAttributes.name", equalTo(name)));
    }
  }

  KubernetesAccountProvisioner provisioner;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build())
            .allowedClusterRoles(Set.of("view"))
            .clock(MutableInstantSource.at(Instant.parse("2026-03-01T12:00:00Z")))
            .maxAttempts(1)
            .sleeper(new RecordingSleeper())
            .build();
  }

  static V1SelfSubjectAccessReview answer(boolean allowed) {
    return new V1SelfSubjectAccessReview()
        .apiVersion("authorization.k8s.io/v1")
        .kind("SelfSubjectAccessReview")
        .spec(new V1SelfSubjectAccessReviewSpec().resourceAttributes(new V1ResourceAttributes()))
        .status(
            new V1SubjectAccessReviewStatus()
                .allowed(allowed)
                .reason(allowed ? "RBAC: allowed by ClusterRoleBinding \"too-much\"" : ""));
  }

  @ParameterizedTest
  @EnumSource(Probe.class)
  void aPositiveAnswerToOneProbeIsExactlyOneFindingNamingIt(Probe held) {
    stubFor(post(urlPathEqualTo(SSAR)).atPriority(5).willReturn(json(201, answer(false))));
    stubFor(held.review().atPriority(1).willReturn(json(201, answer(true))));

    List<String> findings = provisioner.checkOwnPrivileges();

    assertThat(findings)
        .singleElement()
        .asString()
        .startsWith("the agent's identity may " + held.finding + " cluster-wide")
        .contains("deploy/agent-rbac.yaml");
    assertThat(provisioner.privilegeWarnings()).isEqualTo(findings);
    // Two checks (checkOwnPrivileges, privilegeWarnings): each asked every probe once.
    verify(2, held.reviewed());
    verify(2 * Probe.values().length, postRequestedFor(urlPathEqualTo(SSAR)));
  }

  @Test
  void anAgentHoldingEverythingGetsOneFindingPerProbe() {
    stubFor(post(urlPathEqualTo(SSAR)).willReturn(json(201, answer(true))));

    List<String> findings = provisioner.checkOwnPrivileges();

    assertThat(findings).hasSize(Probe.values().length);
    for (Probe probe : Probe.values()) {
      assertThat(findings).filteredOn(f -> f.contains("may " + probe.finding + " cluster-wide")).hasSize(1);
      verify(1, probe.reviewed());
    }
  }
}
