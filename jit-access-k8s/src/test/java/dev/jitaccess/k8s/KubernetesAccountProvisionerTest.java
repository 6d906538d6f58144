package dev.jitaccess.k8s;

import dev.jitaccess.testkit.MutableInstantSource;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getAllServeEvents;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.patchRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.resetAllRequests;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.CRB_PATH;
import static dev.jitaccess.k8s.KubeStubs.NS;
import static dev.jitaccess.k8s.KubeStubs.RB_ALL_PATH;
import static dev.jitaccess.k8s.KubeStubs.SA_PATH;
import static dev.jitaccess.k8s.KubeStubs.body;
import static dev.jitaccess.k8s.KubeStubs.json;
import static dev.jitaccess.k8s.KubeStubs.requests;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.k8s.internal.Names;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WireMockTest
final class KubernetesAccountProvisionerTest {
  // Generous enough that the quick calls between the slow ones never time out on a loaded machine.
  private static final Duration READ_TIMEOUT = Duration.ofMillis(600);
  private static final int SLOW_ANSWER_MILLIS = 3000;

  static final Instant T0 = Instant.parse("2026-03-01T09:00:00Z");
  static final String ALICE = "alice@example.com";
  static final Permission EDIT_TEAM_A = Permission.inNamespace("edit", "team-a");
  static final Permission VIEW_ALL = Permission.clusterWide("view");

  MutableInstantSource clock;
  RecordingSleeper sleeper;
  ApiClient client;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    clock = MutableInstantSource.at(T0);
    sleeper = new RecordingSleeper();
    client = new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build();
  }

  KubernetesAccountProvisioner.Builder builder() {
    return KubernetesAccountProvisioner.builder()
        .apiClient(client)
        .allowedClusterRoles(Set.of("view", "edit"))
        .clock(clock)
        .sleeper(sleeper);
  }

  static Grant grant(String id, String subject, Permission... permissions) {
    return new Grant(
        id, Subject.of(subject), "prod", List.of(permissions), T0, T0.plus(Duration.ofMinutes(5)));
  }

  @Test
  void firstProvisionCreatesAccountThenBindingsThenTokenWithExactCalls() {
    KubeStubs.stubFirstProvision(ALICE, "tok-alice-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);

    ProvisionedAccount account =
        builder().build().ensure(grant("g-1", ALICE, EDIT_TEAM_A, VIEW_ALL));

    assertThat(account.namespace()).isEqualTo(NS);
    assertThat(account.serviceAccount()).isEqualTo(sa).matches("jit-[a-z2-7]{32}");
    assertThat(account.token()).isEqualTo("tok-alice-1");
    assertThat(account.tokenExpiresAt()).isEqualTo(T0.plusSeconds(600));

    List<String> calls =
        getAllServeEvents().stream()
            .map(e -> e.getRequest().getMethod() + " " + e.getRequest().getUrl().replaceAll("\\?.*", ""))
            .collect(Collectors.toList());
    assertThat(calls)
        .containsExactlyInAnyOrder(
            "POST " + SA_PATH,
            "GET " + CRB_PATH,
            "GET " + RB_ALL_PATH,
            "POST " + CRB_PATH,
            "POST " + KubeStubs.rbPath("team-a"),
            "POST " + KubeStubs.tokenPath(sa));
    // WireMock lists serve events newest first: of the writes, the account came first, the token last (the
    // two label-selected lists are reads and run while the account is created).
    List<String> writes = calls.stream().filter(c -> c.startsWith("POST")).collect(Collectors.toList());
    assertThat(writes.get(writes.size() - 1)).isEqualTo("POST " + SA_PATH);
    assertThat(writes.get(0)).isEqualTo("POST " + KubeStubs.tokenPath(sa));

    V1ServiceAccount created =
        body(requests(postRequestedFor(urlPathEqualTo(SA_PATH))).get(0), V1ServiceAccount.class);
    assertThat(created.getMetadata().getName()).isEqualTo(sa);
    assertThat(created.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "jit-access")
        .containsEntry("jitaccess.dev/subject-hash", Names.subjectHash(ALICE));
    assertThat(created.getMetadata().getAnnotations())
        .containsEntry("jitaccess.dev/subject", ALICE)
        .containsEntry("jitaccess.dev/grant-id", "g-1")
        .containsEntry("jitaccess.dev/expires-at", T0.plus(Duration.ofHours(8)).toString());

    V1ClusterRoleBinding crb =
        body(requests(postRequestedFor(urlPathEqualTo(CRB_PATH))).get(0), V1ClusterRoleBinding.class);
    assertThat(crb.getRoleRef().getKind()).isEqualTo("ClusterRole");
    assertThat(crb.getRoleRef().getName()).isEqualTo("view");
    assertThat(crb.getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(sa);
      assertThat(s.getNamespace()).isEqualTo(NS);
    });
    assertThat(crb.getMetadata().getName()).isEqualTo(KubeStubs.bindingName(ALICE, VIEW_ALL));
    assertThat(crb.getMetadata().getLabels()).isEqualTo(KubeStubs.labels(ALICE));
    assertThat(crb.getMetadata().getAnnotations())
        .containsEntry("jitaccess.dev/service-account", NS + "/" + sa);

    V1RoleBinding rb =
        body(
            requests(postRequestedFor(urlPathEqualTo(KubeStubs.rbPath("team-a")))).get(0),
            V1RoleBinding.class);
    assertThat(rb.getRoleRef().getName()).isEqualTo("edit");
    assertThat(rb.getMetadata().getNamespace()).isEqualTo("team-a");
    assertThat(rb.getMetadata().getLabels()).isEqualTo(KubeStubs.labels(ALICE));

    AuthenticationV1TokenRequest tokenRequest =
        body(
            requests(postRequestedFor(urlPathEqualTo(KubeStubs.tokenPath(sa)))).get(0),
            AuthenticationV1TokenRequest.class);
    assertThat(tokenRequest.getSpec().getExpirationSeconds()).isEqualTo(600L);
    verify(
        getRequestedFor(urlPathEqualTo(CRB_PATH))
            .withQueryParam("labelSelector", equalTo(KubeStubs.selector(ALICE))));
    verify(
        getRequestedFor(urlPathEqualTo(RB_ALL_PATH))
            .withQueryParam("labelSelector", equalTo(KubeStubs.selector(ALICE))));
  }

  @Test
  void unchangedGrantMakesNoCallsAndRefreshesExpiresAtOnceAMinute() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    KubernetesAccountProvisioner provisioner = builder().build();
    Grant grant = grant("g-1", ALICE, EDIT_TEAM_A);
    provisioner.ensure(grant);
    resetAllRequests();

    clock.advance(Duration.ofSeconds(59));
    ProvisionedAccount again = provisioner.ensure(grant);

    assertThat(again.token()).isEqualTo("tok-1");
    assertThat(getAllServeEvents()).isEmpty();

    clock.advance(Duration.ofSeconds(2));
    provisioner.ensure(grant);
    provisioner.ensure(grant);

    assertThat(getAllServeEvents()).hasSize(1);
    LoggedRequest refresh =
        requests(patchRequestedFor(urlPathEqualTo(KubeStubs.saPath(KubeStubs.saName(ALICE))))).get(0);
    assertThat(refresh.getHeader("Content-Type")).startsWith("application/merge-patch+json");
    V1ServiceAccount patch = body(refresh, V1ServiceAccount.class);
    assertThat(patch.getMetadata().getAnnotations())
        .containsEntry(
            "jitaccess.dev/expires-at", T0.plusSeconds(61).plus(Duration.ofHours(8)).toString());
  }

  @Test
  void narrowedGrantDeletesTheBindingItNoLongerContains() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    KubernetesAccountProvisioner provisioner = builder().build();
    provisioner.ensure(grant("g-1", ALICE, EDIT_TEAM_A, VIEW_ALL));
    KubeStubs.stubBindingLists(
        List.of(KubeStubs.managedClusterBinding(ALICE, "view")),
        List.of(KubeStubs.managedBinding(ALICE, "edit", "team-a")));
    String crbName = KubeStubs.bindingName(ALICE, VIEW_ALL);
    stubFor(
        com.github.tomakehurst.wiremock.client.WireMock.delete(
                urlPathEqualTo(KubeStubs.crbPath(crbName)))
            .willReturn(KubeStubs.deleted("clusterrolebindings", crbName)));
    resetAllRequests();

    provisioner.ensure(grant("g-2", ALICE, EDIT_TEAM_A));

    verify(1, deleteRequestedFor(urlPathEqualTo(KubeStubs.crbPath(crbName))));
    verify(0, deleteRequestedFor(urlPathMatching(".*/rolebindings/.*")));
    verify(0, postRequestedFor(anyUrl()));
    verify(1, patchRequestedFor(urlPathEqualTo(KubeStubs.saPath(KubeStubs.saName(ALICE)))));
  }

  @Test
  void existingAccountWithOurMarksIsAdoptedOn409() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);
    stubFor(post(urlPathEqualTo(SA_PATH)).willReturn(KubeStubs.alreadyExists()));
    stubFor(
        get(urlPathEqualTo(KubeStubs.saPath(sa)))
            .willReturn(json(200, KubeStubs.managedAccount(ALICE, "2026-01-01T00:00:00Z"))));

    ProvisionedAccount account = builder().build().ensure(grant("g-1", ALICE, VIEW_ALL));

    assertThat(account.serviceAccount()).isEqualTo(sa);
    V1ServiceAccount patch =
        body(requests(patchRequestedFor(urlPathEqualTo(KubeStubs.saPath(sa)))).get(0), V1ServiceAccount.class);
    assertThat(patch.getMetadata().getAnnotations())
        .containsEntry("jitaccess.dev/expires-at", T0.plus(Duration.ofHours(8)).toString())
        .containsEntry("jitaccess.dev/grant-id", "g-1");
    verify(1, postRequestedFor(urlPathEqualTo(CRB_PATH)));
  }

  @Test
  void foreignAccountOn409IsRefusedAndNothingIsBound() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);
    V1ServiceAccount squatter = KubeStubs.managedAccount(ALICE, null);
    squatter.getMetadata().labels(java.util.Map.of("app", "something-else"));
    stubFor(post(urlPathEqualTo(SA_PATH)).willReturn(KubeStubs.alreadyExists()));
    stubFor(get(urlPathEqualTo(KubeStubs.saPath(sa))).willReturn(json(200, squatter)));
    KubernetesAccountProvisioner provisioner = builder().build();

    assertThatThrownBy(() -> provisioner.ensure(grant("g-1", ALICE, VIEW_ALL)))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(409);
              assertThat(e.isRetryable()).isFalse();
            })
        .hasMessageContaining(sa)
        .hasMessageContaining("refusing to adopt");
    verify(0, postRequestedFor(urlPathEqualTo(CRB_PATH)));
    verify(0, postRequestedFor(urlPathEqualTo(KubeStubs.tokenPath(sa))));
    verify(0, patchRequestedFor(anyUrl()));
  }

  @Test
  void accountOfAnotherSubjectIsNotAdoptedEvenWithTheManagedByLabel() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);
    V1ServiceAccount other = KubeStubs.managedAccount(ALICE, null);
    other.getMetadata().annotations(java.util.Map.of("jitaccess.dev/subject", "mallory"));
    stubFor(post(urlPathEqualTo(SA_PATH)).willReturn(KubeStubs.alreadyExists()));
    stubFor(get(urlPathEqualTo(KubeStubs.saPath(sa))).willReturn(json(200, other)));

    assertThatThrownBy(() -> builder().build().ensure(grant("g-1", ALICE, VIEW_ALL)))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("refusing to adopt");
    verify(0, postRequestedFor(urlPathEqualTo(CRB_PATH)));
  }

  @Test
  void foreignBindingOn409IsRefusedAndNoTokenIsIssued() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String crbName = KubeStubs.bindingName(ALICE, VIEW_ALL);
    V1ClusterRoleBinding squatter = KubeStubs.managedClusterBinding(ALICE, "cluster-admin");
    squatter.getMetadata().name(crbName).labels(java.util.Map.of());
    stubFor(post(urlPathEqualTo(CRB_PATH)).willReturn(KubeStubs.alreadyExists()));
    stubFor(get(urlPathEqualTo(KubeStubs.crbPath(crbName))).willReturn(json(200, squatter)));

    assertThatThrownBy(() -> builder().build().ensure(grant("g-1", ALICE, VIEW_ALL)))
        .isInstanceOfSatisfying(
            ProvisioningException.class, e -> assertThat(e.statusCode()).isEqualTo(409))
        .hasMessageContaining("clusterrolebinding/" + crbName);
    verify(0, postRequestedFor(urlPathEqualTo(KubeStubs.tokenPath(KubeStubs.saName(ALICE)))));
  }

  @Test
  void invalid422IsNotRetried() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .willReturn(KubeStubs.status(422, "Invalid", "ServiceAccount is invalid")));

    assertThatThrownBy(() -> builder().build().ensure(grant("g-1", ALICE, VIEW_ALL)))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(422);
              assertThat(e.isRetryable()).isFalse();
            })
        .hasMessageContaining("422")
        .hasMessageContaining("Invalid");
    // One write, never repeated; the binding lists (reads) ran beside it.
    assertThat(getAllServeEvents())
        .filteredOn(e -> !e.getRequest().getMethod().getName().equals("GET"))
        .singleElement()
        .satisfies(e -> assertThat(e.getRequest().getUrl()).startsWith(SA_PATH));
    verify(1, postRequestedFor(urlPathEqualTo(SA_PATH)));
    assertThat(sleeper.waits).isEmpty();
  }

  @Test
  void tooManyRequestsWaitsAtLeastRetryAfterThenSucceeds() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .inScenario("throttled")
            .willReturn(
                KubeStubs.status(429, "TooManyRequests", "slow down").withHeader("Retry-After", "7"))
            .willSetStateTo("calm"));
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .inScenario("throttled")
            .whenScenarioStateIs("calm")
            .willReturn(json(201, KubeStubs.managedAccount(ALICE, null))));
    stubFor(get(urlPathEqualTo(KubeStubs.saPath(sa))).willReturn(KubeStubs.notFound()));

    ProvisionedAccount account = builder().build().ensure(grant("g-1", ALICE, VIEW_ALL));

    assertThat(account.token()).isEqualTo("tok-1");
    assertThat(sleeper.waits).singleElement().satisfies(w -> assertThat(w).isGreaterThanOrEqualTo(Duration.ofSeconds(7)));
    verify(2, postRequestedFor(urlPathEqualTo(SA_PATH)));
  }

  @Test
  void retryAfterLongerThanTheLimitFailsAtOnceAsRetryable() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .willReturn(
                KubeStubs.status(429, "TooManyRequests", "slow down").withHeader("Retry-After", "600")));

    assertThatThrownBy(() -> builder().build().ensure(grant("g-1", ALICE, VIEW_ALL)))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(429);
              assertThat(e.isRetryable()).isTrue();
            });
    assertThat(sleeper.waits).isEmpty();
  }

  @Test
  void serverErrorIsRetriedWithAReadBeforeCreatingAgain() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .inScenario("flaky")
            .willReturn(KubeStubs.status(500, "InternalError", "etcd hiccup"))
            .willSetStateTo("ok"));
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .inScenario("flaky")
            .whenScenarioStateIs("ok")
            .willReturn(json(201, KubeStubs.managedAccount(ALICE, null))));
    stubFor(get(urlPathEqualTo(KubeStubs.saPath(sa))).willReturn(KubeStubs.notFound()));

    builder().build().ensure(grant("g-1", ALICE, VIEW_ALL));

    List<String> accountCalls =
        getAllServeEvents().stream()
            .map(e -> e.getRequest())
            .filter(r -> r.getUrl().startsWith(SA_PATH) && !r.getUrl().endsWith("/token"))
            .map(r -> r.getMethod() + " " + r.getUrl())
            .collect(Collectors.toList());
    // newest first
    assertThat(accountCalls)
        .containsExactly("POST " + SA_PATH, "GET " + KubeStubs.saPath(sa), "POST " + SA_PATH);
    assertThat(sleeper.waits)
        .singleElement()
        .satisfies(w -> assertThat(w).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(5)));
  }

  @Test
  void serverErrorAfterTheCreateWentThroughAdoptsInsteadOfCreatingTwice() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .willReturn(KubeStubs.status(503, "ServiceUnavailable", "try again")));
    stubFor(
        get(urlPathEqualTo(KubeStubs.saPath(sa)))
            .willReturn(json(200, KubeStubs.managedAccount(ALICE, null))));

    ProvisionedAccount account = builder().build().ensure(grant("g-1", ALICE, VIEW_ALL));

    assertThat(account.token()).isEqualTo("tok-1");
    verify(1, postRequestedFor(urlPathEqualTo(SA_PATH)));
    verify(1, getRequestedFor(urlPathEqualTo(KubeStubs.saPath(sa))));
  }

  @Test
  void timeoutIsRetried(WireMockRuntimeInfo wm) {
    ApiClient impatient =
        new ClientBuilder()
            .setBasePath(wm.getHttpBaseUrl())
            .setReadTimeout(READ_TIMEOUT)
            .build();
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String sa = KubeStubs.saName(ALICE);
    stubFor(
        post(urlPathEqualTo(KubeStubs.tokenPath(sa)))
            .inScenario("slow")
            .willReturn(
                json(201, KubeStubs.tokenAnswer(ALICE, "tok-late", 600, T0.plusSeconds(600)))
                    .withFixedDelay(SLOW_ANSWER_MILLIS))
            .willSetStateTo("fast"));
    stubFor(
        post(urlPathEqualTo(KubeStubs.tokenPath(sa)))
            .inScenario("slow")
            .whenScenarioStateIs("fast")
            .willReturn(json(201, KubeStubs.tokenAnswer(ALICE, "tok-2", 600, T0.plusSeconds(600)))));
    KubernetesAccountProvisioner provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(impatient)
            .allowedClusterRoles(Set.of("view"))
            .clock(clock)
            .sleeper(sleeper)
            .build();

    ProvisionedAccount account = provisioner.ensure(grant("g-1", ALICE, VIEW_ALL));

    assertThat(account.token()).isEqualTo("tok-2");
    assertThat(sleeper.waits).hasSize(1);
    verify(2, postRequestedFor(urlPathEqualTo(KubeStubs.tokenPath(sa))));
  }

  @Test
  void timeoutEveryTimeGivesUpAsRetryableAfterMaxAttempts(WireMockRuntimeInfo wm) {
    ApiClient impatient =
        new ClientBuilder()
            .setBasePath(wm.getHttpBaseUrl())
            .setReadTimeout(READ_TIMEOUT)
            .build();
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    stubFor(
        post(urlPathEqualTo(SA_PATH))
            .willReturn(json(201, KubeStubs.managedAccount(ALICE, null)).withFixedDelay(SLOW_ANSWER_MILLIS)));
    stubFor(get(urlPathEqualTo(KubeStubs.saPath(KubeStubs.saName(ALICE)))).willReturn(KubeStubs.notFound()));
    KubernetesAccountProvisioner provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(impatient)
            .allowedClusterRoles(Set.of("view"))
            .clock(clock)
            .maxAttempts(2)
            .sleeper(sleeper)
            .build();

    assertThatThrownBy(() -> provisioner.ensure(grant("g-1", ALICE, VIEW_ALL)))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isZero();
              assertThat(e.isRetryable()).isTrue();
            })
        .hasMessageContaining("no answer from kube-apiserver");
    verify(2, postRequestedFor(urlPathEqualTo(SA_PATH)));
  }

  @Test
  void shorterTokenExpiryThanAskedIsUsedAndRefreshedBeforeIt() {
    KubeStubs.stubFirstProvision(ALICE, "tok-short", T0.plus(Duration.ofMinutes(5)));
    KubernetesAccountProvisioner provisioner = builder().build();
    Grant grant = grant("g-1", ALICE, VIEW_ALL);

    ProvisionedAccount first = provisioner.ensure(grant);

    assertThat(first.tokenExpiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(5)));
    String tokenPath = KubeStubs.tokenPath(KubeStubs.saName(ALICE));
    stubFor(
        post(urlPathEqualTo(tokenPath))
            .willReturn(
                json(201, KubeStubs.tokenAnswer(ALICE, "tok-next", 600, T0.plus(Duration.ofMinutes(13))))));
    clock.advance(Duration.ofSeconds(170)); // 2:10 left: still usable
    assertThat(provisioner.ensure(grant).token()).isEqualTo("tok-short");
    clock.advance(Duration.ofSeconds(20)); // 1:50 left: refresh
    ProvisionedAccount refreshed = provisioner.ensure(grant);

    assertThat(refreshed.token()).isEqualTo("tok-next");
    assertThat(refreshed.tokenExpiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(13)));
    verify(2, postRequestedFor(urlPathEqualTo(tokenPath)));
  }

  @Test
  void longTokenIsRefreshedWhenLessThanAFifthOfItsLifeRemains() {
    KubeStubs.stubFirstProvision(ALICE, "tok-hour", T0.plus(Duration.ofHours(1)));
    KubernetesAccountProvisioner provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(client)
            .allowedClusterRoles(Set.of("view"))
            .tokenTtl(Duration.ofHours(1))
            .tokenAudiences(List.of("https://kubernetes.default.svc"))
            .clock(clock)
            .sleeper(sleeper)
            .build();
    Grant grant = grant("g-1", ALICE, VIEW_ALL);
    provisioner.ensure(grant);
    String tokenPath = KubeStubs.tokenPath(KubeStubs.saName(ALICE));
    AuthenticationV1TokenRequest asked =
        body(requests(postRequestedFor(urlPathEqualTo(tokenPath))).get(0), AuthenticationV1TokenRequest.class);
    assertThat(asked.getSpec().getExpirationSeconds()).isEqualTo(3600L);
    assertThat(asked.getSpec().getAudiences()).containsExactly("https://kubernetes.default.svc");
    stubFor(
        post(urlPathEqualTo(tokenPath))
            .willReturn(json(201, KubeStubs.tokenAnswer(ALICE, "tok-hour-2", 3600, T0.plus(Duration.ofHours(2))))));

    clock.advance(Duration.ofMinutes(47));
    assertThat(provisioner.ensure(grant).token()).isEqualTo("tok-hour");
    clock.advance(Duration.ofMinutes(2)); // 11 minutes left < 12 minutes (20%)
    assertThat(provisioner.ensure(grant).token()).isEqualTo("tok-hour-2");
    verify(2, postRequestedFor(urlPathEqualTo(tokenPath)));
  }

  @Test
  void removeToleratesNotFoundAndForgetsTheAccount() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    KubernetesAccountProvisioner provisioner = builder().build();
    Grant grant = grant("g-1", ALICE, VIEW_ALL);
    provisioner.ensure(grant);
    String sa = KubeStubs.saName(ALICE);
    String crbName = KubeStubs.bindingName(ALICE, VIEW_ALL);
    stubFor(
        com.github.tomakehurst.wiremock.client.WireMock.delete(urlPathEqualTo(KubeStubs.saPath(sa)))
            .willReturn(KubeStubs.notFound()));
    KubeStubs.stubBindingLists(List.of(KubeStubs.managedClusterBinding(ALICE, "view")), List.of());
    stubFor(
        com.github.tomakehurst.wiremock.client.WireMock.delete(urlPathEqualTo(KubeStubs.crbPath(crbName)))
            .willReturn(KubeStubs.notFound()));
    resetAllRequests();

    provisioner.remove(ALICE);
    provisioner.remove(" " + ALICE + " ");

    verify(2, deleteRequestedFor(urlPathEqualTo(KubeStubs.saPath(sa))));
    verify(2, deleteRequestedFor(urlPathEqualTo(KubeStubs.crbPath(crbName))));

    KubeStubs.stubBindingLists(List.of(), List.of());
    resetAllRequests();
    provisioner.ensure(grant);
    verify(1, postRequestedFor(urlPathEqualTo(SA_PATH)));
  }

  @Test
  void roleOutsideTheAllowListIsRefusedWithoutAnyRequest() {
    KubernetesAccountProvisioner provisioner = builder().build();

    assertThatThrownBy(
            () -> provisioner.ensure(grant("g-1", ALICE, VIEW_ALL, Permission.clusterWide("cluster-admin"))))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isZero();
              assertThat(e.isRetryable()).isFalse();
            })
        .hasMessageContaining("cluster-admin")
        .hasMessageContaining("allowedClusterRoles");
    verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void emptyAllowListRefusesEverything() {
    KubernetesAccountProvisioner provisioner =
        KubernetesAccountProvisioner.builder().apiClient(client).clock(clock).sleeper(sleeper).build();

    assertThatThrownBy(() -> provisioner.ensure(grant("g-1", ALICE, VIEW_ALL)))
        .isInstanceOf(ProvisioningException.class);
    verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void deniedNamespaceIsRefusedWithoutAnyRequest() {
    KubernetesAccountProvisioner provisioner = builder().build();

    assertThatThrownBy(
            () -> provisioner.ensure(grant("g-1", ALICE, EDIT_TEAM_A, Permission.inNamespace("view", "kube-system"))))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isZero();
              assertThat(e.isRetryable()).isFalse();
            })
        .hasMessageContaining("kube-system");
    verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void hostileSubjectIdsGiveValidDistinctNamesAndTheRawIdOnlyInTheAnnotation() {
    List<String> hostile =
        List.of(
            "Alice@Example.COM",
            "alice@example.com",
            "../admin",
            "x".repeat(300),
            "system:serviceaccount:kube-system:x",
            "a.b",
            "a-b");
    KubernetesAccountProvisioner provisioner = builder().build();
    for (String subject : hostile) {
      KubeStubs.stubFirstProvision(subject, "tok", T0.plusSeconds(600));
      provisioner.ensure(grant("g-" + Math.abs(subject.hashCode()), subject, VIEW_ALL));
    }

    List<V1ServiceAccount> created =
        requests(postRequestedFor(urlPathEqualTo(SA_PATH))).stream()
            .map(r -> KubeStubs.<V1ServiceAccount>body(r, V1ServiceAccount.class))
            .collect(Collectors.toList());
    assertThat(created).hasSize(hostile.size());
    assertThat(created.stream().map(sa -> sa.getMetadata().getName()).distinct()).hasSize(hostile.size());
    for (V1ServiceAccount sa : created) {
      String name = sa.getMetadata().getName();
      String subject = sa.getMetadata().getAnnotations().get("jitaccess.dev/subject");
      assertThat(name).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
      assertThat(sa.getMetadata().getLabels().get("jitaccess.dev/subject-hash"))
          .hasSizeLessThanOrEqualTo(63)
          .matches("[a-z0-9]+");
      assertThat(subject).isIn(hostile);
      assertThat(name).doesNotContain("admin", "alice", "kube-system", "xxxx");
    }
    List<String> bindingNames =
        requests(postRequestedFor(urlPathEqualTo(CRB_PATH))).stream()
            .map(r -> KubeStubs.<V1ClusterRoleBinding>body(r, V1ClusterRoleBinding.class).getMetadata().getName())
            .collect(Collectors.toList());
    assertThat(bindingNames).hasSize(hostile.size()).doesNotHaveDuplicates();
    assertThat(bindingNames).allSatisfy(n -> assertThat(n).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?"));
  }

  @Test
  void failureAfterTheAccountLeavesNoUnownedBindingAndIsReconciledNextTime() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    stubFor(
        post(urlPathEqualTo(CRB_PATH))
            .willReturn(KubeStubs.status(403, "Forbidden", "cannot bind clusterrole view")));
    KubernetesAccountProvisioner provisioner = builder().build();
    Grant grant = grant("g-1", ALICE, VIEW_ALL);

    assertThatThrownBy(() -> provisioner.ensure(grant))
        .isInstanceOfSatisfying(
            ProvisioningException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(403);
              assertThat(e.isRetryable()).isFalse();
            })
        .hasMessageContaining("deploy/agent-rbac.yaml");
    List<String> order =
        getAllServeEvents().stream()
            .map(e -> e.getRequest().getMethod() + " " + e.getRequest().getUrl().replaceAll("\\?.*", ""))
            .filter(c -> c.startsWith("POST"))
            .collect(Collectors.toList());
    assertThat(order).containsExactly("POST " + CRB_PATH, "POST " + SA_PATH); // newest first
    verify(0, postRequestedFor(urlPathEqualTo(KubeStubs.tokenPath(KubeStubs.saName(ALICE)))));

    stubFor(
        post(urlPathEqualTo(CRB_PATH))
            .willReturn(json(201, KubeStubs.managedClusterBinding(ALICE, "view"))));
    resetAllRequests();
    ProvisionedAccount account = provisioner.ensure(grant);

    assertThat(account.token()).isEqualTo("tok-1");
    verify(1, getRequestedFor(urlPathEqualTo(CRB_PATH)));
    verify(1, postRequestedFor(urlPathEqualTo(CRB_PATH)));
  }

  @Test
  void accountDeletedBehindOurBackIsProvisionedAgainOnTheNextRefresh() {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    KubernetesAccountProvisioner provisioner = builder().build();
    Grant grant = grant("g-1", ALICE, VIEW_ALL);
    provisioner.ensure(grant);
    String sa = KubeStubs.saName(ALICE);
    stubFor(
        com.github.tomakehurst.wiremock.client.WireMock.patch(urlPathEqualTo(KubeStubs.saPath(sa)))
            .willReturn(KubeStubs.notFound()));
    stubFor(
        post(urlPathEqualTo(KubeStubs.tokenPath(sa)))
            .willReturn(json(201, KubeStubs.tokenAnswer(ALICE, "tok-2", 600, T0.plusSeconds(700)))));
    resetAllRequests();
    clock.advance(Duration.ofSeconds(61));

    ProvisionedAccount account = provisioner.ensure(grant);

    assertThat(account.token()).isEqualTo("tok-2"); // the old token died with the old account
    verify(1, postRequestedFor(urlPathEqualTo(SA_PATH)));
    verify(1, postRequestedFor(urlPathEqualTo(CRB_PATH)));
  }

  @Test
  void tokensNeverReachTheLogsAndHappyPathsLogNoWarning() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.jitaccess");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    ch.qos.logback.classic.Level before = logger.getLevel();
    logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
    logger.addAppender(appender);
    try {
      KubeStubs.stubFirstProvision(ALICE, "secret-token-value", T0.plusSeconds(600));
      KubernetesAccountProvisioner provisioner = builder().build();
      provisioner.ensure(grant("g-1", ALICE, VIEW_ALL, EDIT_TEAM_A));
      clock.advance(Duration.ofMinutes(9));
      provisioner.ensure(grant("g-1", ALICE, VIEW_ALL, EDIT_TEAM_A));
      provisioner.remove(ALICE);
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(before);
    }

    assertThat(appender.list).isNotEmpty();
    assertThat(appender.list)
        .allSatisfy(
            event -> {
              assertThat(event.getFormattedMessage()).doesNotContain("secret-token-value");
              assertThat(event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN)).isFalse();
            });
  }

  @Test
  void builderRejectsBadSettingsAtOnce() {
    assertThatThrownBy(() -> KubernetesAccountProvisioner.builder().tokenTtl(Duration.ofMinutes(9)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT9M");
    assertThatThrownBy(() -> KubernetesAccountProvisioner.builder().namespace("Bad_NS"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Bad_NS");
    assertThatThrownBy(() -> KubernetesAccountProvisioner.builder().idleTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KubernetesAccountProvisioner.builder().namespace("a").namespace("b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already set");
    assertThatThrownBy(
            () -> KubernetesAccountProvisioner.builder().apiClient(client).namespace("kube-system").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("deniedNamespaces");
  }
}
