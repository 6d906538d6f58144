package dev.jitaccess.k8s;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.patchRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.resetAllRequests;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.CRB_PATH;
import static dev.jitaccess.k8s.KubeStubs.SA_PATH;
import static dev.jitaccess.k8s.KubeStubs.json;
import static dev.jitaccess.k8s.KubeStubs.requests;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.ALICE;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.EDIT_TEAM_A;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.T0;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.VIEW_ALL;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.grant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.testkit.MutableInstantSource;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SECURITY 24: every kube-apiserver fault at every provisioning step gets the reaction the provisioner
 * documents (KubernetesAccountProvisioner "Failures", KubeCalls): 429, 500, 503, 504, resets and timeouts are
 * retried with capped, jittered backoff, a bounded number of times, a 429 waiting at least its Retry-After
 * (and failing at once when that is longer than maxRetryAfter); 409 adopts our own object on a create and
 * fails at once elsewhere; 422 fails at once. A failed step stops the provisioning: no later step runs and
 * no token is handed out. Retries wait through the injected sleeper, never in real time.
 *
 * <p>Resets are injected with OkHttp's own retry on connection failure switched off, to pin the provisioner's
 * reaction; with client-java's default client OkHttp re-sends on its own as well (the last two tests).
 */
@WireMockTest
final class KubernetesAccountProvisionerFaultMatrixTest {
  /** The documented default of {@code maxAttempts}. */
  private static final int DEFAULT_ATTEMPTS = 4;
  /** Timeouts cost real time, so the hang cases use two attempts instead of the default four. */
  private static final int HANG_ATTEMPTS = 2;
  // Generous enough that the quick calls never time out on a loaded machine; the hang answers after 4x that.
  private static final Duration READ_TIMEOUT = Duration.ofMillis(500);
  private static final int HANG_MILLIS = 2_000;
  private static final Duration RETRY_AFTER = Duration.ofSeconds(7);

  private static final String SA = KubeStubs.saName(ALICE);
  private static final String CRB = KubeStubs.bindingName(ALICE, VIEW_ALL);
  private static final String RB = KubeStubs.bindingName(ALICE, EDIT_TEAM_A);
  private static final String TOKEN_PATH = KubeStubs.tokenPath(SA);
  private static final String RB_PATH = KubeStubs.rbPath("team-a");

  /** Each call the provisioning makes that writes; the creates read back their object before creating again. */
  enum Step {
    SERVICE_ACCOUNT_CREATE("create ServiceAccount jit-access/" + SA),
    CLUSTER_ROLE_BINDING_CREATE("create ClusterRoleBinding " + CRB),
    ROLE_BINDING_CREATE("create RoleBinding team-a/" + RB),
    TOKEN_REQUEST("request a token for ServiceAccount jit-access/" + SA),
    ANNOTATION_PATCH("update the annotations of ServiceAccount jit-access/" + SA);

    final String what;

    Step(String what) {
      this.what = what;
    }

    boolean isCreate() {
      return this == SERVICE_ACCOUNT_CREATE
          || this == CLUSTER_ROLE_BINDING_CREATE
          || this == ROLE_BINDING_CREATE;
    }

    MappingBuilder call() {
      return switch (this) {
        case SERVICE_ACCOUNT_CREATE -> post(urlPathEqualTo(SA_PATH));
        case CLUSTER_ROLE_BINDING_CREATE -> post(urlPathEqualTo(CRB_PATH));
        case ROLE_BINDING_CREATE -> post(urlPathEqualTo(RB_PATH));
        case TOKEN_REQUEST -> post(urlPathEqualTo(TOKEN_PATH));
        default -> patch(urlPathEqualTo(KubeStubs.saPath(SA)));
      };
    }

    RequestPatternBuilder calls() {
      return switch (this) {
        case SERVICE_ACCOUNT_CREATE -> postRequestedFor(urlPathEqualTo(SA_PATH));
        case CLUSTER_ROLE_BINDING_CREATE -> postRequestedFor(urlPathEqualTo(CRB_PATH));
        case ROLE_BINDING_CREATE -> postRequestedFor(urlPathEqualTo(RB_PATH));
        case TOKEN_REQUEST -> postRequestedFor(urlPathEqualTo(TOKEN_PATH));
        default -> patchRequestedFor(urlPathEqualTo(KubeStubs.saPath(SA)));
      };
    }

    /** Where a create reads its object back (404 = not there, create again); null for the others. */
    @Nullable String readBackPath() {
      return switch (this) {
        case SERVICE_ACCOUNT_CREATE -> KubeStubs.saPath(SA);
        case CLUSTER_ROLE_BINDING_CREATE -> KubeStubs.crbPath(CRB);
        case ROLE_BINDING_CREATE -> KubeStubs.rbPath("team-a", RB);
        default -> null;
      };
    }

    /** The object as jit-access itself would have created it (what a 409 makes the create read back). */
    ResponseDefinitionBuilder ours() {
      return switch (this) {
        case SERVICE_ACCOUNT_CREATE -> json(200, KubeStubs.managedAccount(ALICE, T0.toString()));
        case CLUSTER_ROLE_BINDING_CREATE -> json(200, KubeStubs.managedClusterBinding(ALICE, "view"));
        case ROLE_BINDING_CREATE -> json(200, KubeStubs.managedBinding(ALICE, "edit", "team-a"));
        default -> throw new AssertionError(this + " creates nothing");
      };
    }

    ResponseDefinitionBuilder success() {
      return switch (this) {
        case SERVICE_ACCOUNT_CREATE -> json(201, KubeStubs.managedAccount(ALICE, null));
        case CLUSTER_ROLE_BINDING_CREATE -> json(201, KubeStubs.managedClusterBinding(ALICE, "view"));
        case ROLE_BINDING_CREATE -> json(201, KubeStubs.managedBinding(ALICE, "edit", "team-a"));
        case TOKEN_REQUEST -> json(201, KubeStubs.tokenAnswer(ALICE, "tok-1", 600, T0.plusSeconds(600)));
        default -> json(200, KubeStubs.managedAccount(ALICE, null));
      };
    }
  }

  /** What kube-apiserver does wrong, with the real Status bodies and headers. */
  enum KubeFault {
    CONFLICT_409(409),
    INVALID_422(422),
    TOO_MANY_REQUESTS_429(429),
    TOO_MANY_REQUESTS_429_RETRY_AFTER_TOO_LONG(429),
    INTERNAL_ERROR_500(500),
    SERVICE_UNAVAILABLE_503(503),
    GATEWAY_TIMEOUT_504(504),
    CONNECTION_RESET(0),
    HANG(0);

    final int status;

    KubeFault(int status) {
      this.status = status;
    }

    /** Retried with backoff, at most maxAttempts times in all. */
    boolean retried() {
      return !EnumSet.of(CONFLICT_409, INVALID_422, TOO_MANY_REQUESTS_429_RETRY_AFTER_TOO_LONG).contains(this);
    }

    ResponseDefinitionBuilder answer(Step step) {
      return switch (this) {
        case CONFLICT_409 ->
            step.isCreate()
                ? KubeStubs.status(409, "AlreadyExists", "\"" + SA + "\" already exists")
                : KubeStubs.status(
                    409,
                    "Conflict",
                    "Operation cannot be fulfilled on serviceaccounts \""
                        + SA
                        + "\": the object has been modified; please apply your changes to the latest"
                        + " version and try again");
        case INVALID_422 ->
            KubeStubs.status(422, "Invalid", "\"" + SA + "\" is invalid: metadata.annotations: Too long");
        case TOO_MANY_REQUESTS_429 ->
            KubeStubs.status(429, "TooManyRequests", "Too many requests, please try again later.")
                .withHeader("Retry-After", Long.toString(RETRY_AFTER.toSeconds()));
        case TOO_MANY_REQUESTS_429_RETRY_AFTER_TOO_LONG ->
            KubeStubs.status(429, "TooManyRequests", "Too many requests, please try again later.")
                .withHeader("Retry-After", "600");
        case INTERNAL_ERROR_500 ->
            KubeStubs.status(500, "InternalError", "Internal error occurred: etcdserver: leader changed");
        case SERVICE_UNAVAILABLE_503 ->
            KubeStubs.status(503, "ServiceUnavailable", "the server is currently unable to handle the request");
        case GATEWAY_TIMEOUT_504 ->
            KubeStubs.status(504, "Timeout", "Timeout: request did not complete within the allotted timeout");
        case CONNECTION_RESET -> aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER);
        case HANG -> step.success().withFixedDelay(HANG_MILLIS);
      };
    }
  }

  static Stream<Arguments> everyStepAndFault() {
    List<Arguments> cases = new ArrayList<>();
    for (Step step : Step.values()) {
      for (KubeFault fault : KubeFault.values()) {
        cases.add(Arguments.of(step, fault));
      }
    }
    return cases.stream();
  }

  static Stream<Arguments> everyStepAndRetriedFault() {
    return everyStepAndFault().filter(a -> ((KubeFault) a.get()[1]).retried());
  }

  MutableInstantSource clock;
  RecordingSleeper sleeper;
  String baseUrl;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    clock = MutableInstantSource.at(T0);
    sleeper = new RecordingSleeper();
    baseUrl = wm.getHttpBaseUrl();
  }

  KubernetesAccountProvisioner provisioner(KubeFault fault) {
    ClientBuilder client = new ClientBuilder().setBasePath(baseUrl);
    KubernetesAccountProvisioner.Builder builder =
        KubernetesAccountProvisioner.builder()
            .allowedClusterRoles(Set.of("view", "edit"))
            .clock(clock)
            .sleeper(sleeper);
    if (fault == KubeFault.HANG) {
      client.setReadTimeout(READ_TIMEOUT);
      builder.maxAttempts(HANG_ATTEMPTS);
    }
    ApiClient apiClient = client.build();
    if (fault == KubeFault.CONNECTION_RESET) {
      // client-java's OkHttp re-sends a request on its own after a connection failure (see
      // aResetWithClientJavasDefaultOkHttpIsStillBoundedAndBackedOff); the matrix pins the provisioner's own
      // reaction, so OkHttp's is switched off here.
      apiClient.setHttpClient(apiClient.getHttpClient().newBuilder().retryOnConnectionFailure(false).build());
    }
    return builder.apiClient(apiClient).build();
  }

  static int attempts(KubeFault fault) {
    return fault == KubeFault.HANG ? HANG_ATTEMPTS : DEFAULT_ATTEMPTS;
  }

  /** Everything answers as in a healthy cluster; the step under test and its read-back are stubbed after. */
  static void healthyCluster(Step step, KubeFault fault) {
    KubeStubs.stubFirstProvision(ALICE, "tok-1", T0.plusSeconds(600));
    String readBack = step.readBackPath();
    if (readBack != null) {
      stubFor(
          get(urlPathEqualTo(readBack))
              .willReturn(fault == KubeFault.CONFLICT_409 ? step.ours() : KubeStubs.notFound()));
    }
  }

  /**
   * The grant every case provisions. For the patch step it is provisioned once here already, and the clock
   * moved on a minute, so that the next ensure refreshes expires-at with a patch.
   */
  Grant grantReachingThe(Step step, KubernetesAccountProvisioner provisioner) {
    Grant grant = grant("g-1", ALICE, EDIT_TEAM_A, VIEW_ALL);
    if (step == Step.ANNOTATION_PATCH) {
      provisioner.ensure(grant);
      resetAllRequests();
      clock.advance(Duration.ofSeconds(61));
    }
    return grant;
  }

  /** Provisions with {@code fault} injected at {@code step} from the first attempt to the last. */
  ProvisionedAccount provisionWithFault(KubernetesAccountProvisioner provisioner, Step step, KubeFault fault) {
    Grant grant = grantReachingThe(step, provisioner);
    stubFor(step.call().willReturn(fault.answer(step)));
    return provisioner.ensure(grant);
  }

  /** With client-java's own ApiClient, as Config.defaultClient() would build it. */
  KubernetesAccountProvisioner provisionerWithClientJavasDefaultOkHttp() {
    return KubernetesAccountProvisioner.builder()
        .apiClient(new ClientBuilder().setBasePath(baseUrl).build())
        .allowedClusterRoles(Set.of("view", "edit"))
        .clock(clock)
        .sleeper(sleeper)
        .build();
  }

  @ParameterizedTest(name = "{1} at {0}")
  @MethodSource("everyStepAndFault")
  void aFaultThatPersistsGetsTheDocumentedReaction(Step step, KubeFault fault) {
    healthyCluster(step, fault);
    KubernetesAccountProvisioner provisioner = provisioner(fault);

    if (fault == KubeFault.CONFLICT_409 && step.isCreate()) {
      ProvisionedAccount account = provisionWithFault(provisioner, step, fault);
      // An object of ours that already exists is adopted, not created twice and not retried.
      assertThat(account.token()).isEqualTo("tok-1");
      verify(1, step.calls());
      verify(1, getRequestedFor(urlPathEqualTo(step.readBackPath())));
      assertThat(sleeper.waits).isEmpty();
      return;
    }

    ProvisioningException e =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisionWithFault(provisioner, step, fault));

    assertThat(e).as("%s at %s must fail the provisioning", fault, step).isNotNull();
    assertThat(e.statusCode()).isEqualTo(fault.status);
    assertThat(e.getMessage()).startsWith("Could not " + step.what).doesNotContain("tok-1");
    assertThat(e.getCause()).isNotNull(); // the ApiException, wrapped, never leaked
    int calls = fault.retried() ? attempts(fault) : 1;
    verify(calls, step.calls());
    if (step.isCreate()) {
      // Every retry of a create first reads the object back, in case the unanswered create went through.
      verify(calls - 1, getRequestedFor(urlPathEqualTo(step.readBackPath())));
    }
    if (fault.retried()) {
      assertThat(e.isRetryable()).isTrue();
      assertThat(e.getMessage()).contains("(gave up after " + calls + " attempts)");
      assertWaits(fault, calls - 1);
    } else {
      assertThat(sleeper.waits).isEmpty();
      assertThat(e.isRetryable()).isEqualTo(fault == KubeFault.TOO_MANY_REQUESTS_429_RETRY_AFTER_TOO_LONG);
    }
    assertThat(e.getMessage()).contains(expectedDetail(fault));
    assertNoLaterStep(step);
  }

  @ParameterizedTest(name = "{1} once at {0}")
  @MethodSource("everyStepAndRetriedFault")
  void aTransientFaultIsRetriedOnceAndTheProvisioningSucceeds(Step step, KubeFault fault) {
    healthyCluster(step, fault);
    KubernetesAccountProvisioner provisioner = provisioner(fault);
    Grant grant = grantReachingThe(step, provisioner);
    stubFor(
        step.call()
            .inScenario("transient")
            .whenScenarioStateIs(Scenario.STARTED)
            .willReturn(fault.answer(step))
            .willSetStateTo("recovered"));
    stubFor(
        step.call().inScenario("transient").whenScenarioStateIs("recovered").willReturn(step.success()));

    ProvisionedAccount account = provisioner.ensure(grant);

    assertThat(account.token()).isEqualTo("tok-1");
    assertThat(account.tokenExpiresAt()).isEqualTo(T0.plusSeconds(600));
    verify(2, step.calls());
    assertWaits(fault, 1);
    if (step.isCreate()) {
      verify(1, getRequestedFor(urlPathEqualTo(step.readBackPath())));
    }
  }

  @Test
  void aResetWithClientJavasDefaultOkHttpIsStillBoundedAndBackedOff() {
    Step step = Step.SERVICE_ACCOUNT_CREATE;
    healthyCluster(step, KubeFault.CONNECTION_RESET);
    KubernetesAccountProvisioner provisioner = provisionerWithClientJavasDefaultOkHttp();

    ProvisioningException e =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> provisionWithFault(provisioner, step, KubeFault.CONNECTION_RESET));

    assertThat(e).isNotNull();
    assertThat(e.isRetryable()).isTrue();
    assertThat(e.statusCode()).isZero();
    assertThat(e.getMessage()).contains("(gave up after " + DEFAULT_ATTEMPTS + " attempts)");
    assertWaits(KubeFault.CONNECTION_RESET, DEFAULT_ATTEMPTS - 1);
    // OkHttp (retryOnConnectionFailure, on in client-java's client) also re-sends at once, a few times per
    // attempt (7 to 14 requests in all were seen); the total stays bounded.
    assertThat(requests(step.calls())).hasSizeBetween(DEFAULT_ATTEMPTS, DEFAULT_ATTEMPTS * 10);
    assertNoLaterStep(step);
  }

  @Test
  @Disabled(
      "Known and documented (KubernetesAccountProvisioner 'Failures'): with client-java's default ApiClient,"
          + " OkHttp's retryOnConnectionFailure re-sends a reset request at once, below the provisioner's"
          + " attempts (a reset ServiceAccount create is POSTed 12-14 times instead of 4). The provisioner uses"
          + " the caller's ApiClient as given; deriving one with retries off would have to copy client-java's"
          + " authentication and default headers. aResetWithClientJavasDefaultOkHttpIsStillBoundedAndBackedOff"
          + " pins the bound")
  void aResetIsSentAtMostMaxAttemptsTimesWithClientJavasDefaultClient() {
    Step step = Step.SERVICE_ACCOUNT_CREATE;
    healthyCluster(step, KubeFault.CONNECTION_RESET);
    KubernetesAccountProvisioner provisioner = provisionerWithClientJavasDefaultOkHttp();

    catchThrowableOfType(
        ProvisioningException.class, () -> provisionWithFault(provisioner, step, KubeFault.CONNECTION_RESET));

    verify(DEFAULT_ATTEMPTS, step.calls());
    verify(DEFAULT_ATTEMPTS - 1, getRequestedFor(urlPathEqualTo(step.readBackPath())));
  }

  /** Backoff: 200 ms doubling up to 5 s with 25% jitter; a 429 waits at least its Retry-After. */
  private void assertWaits(KubeFault fault, int count) {
    assertThat(sleeper.waits).hasSize(count);
    for (int i = 0; i < count; i++) {
      Duration wait = sleeper.waits.get(i);
      if (fault == KubeFault.TOO_MANY_REQUESTS_429) {
        assertThat(wait).isGreaterThanOrEqualTo(RETRY_AFTER).isLessThanOrEqualTo(Duration.ofSeconds(30));
      } else {
        long nominal = Math.min(200L << i, 5_000L);
        assertThat(wait)
            .as("wait %d", i)
            .isBetween(Duration.ofMillis(nominal * 3 / 4), Duration.ofMillis(nominal * 5 / 4));
      }
    }
  }

  private static String expectedDetail(KubeFault fault) {
    return switch (fault) {
      case CONFLICT_409 -> "kube-apiserver answered 409 Conflict: Operation cannot be fulfilled";
      case INVALID_422 -> "Kubernetes rejected the object as invalid (422 Invalid:";
      case TOO_MANY_REQUESTS_429 -> "kube-apiserver answered 429 TooManyRequests";
      case TOO_MANY_REQUESTS_429_RETRY_AFTER_TOO_LONG -> "(Retry-After 600 s is longer than we wait)";
      case INTERNAL_ERROR_500 -> "kube-apiserver answered 500 InternalError";
      case SERVICE_UNAVAILABLE_503 -> "kube-apiserver answered 503 ServiceUnavailable";
      case GATEWAY_TIMEOUT_504 -> "kube-apiserver answered 504 Timeout";
      case CONNECTION_RESET -> "no answer from kube-apiserver (SocketException)";
      case HANG -> "no answer from kube-apiserver (SocketTimeoutException)";
    };
  }

  /** A failed step is the last: nothing is bound after a failed account, no token after a failed binding. */
  private static void assertNoLaterStep(Step step) {
    switch (step) {
      case SERVICE_ACCOUNT_CREATE -> {
        verify(0, postRequestedFor(urlPathEqualTo(CRB_PATH)));
        verify(0, postRequestedFor(urlPathEqualTo(RB_PATH)));
        verify(0, postRequestedFor(urlPathEqualTo(TOKEN_PATH)));
      }
      case CLUSTER_ROLE_BINDING_CREATE, ROLE_BINDING_CREATE ->
          verify(0, postRequestedFor(urlPathEqualTo(TOKEN_PATH)));
      // The cached token is not handed out and nothing else is touched.
      case ANNOTATION_PATCH -> verify(0, postRequestedFor(anyUrl()));
      case TOKEN_REQUEST -> {} // the last step
    }
  }
}
