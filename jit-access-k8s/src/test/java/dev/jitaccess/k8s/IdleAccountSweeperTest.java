package dev.jitaccess.k8s;

import dev.jitaccess.testkit.MutableInstantSource;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.resetAllRequests;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.CRB_PATH;
import static dev.jitaccess.k8s.KubeStubs.SA_PATH;
import static dev.jitaccess.k8s.KubeStubs.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WireMockTest
final class IdleAccountSweeperTest {
  static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  MutableInstantSource clock;
  ApiClient client;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    clock = MutableInstantSource.at(NOW);
    client = new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build();
    stubFor(delete(urlPathMatching(SA_PATH + "/[^/]+")).willReturn(json(200, new V1ServiceAccount())));
    stubFor(
        delete(urlPathMatching(KubeStubs.RBAC + "/.*"))
            .willReturn(KubeStubs.deleted("rolebindings", "x")));
  }

  IdleAccountSweeper sweeper(int pageSize) {
    return IdleAccountSweeper.builder()
        .apiClient(client)
        .clock(clock)
        .pageSize(pageSize)
        .sleeper(new RecordingSleeper())
        .build();
  }

  static String at(Duration fromNow) {
    return NOW.plus(fromNow).toString();
  }

  @Test
  void followsEveryPageAndDeletesOnlyExpiredAccountsAndTheirBindings() {
    V1ServiceAccount expired = KubeStubs.managedAccount("expired", at(Duration.ofHours(-1)));
    V1ServiceAccount live = KubeStubs.managedAccount("live", at(Duration.ofHours(1)));
    V1ServiceAccount live2 = KubeStubs.managedAccount("live2", at(Duration.ofMinutes(5)));
    V1ServiceAccount garbled = KubeStubs.managedAccount("garbled", "tomorrow-ish");
    V1ServiceAccount unmarked = KubeStubs.managedAccount("unmarked", null);
    V1ServiceAccount exactlyNow = KubeStubs.managedAccount("exactly-now", at(Duration.ZERO));
    stubFor(
        get(urlPathEqualTo(SA_PATH))
            .withQueryParam("limit", equalTo("2"))
            .withQueryParam("continue", absent())
            .withQueryParam("labelSelector", equalTo("app.kubernetes.io/managed-by=jit-access"))
            .willReturn(json(200, KubeStubs.accountList(List.of(expired, live), "page-2"))));
    stubFor(
        get(urlPathEqualTo(SA_PATH))
            .withQueryParam("continue", equalTo("page-2"))
            .willReturn(json(200, KubeStubs.accountList(List.of(live2, garbled), "page-3"))));
    stubFor(
        get(urlPathEqualTo(SA_PATH))
            .withQueryParam("continue", equalTo("page-3"))
            .willReturn(json(200, KubeStubs.accountList(List.of(unmarked, exactlyNow), null))));
    KubeStubs.stubBindingLists(
        List.of(
            KubeStubs.managedClusterBinding("expired", "view"),
            KubeStubs.managedClusterBinding("live", "view")),
        List.of(
            KubeStubs.managedBinding("live2", "edit", "team-a"),
            KubeStubs.managedBinding("garbled", "edit", "team-b")));

    SweepResult result = sweeper(2).sweep();

    assertThat(result.deletedServiceAccounts())
        .containsExactlyInAnyOrder(
            KubeStubs.saName("expired"),
            KubeStubs.saName("garbled"),
            KubeStubs.saName("unmarked"),
            KubeStubs.saName("exactly-now"));
    assertThat(result.deletedBindings())
        .containsExactlyInAnyOrder(
            "clusterrolebinding/" + KubeStubs.bindingName("expired", Permission.clusterWide("view")),
            "rolebinding/team-b/"
                + KubeStubs.bindingName("garbled", Permission.inNamespace("edit", "team-b")));
    assertThat(result.deletedServiceAccountCount()).isEqualTo(4);
    assertThat(result.deletedBindingCount()).isEqualTo(2);
    assertThat(result.failures()).isZero();
    verify(getRequestedFor(urlPathEqualTo(SA_PATH)).withQueryParam("continue", equalTo("page-2")));
    verify(getRequestedFor(urlPathEqualTo(SA_PATH)).withQueryParam("continue", equalTo("page-3")));
    verify(3, getRequestedFor(urlPathEqualTo(SA_PATH)));
    verify(0, deleteRequestedFor(urlPathEqualTo(KubeStubs.saPath(KubeStubs.saName("live")))));
    verify(0, deleteRequestedFor(urlPathEqualTo(KubeStubs.saPath(KubeStubs.saName("live2")))));
    verify(4, deleteRequestedFor(urlPathMatching(SA_PATH + "/.*")));
    verify(2, deleteRequestedFor(urlPathMatching(KubeStubs.RBAC + "/.*")));
  }

  @Test
  void deletesOrphanedBindingsWhoseAccountIsGoneOrUnknown() {
    stubFor(
        get(urlPathEqualTo(SA_PATH))
            .willReturn(
                json(
                    200,
                    KubeStubs.accountList(
                        List.of(KubeStubs.managedAccount("live", at(Duration.ofHours(2)))), null))));
    V1RoleBinding unlabelled = KubeStubs.managedBinding("someone", "view", "team-c");
    unlabelled.getMetadata().labels(Map.of("app.kubernetes.io/managed-by", "jit-access"));
    KubeStubs.stubBindingLists(
        List.of(KubeStubs.managedClusterBinding("ghost", "view")),
        List.of(KubeStubs.managedBinding("live", "view", "team-a"), unlabelled));

    SweepResult result = sweeper(500).sweep();

    assertThat(result.deletedServiceAccounts()).isEmpty();
    assertThat(result.deletedBindings())
        .containsExactlyInAnyOrder(
            "clusterrolebinding/" + KubeStubs.bindingName("ghost", Permission.clusterWide("view")),
            "rolebinding/team-c/" + unlabelled.getMetadata().getName());
    verify(
        deleteRequestedFor(
            urlPathEqualTo(
                KubeStubs.crbPath(KubeStubs.bindingName("ghost", Permission.clusterWide("view"))))));
    verify(0, deleteRequestedFor(urlPathMatching(KubeStubs.RBAC + "/namespaces/team-a/.*")));
  }

  @Test
  void alreadyDeletedObjectsAreNotReportedAndDoNotFailTheSweep() {
    stubFor(
        get(urlPathEqualTo(SA_PATH))
            .willReturn(
                json(
                    200,
                    KubeStubs.accountList(
                        List.of(KubeStubs.managedAccount("gone", at(Duration.ofHours(-2)))), null))));
    KubeStubs.stubBindingLists(List.of(), List.of());
    stubFor(delete(urlPathMatching(SA_PATH + "/.*")).willReturn(KubeStubs.notFound()));

    SweepResult result = sweeper(500).sweep();

    assertThat(result.isEmpty()).isTrue();
  }

  @Test
  void aNewSweeperCleansUpWhatAnEarlierAgentCreated() {
    // An agent provisions alice and bob, then "restarts": only the cluster remembers.
    Instant created = NOW.minus(Duration.ofHours(9));
    MutableInstantSource agentClock = MutableInstantSource.at(created);
    KubernetesAccountProvisioner agent =
        KubernetesAccountProvisioner.builder()
            .apiClient(client)
            .allowedClusterRoles(Set.of("view"))
            .clock(agentClock)
            .sleeper(new RecordingSleeper())
            .build();
    for (String subject : List.of("alice", "bob")) {
      KubeStubs.stubFirstProvision(subject, "tok", created.plusSeconds(600));
      agent.ensure(
          new Grant(
              "g-" + subject,
              Subject.of(subject),
              "prod",
              List.of(Permission.clusterWide("view")),
              created,
              created.plusSeconds(300)));
      agentClock.advance(Duration.ofHours(2)); // bob was used two hours later
    }
    // The cluster now holds exactly what the agent sent.
    List<V1ServiceAccount> accounts =
        KubeStubs.requests(postRequestedFor(urlPathEqualTo(SA_PATH))).stream()
            .map(r -> KubeStubs.<V1ServiceAccount>body(r, V1ServiceAccount.class))
            .toList();
    List<V1ClusterRoleBinding> bindings =
        KubeStubs.requests(postRequestedFor(urlPathEqualTo(CRB_PATH))).stream()
            .map(r -> KubeStubs.<V1ClusterRoleBinding>body(r, V1ClusterRoleBinding.class))
            .toList();
    assertThat(accounts).hasSize(2);
    stubFor(get(urlPathEqualTo(SA_PATH)).willReturn(json(200, KubeStubs.accountList(accounts, null))));
    KubeStubs.stubBindingLists(bindings, List.of());
    stubFor(
        delete(urlPathMatching(SA_PATH + "/[^/]+")).willReturn(json(200, new V1ServiceAccount())));
    resetAllRequests();

    // alice expired at created + 8h = NOW - 1h; bob expires at NOW + 1h.
    SweepResult first = sweeper(500).sweep();
    SweepResult again = sweeper(500).sweep();

    assertThat(first.deletedServiceAccounts()).containsExactly(KubeStubs.saName("alice"));
    assertThat(first.deletedBindings())
        .containsExactly(
            "clusterrolebinding/" + KubeStubs.bindingName("alice", Permission.clusterWide("view")));
    assertThat(again).isEqualTo(first); // the stubbed cluster still lists them: no memory in between
    verify(0, deleteRequestedFor(urlPathEqualTo(KubeStubs.saPath(KubeStubs.saName("bob")))));

    clock.advance(Duration.ofHours(1));
    assertThat(sweeper(500).sweep().deletedServiceAccounts())
        .containsExactlyInAnyOrder(KubeStubs.saName("alice"), KubeStubs.saName("bob"));
  }

  @Test
  void nothingManagedMeansNothingDeleted() {
    stubFor(get(urlPathEqualTo(SA_PATH)).willReturn(json(200, KubeStubs.accountList(List.of(), null))));
    KubeStubs.stubBindingLists(List.of(), List.of());

    assertThat(sweeper(500).sweep().isEmpty()).isTrue();
    verify(0, deleteRequestedFor(anyUrl()));
  }
  @Test
  void startSweepsAtOnceAndCloseStopsIt() {
    stubFor(get(urlPathEqualTo(SA_PATH)).willReturn(json(200, KubeStubs.accountList(List.of(), null))));
    KubeStubs.stubBindingLists(List.of(), List.of());
    java.util.concurrent.ScheduledExecutorService executor =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      IdleAccountSweeper sweeper = sweeper(500);
      sweeper.start(executor);

      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> verify(1, getRequestedFor(urlPathEqualTo(SA_PATH))));
      sweeper.close();
      sweeper.close();

      org.assertj.core.api.Assertions.assertThatThrownBy(() -> sweeper.start(executor))
          .isInstanceOf(IllegalStateException.class);
      assertThat(executor.isShutdown()).isFalse(); // a caller's executor is the caller's
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void builderRejectsBadSettingsAtOnce() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> IdleAccountSweeper.builder().pageSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> IdleAccountSweeper.builder().period(Duration.ofMinutes(6)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT6M");
  }
  @Test
  void labelledBindingOfSomeoneElseIsNotDeleted() {
    stubFor(get(urlPathEqualTo(SA_PATH)).willReturn(json(200, KubeStubs.accountList(List.of(), null))));
    V1ClusterRoleBinding victim = KubeStubs.managedClusterBinding("ghost", "cluster-admin");
    victim
        .getMetadata()
        .name("cluster-admin-for-ops");
    victim.subjects(
        List.of(
            new io.kubernetes.client.openapi.models.RbacV1Subject()
                .kind("Group")
                .apiGroup("rbac.authorization.k8s.io")
                .name("ops")));
    KubeStubs.stubBindingLists(List.of(victim), List.of());

    SweepResult result = sweeper(500).sweep();

    assertThat(result.deletedBindings()).isEmpty();
    verify(0, deleteRequestedFor(anyUrl()));
  }
}
