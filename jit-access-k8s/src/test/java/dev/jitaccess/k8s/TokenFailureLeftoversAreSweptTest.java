package dev.jitaccess.k8s;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getAllServeEvents;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.resetAllRequests;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.CRB_PATH;
import static dev.jitaccess.k8s.KubeStubs.NS;
import static dev.jitaccess.k8s.KubeStubs.SA_PATH;
import static dev.jitaccess.k8s.KubeStubs.body;
import static dev.jitaccess.k8s.KubeStubs.json;
import static dev.jitaccess.k8s.KubeStubs.requests;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.ALICE;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.EDIT_TEAM_A;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.T0;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.VIEW_ALL;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.grant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.k8s.internal.Names;
import dev.jitaccess.testkit.MutableInstantSource;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SECURITY 23: the TokenRequest fails for good once the ServiceAccount and both bindings exist. The caller
 * gets an error and no token; what was created carries the ownership marks and an expiry, so no privilege is
 * left without a recorded owner, and the idle sweeper, knowing nothing but the cluster, deletes all of it
 * once the account's idle timeout has passed (bindings first), and nothing before.
 */
@WireMockTest
final class TokenFailureLeftoversAreSweptTest {
  private static final String SA = KubeStubs.saName(ALICE);
  private static final String CRB = KubeStubs.bindingName(ALICE, VIEW_ALL);
  private static final String RB = KubeStubs.bindingName(ALICE, EDIT_TEAM_A);
  private static final Duration IDLE = KubernetesAccountProvisioner.Builder.DEFAULT_IDLE_TIMEOUT;

  /** Ways the TokenRequest fails for good. */
  enum TokenFailure {
    /** The agent may not create tokens (its RBAC lacks serviceaccounts/token): fails at once. */
    FORBIDDEN_403(403, 1, false),
    /** kube-apiserver keeps failing: retried, then given up. */
    INTERNAL_ERROR_500_EVERY_TIME(500, 4, true),
    /** A 201 whose status carries no token: unusable, not retried. */
    ANSWER_WITHOUT_TOKEN(0, 1, true);

    final int status;
    final int requests;
    final boolean retryable;

    TokenFailure(int status, int requests, boolean retryable) {
      this.status = status;
      this.requests = requests;
      this.retryable = retryable;
    }

    ResponseDefinitionBuilder answer() {
      switch (this) {
        case FORBIDDEN_403:
          return KubeStubs.status(
              403,
              "Forbidden",
              "serviceaccounts \""
                  + SA
                  + "\" is forbidden: User \"system:serviceaccount:jit-access:jit-access-agent\" cannot create"
                  + " resource \"serviceaccounts/token\" in API group \"\" in the namespace \"jit-access\"");
        case INTERNAL_ERROR_500_EVERY_TIME:
          return KubeStubs.status(
              500, "InternalError", "Internal error occurred: etcdserver: request timed out");
        default:
          AuthenticationV1TokenRequest empty = KubeStubs.tokenAnswer(ALICE, "unused", 600, T0);
          empty.setStatus(null);
          return json(201, empty);
      }
    }
  }

  MutableInstantSource clock;
  RecordingSleeper sleeper;
  ClientBuilder clientBuilder;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    clock = MutableInstantSource.at(T0);
    sleeper = new RecordingSleeper();
    clientBuilder = new ClientBuilder().setBasePath(wm.getHttpBaseUrl());
  }

  @ParameterizedTest
  @EnumSource(TokenFailure.class)
  void noTokenIsReturnedAndTheOwnedLeftoversAreSweptAfterTheIdleTimeout(TokenFailure failure) {
    KubeStubs.stubFirstProvision(ALICE, "tok-never", T0.plusSeconds(600));
    stubFor(post(urlPathEqualTo(KubeStubs.tokenPath(SA))).willReturn(failure.answer()));
    KubernetesAccountProvisioner provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(clientBuilder.build())
            .allowedClusterRoles(Set.of("view", "edit"))
            .clock(clock)
            .sleeper(sleeper)
            .build();

    ProvisioningException e =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisioner.ensure(grant("g-1", ALICE, VIEW_ALL, EDIT_TEAM_A)));

    assertThat(e).as("the caller must get an error, not an account").isNotNull();
    assertThat(e.statusCode()).isEqualTo(failure.status);
    assertThat(e.isRetryable()).isEqualTo(failure.retryable);
    assertThat(e.getMessage())
        .startsWith("Could not request a token for ServiceAccount " + NS + "/" + SA)
        .doesNotContain("tok-never");
    verify(failure.requests, postRequestedFor(urlPathEqualTo(KubeStubs.tokenPath(SA))));

    // The failure came after the account and both bindings were created.
    V1ServiceAccount account =
        body(requests(postRequestedFor(urlPathEqualTo(SA_PATH))).get(0), V1ServiceAccount.class);
    V1ClusterRoleBinding crb =
        body(requests(postRequestedFor(urlPathEqualTo(CRB_PATH))).get(0), V1ClusterRoleBinding.class);
    V1RoleBinding rb =
        body(
            requests(postRequestedFor(urlPathEqualTo(KubeStubs.rbPath("team-a")))).get(0),
            V1RoleBinding.class);
    assertOwnedLeftovers(account, crb.getMetadata(), crb.getSubjects());
    assertOwnedLeftovers(account, rb.getMetadata(), rb.getSubjects());
    assertThat(crb.getMetadata().getName()).isEqualTo(CRB);
    assertThat(rb.getMetadata().getName()).isEqualTo(RB);

    // From here on the cluster holds exactly what the agent sent, and a sweeper that knows nothing else runs.
    stubFor(get(urlPathEqualTo(SA_PATH)).willReturn(json(200, KubeStubs.accountList(List.of(account), null))));
    KubeStubs.stubBindingLists(List.of(crb), List.of(rb));
    stubFor(delete(urlPathEqualTo(KubeStubs.saPath(SA))).willReturn(json(200, account)));
    stubFor(
        delete(urlPathEqualTo(KubeStubs.crbPath(CRB)))
            .willReturn(KubeStubs.deleted("clusterrolebindings", CRB)));
    stubFor(
        delete(urlPathEqualTo(KubeStubs.rbPath("team-a", RB)))
            .willReturn(KubeStubs.deleted("rolebindings", RB)));
    IdleAccountSweeper sweeper =
        IdleAccountSweeper.builder()
            .apiClient(clientBuilder.build())
            .clock(clock)
            .sleeper(new RecordingSleeper())
            .build();
    resetAllRequests();

    clock.set(T0.plus(IDLE).minusSeconds(1));
    assertThat(sweeper.sweep().isEmpty()).as("an owned account within its idle timeout is kept").isTrue();
    verify(0, deleteRequestedFor(anyUrl()));

    clock.set(T0.plus(IDLE));
    SweepResult result = sweeper.sweep();

    assertThat(result.deletedServiceAccounts()).containsExactly(SA);
    assertThat(result.deletedBindings())
        .containsExactlyInAnyOrder("clusterrolebinding/" + CRB, "rolebinding/team-a/" + RB);
    assertThat(result.failures()).isZero();
    verify(1, deleteRequestedFor(urlPathEqualTo(KubeStubs.crbPath(CRB))));
    verify(1, deleteRequestedFor(urlPathEqualTo(KubeStubs.rbPath("team-a", RB))));
    verify(1, deleteRequestedFor(urlPathEqualTo(KubeStubs.saPath(SA))));
    List<String> deletes =
        getAllServeEvents().stream()
            .filter(ev -> ev.getRequest().getMethod().getName().equals("DELETE"))
            .map(ev -> ev.getRequest().getUrl().replaceAll("\\?.*", ""))
            .collect(Collectors.toList());
    assertThat(deletes).hasSize(3);
    // WireMock lists the newest first: the account (the owner record) went last.
    assertThat(deletes.get(0)).isEqualTo(KubeStubs.saPath(SA));
  }

  /** A binding left behind names its owner: our labels, the raw subject, and the account it binds. */
  private static void assertOwnedLeftovers(
      V1ServiceAccount account, V1ObjectMeta binding, List<RbacV1Subject> subjects) {
    V1ObjectMeta owner = account.getMetadata();
    assertThat(owner.getName()).isEqualTo(SA);
    assertThat(owner.getNamespace()).isEqualTo(NS);
    assertThat(owner.getLabels()).isEqualTo(KubeStubs.labels(ALICE));
    assertThat(owner.getAnnotations())
        .containsEntry(Names.SUBJECT_ANNOTATION, ALICE)
        .containsEntry(Names.EXPIRES_AT_ANNOTATION, T0.plus(IDLE).toString());
    assertThat(binding.getLabels()).isEqualTo(KubeStubs.labels(ALICE));
    assertThat(Names.serviceAccountOrNull(binding.getLabels().get(Names.SUBJECT_HASH_LABEL))).isEqualTo(SA);
    assertThat(binding.getAnnotations())
        .containsEntry(Names.SUBJECT_ANNOTATION, ALICE)
        .containsEntry(Names.SERVICE_ACCOUNT_ANNOTATION, NS + "/" + SA);
    assertThat(subjects)
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getKind()).isEqualTo("ServiceAccount");
              assertThat(s.getNamespace()).isEqualTo(NS);
              assertThat(s.getName()).isEqualTo(SA);
            });
  }
}
