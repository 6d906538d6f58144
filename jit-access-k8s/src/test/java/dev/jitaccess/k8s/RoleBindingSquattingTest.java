package dev.jitaccess.k8s;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.patchRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.json;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.ALICE;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.EDIT_TEAM_A;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.T0;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.grant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.k8s.internal.Names;
import dev.jitaccess.testkit.MutableInstantSource;
import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.util.ClientBuilder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SECURITY 21 for namespaced RoleBindings (the ServiceAccount and ClusterRoleBinding cases are in
 * KubernetesAccountProvisionerTest): a RoleBinding that already holds our generated name but lacks our
 * ownership marks, or binds something else, is never adopted, changed or deleted; the grant fails with 409
 * and no token. One that is ours and binds exactly our account is adopted.
 */
@WireMockTest
final class RoleBindingSquattingTest {
  private static final String SA = KubeStubs.saName(ALICE);
  private static final String RB = KubeStubs.bindingName(ALICE, EDIT_TEAM_A);
  private static final String RB_OBJECT = KubeStubs.rbPath("team-a", RB);

  /** A RoleBinding of our name that someone else put there. */
  enum Squatter {
    NO_MARKS_AT_ALL(
        rb -> {
          rb.getMetadata().labels(null).annotations(null);
          return rb.subjects(List.of(user("mallory")));
        },
        "refusing to adopt"),
    MANAGED_BY_LABEL_BUT_ANOTHER_SUBJECT(
        rb -> {
          rb.getMetadata().annotations(Map.of(Names.SUBJECT_ANNOTATION, "mallory@example.com"));
          return rb;
        },
        "refusing to adopt"),
    OUR_ANNOTATION_WITHOUT_THE_MANAGED_BY_LABEL(
        rb -> {
          rb.getMetadata().labels(Map.of(Names.SUBJECT_HASH_LABEL, Names.subjectHash(ALICE)));
          return rb;
        },
        "refusing to adopt"),
    OUR_MARKS_BUT_ANOTHER_ROLE(
        rb -> {
          rb.getRoleRef().name("admin");
          return rb;
        },
        "does not bind exactly ClusterRole edit"),
    OUR_MARKS_BUT_AN_EXTRA_SUBJECT(
        rb -> {
          rb.subjects(List.of(rb.getSubjects().get(0), user("mallory")));
          return rb;
        },
        "does not bind exactly ClusterRole edit"),
    OUR_MARKS_BUT_A_ROLE_INSTEAD_OF_THE_CLUSTER_ROLE(
        rb -> {
          rb.getRoleRef().kind("Role");
          return rb;
        },
        "does not bind exactly ClusterRole edit");

    final UnaryOperator<V1RoleBinding> change;
    final String message;

    Squatter(UnaryOperator<V1RoleBinding> change, String message) {
      this.change = change;
      this.message = message;
    }

    V1RoleBinding object() {
      V1RoleBinding ours = KubeStubs.managedBinding(ALICE, "edit", "team-a");
      ours.getMetadata().labels(new HashMap<>(ours.getMetadata().getLabels()));
      return change.apply(ours);
    }

    private static RbacV1Subject user(String name) {
      return new RbacV1Subject().kind("User").apiGroup("rbac.authorization.k8s.io").name(name);
    }
  }

  KubernetesAccountProvisioner provisioner;
  RecordingSleeper sleeper;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    sleeper = new RecordingSleeper();
    provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build())
            .allowedClusterRoles(Set.of("edit"))
            .clock(MutableInstantSource.at(T0))
            .sleeper(sleeper)
            .build();
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
  }

  @ParameterizedTest
  @EnumSource(Squatter.class)
  void aRoleBindingOfOurNameThatIsNotOursIsNeverAdopted(Squatter squatter) {
    stubFor(post(urlPathEqualTo(KubeStubs.rbPath("team-a"))).willReturn(KubeStubs.alreadyExists()));
    stubFor(get(urlPathEqualTo(RB_OBJECT)).willReturn(json(200, squatter.object())));

    assertRefused(squatter);
    verify(1, postRequestedFor(urlPathEqualTo(KubeStubs.rbPath("team-a"))));
    assertThat(sleeper.waits).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Squatter.class)
  void aSquatterFoundByTheReadBeforeARetriedCreateIsNotAdoptedEither(Squatter squatter) {
    // The create times out on the server's side (504); the retry reads first and finds the squatter.
    stubFor(
        post(urlPathEqualTo(KubeStubs.rbPath("team-a")))
            .willReturn(
                KubeStubs.status(
                    504, "Timeout", "Timeout: request did not complete within the allotted timeout")));
    stubFor(get(urlPathEqualTo(RB_OBJECT)).willReturn(json(200, squatter.object())));

    assertRefused(squatter);
    verify(1, postRequestedFor(urlPathEqualTo(KubeStubs.rbPath("team-a"))));
    verify(1, getRequestedFor(urlPathEqualTo(RB_OBJECT)));
    assertThat(sleeper.waits).hasSize(1);
  }

  @Test
  void aRoleBindingThatIsOursAndBindsExactlyOurAccountIsAdopted() {
    stubFor(post(urlPathEqualTo(KubeStubs.rbPath("team-a"))).willReturn(KubeStubs.alreadyExists()));
    stubFor(
        get(urlPathEqualTo(RB_OBJECT))
            .willReturn(json(200, KubeStubs.managedBinding(ALICE, "edit", "team-a"))));

    ProvisionedAccount account = provisioner.ensure(grant("g-1", ALICE, EDIT_TEAM_A));

    assertThat(account.token()).isEqualTo("tok-1");
    verify(1, postRequestedFor(urlPathEqualTo(KubeStubs.rbPath("team-a"))));
    verify(0, putRequestedFor(anyUrl()));
    verify(0, deleteRequestedFor(anyUrl()));
  }

  private void assertRefused(Squatter squatter) {
    assertThatThrownBy(() -> provisioner.ensure(grant("g-1", ALICE, EDIT_TEAM_A)))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(409);
              assertThat(e.isRetryable()).isFalse();
            })
        .hasMessageContaining("rolebinding/team-a/" + RB)
        .hasMessageContaining(squatter.message);
    verify(0, postRequestedFor(urlPathEqualTo(KubeStubs.tokenPath(SA))));
    // The squatter is left exactly as it is.
    verify(0, putRequestedFor(urlPathEqualTo(RB_OBJECT)));
    verify(0, patchRequestedFor(urlPathEqualTo(RB_OBJECT)));
    verify(0, deleteRequestedFor(anyUrl()));
  }
}
