package dev.jitaccess.k8s;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getAllServeEvents;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.Fixtures.AGENT_TOKEN;
import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static dev.jitaccess.k8s.Fixtures.forwarder;
import static dev.jitaccess.k8s.Fixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import dev.jitaccess.api.RelayException;
import io.kubernetes.client.openapi.ApiClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

@WireMockTest
final class KubernetesForwarderTest {
  private static final String PODS = "/api/v1/namespaces/default/pods";
  private static final String SECRET_VALUE = "s3cr3t-header-value";

  @Test
  void sendsTheServiceAccountTokenNotTheAgentsOwnAndDropsHopByHopAndCookies(WireMockRuntimeInfo wm)
      throws Exception {
    stubFor(get(PODS).willReturn(okJson("{\"kind\":\"PodList\",\"items\":[]}")));

    ForwardRequest request =
        ForwardRequest.of(
            "GET",
            PODS,
            headers(
                "Accept", "application/json",
                "User-Agent", "kubectl/v1.33.0",
                "Cookie", "session=" + SECRET_VALUE,
                "Keep-Alive", "timeout=5",
                "TE", "trailers",
                "Connection", "keep-alive, TE",
                "Upgrade", "websocket",
                "Proxy-Connection", "keep-alive",
                "Expect", "100-continue",
                "Host", "evil.example"));
    try (ForwardResponse response = forwarder(wm.getHttpBaseUrl()).forward(request, SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(200);
      assertThat(new String(response.body().readAllBytes(), StandardCharsets.UTF_8)).contains("PodList");
      assertThat(response.upgraded()).isEmpty();
    }

    verify(
        1,
        getRequestedFor(urlEqualTo(PODS))
            .withHeader("Authorization", equalTo("Bearer " + SA_TOKEN))
            .withHeader("Accept", equalTo("application/json"))
            .withHeader("User-Agent", equalTo("kubectl/v1.33.0"))
            .withHeader("Cookie", absent())
            .withHeader("Keep-Alive", absent())
            .withHeader("TE", absent())
            .withHeader("Upgrade", absent())
            .withHeader("Proxy-Connection", absent())
            .withHeader("Expect", absent()));
    ServeEvent event = getAllServeEvents().get(0);
    assertThat(event.getRequest().getHeaders().getHeader("Authorization").values())
        .containsExactly("Bearer " + SA_TOKEN)
        .noneMatch(v -> v.contains(AGENT_TOKEN));
    assertThat(event.getRequest().getHeader("Host")).doesNotContain("evil");
  }

  @Test
  void forwardAsyncOverPlainHttpNeverRunsOnTheCallersThreadAndRefusesAHostileTargetAtOnce(WireMockRuntimeInfo wm)
      throws Exception {
    stubFor(get(PODS).willReturn(okJson("{\"kind\":\"PodList\"}").withFixedDelay(300)));
    KubernetesForwarder forwarder = forwarder(wm.getHttpBaseUrl());
    assertThat(forwarder.isNonBlocking()).isTrue();

    long started = System.nanoTime();
    java.util.concurrent.CompletableFuture<ForwardResponse> answer =
        forwarder.forwardAsync(ForwardRequest.of("GET", PODS, Map.of()), SA_TOKEN);
    long returnedAfterMillis = (System.nanoTime() - started) / 1_000_000;

    assertThat(returnedAfterMillis).isLessThan(250); // the server answers after 300 ms; the caller did not wait
    try (ForwardResponse response = answer.get(5, java.util.concurrent.TimeUnit.SECONDS)) {
      assertThat(response.status()).isEqualTo(200);
      assertThat(new String(response.body().readAllBytes(), StandardCharsets.UTF_8)).contains("PodList");
    }
    assertThatThrownBy(() -> forwarder.forwardAsync(ForwardRequest.of("GET", "/api/v1/../secrets", Map.of()), SA_TOKEN))
        .isInstanceOf(IllegalArgumentException.class);
    forwarder.close();
  }

  @Test
  void passesTheQueryStringByteForByte(WireMockRuntimeInfo wm) throws Exception {
    String target =
        PODS
            + "?labelSelector=app%3Dweb%2Ctier+in+(a%2Cb)&fieldSelector=status.phase!%3DRunning"
            + "&limit=500&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ%3D%3D&watch=1&resourceVersion=";
    stubFor(any(anyUrl()).willReturn(okJson("{}")));

    try (ForwardResponse response =
        forwarder(wm.getHttpBaseUrl()).forward(ForwardRequest.of("GET", target, Map.of()), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(200);
    }

    assertThat(getAllServeEvents()).singleElement().satisfies(e -> assertThat(e.getRequest().getUrl()).isEqualTo(target));
  }

  @Test
  void prefixesTheApiClientBasePath(WireMockRuntimeInfo wm) throws Exception {
    stubFor(any(anyUrl()).willReturn(okJson("{}")));

    try (ForwardResponse response =
        forwarder(wm.getHttpBaseUrl() + "/k8s/clusters/c1/").forward(ForwardRequest.of("GET", "/version", Map.of()), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(200);
    }

    verify(1, getRequestedFor(urlEqualTo("/k8s/clusters/c1/version")));
  }

  @Test
  void sendsThePostBodyAndItsContentType(WireMockRuntimeInfo wm) throws Exception {
    stubFor(post(PODS).willReturn(aResponse().withStatus(201).withBody("{\"kind\":\"Pod\"}")));
    byte[] pod = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\"}}".getBytes(StandardCharsets.UTF_8);

    ForwardRequest request =
        new ForwardRequest(
            "POST", PODS, headers("Content-Type", "application/json"), new ByteArrayInputStream(pod), pod.length);
    try (ForwardResponse response = forwarder(wm.getHttpBaseUrl()).forward(request, SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(201);
    }

    verify(
        1,
        postRequestedFor(urlEqualTo(PODS))
            .withHeader("Content-Type", equalTo("application/json"))
            .withHeader("Content-Length", equalTo(String.valueOf(pod.length)))
            .withRequestBody(equalTo(new String(pod, StandardCharsets.UTF_8))));
  }

  @Test
  void returnsRedirectsWithoutFollowingThem(WireMockRuntimeInfo wm) throws Exception {
    stubFor(get(PODS).willReturn(aResponse().withStatus(302).withHeader("Location", "/api/v1/secrets")));
    stubFor(get("/api/v1/secrets").willReturn(okJson("{\"kind\":\"SecretList\"}")));

    try (ForwardResponse response =
        forwarder(wm.getHttpBaseUrl()).forward(ForwardRequest.of("GET", PODS, Map.of()), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(302);
      assertThat(response.headers().get("location")).containsExactly("/api/v1/secrets");
    }

    verify(1, anyRequestedFor(anyUrl()));
  }

  @Test
  void doesNotRetryServerErrors(WireMockRuntimeInfo wm) throws Exception {
    stubFor(get(PODS).willReturn(aResponse().withStatus(500).withBody("{\"kind\":\"Status\"}")));

    try (ForwardResponse response =
        forwarder(wm.getHttpBaseUrl()).forward(ForwardRequest.of("GET", PODS, Map.of()), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(500);
    }

    verify(1, anyRequestedFor(anyUrl()));
  }

  @Test
  void doesNotRetryA503WithRetryAfterZeroAndPassesTheHeaderBack(WireMockRuntimeInfo wm) throws Exception {
    // OkHttp repeats exactly this answer on its own, whatever retryOnConnectionFailure says
    stubFor(get(PODS).willReturn(aResponse().withStatus(503).withHeader("Retry-After", "0")));

    try (ForwardResponse response =
        forwarder(wm.getHttpBaseUrl()).forward(ForwardRequest.of("GET", PODS, Map.of()), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.headers().get("Retry-After")).containsExactly("0");
    }

    verify(1, anyRequestedFor(anyUrl()));
  }

  @Test
  void doesNotRetryWhenAPooledConnectionIsReset(WireMockRuntimeInfo wm) throws Exception {
    // OkHttp would silently repeat a request whose reused connection fails, unless told not to
    stubFor(get(PODS).inScenario("reset").whenScenarioStateIs(Scenario.STARTED)
        .willReturn(okJson("{}")).willSetStateTo("broken"));
    stubFor(get(PODS).inScenario("reset").whenScenarioStateIs("broken")
        .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    KubernetesForwarder forwarder = forwarder(wm.getHttpBaseUrl());
    ForwardRequest request = ForwardRequest.of("GET", PODS, Map.of());
    try (ForwardResponse response = forwarder.forward(request, SA_TOKEN)) {
      assertThat(response.body().readAllBytes()).isNotEmpty(); // connection goes back to the pool
    }

    assertThatThrownBy(() -> forwarder.forward(request, SA_TOKEN))
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("not retried")
        .hasMessageNotContaining(SA_TOKEN);

    verify(2, anyRequestedFor(anyUrl()));
  }

  static Stream<Arguments> refusedHeaders() {
    return Stream.of(
        Arguments.of("Impersonate-User", SECRET_VALUE, "Impersonate-User"),
        Arguments.of("impersonate-group", SECRET_VALUE, "impersonate-group"),
        Arguments.of("IMPERSONATE-UID", SECRET_VALUE, "IMPERSONATE-UID"),
        Arguments.of("Impersonate-Extra-Scopes", SECRET_VALUE, "Impersonate-Extra-Scopes"),
        Arguments.of("Impersonate-X", SECRET_VALUE, "Impersonate-X"),
        Arguments.of("Authorization", "Bearer " + SECRET_VALUE, "Authorization"),
        Arguments.of("authorization", "Basic " + SECRET_VALUE, "authorization"),
        Arguments.of("Proxy-Authorization", "Basic " + SECRET_VALUE, "Proxy-Authorization"),
        Arguments.of("X-Remote-User", SECRET_VALUE, "X-Remote-User"),
        Arguments.of(
            "Sec-WebSocket-Protocol",
            "v5.channel.k8s.io, Base64Url.Bearer.Authorization.K8s.Io." + SECRET_VALUE,
            "Sec-WebSocket-Protocol"),
        Arguments.of("Connection", "Authorization", "Connection"),
        Arguments.of("Connection", "close, Impersonate-User", "Connection"),
        Arguments.of("Connection", "keep-alive, X-Anything", "Connection"));
  }

  @ParameterizedTest
  @MethodSource("refusedHeaders")
  void refusesCredentialAndImpersonationHeadersBeforeAnyCall(
      String name, String value, String named, WireMockRuntimeInfo wm) {
    stubFor(any(anyUrl()).willReturn(okJson("{}")));
    ForwardRequest request = ForwardRequest.of("GET", PODS, headers("Accept", "application/json", name, value));

    assertThatThrownBy(() -> forwarder(wm.getHttpBaseUrl()).forward(request, SA_TOKEN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("header " + named)
        .hasMessageNotContaining(SECRET_VALUE)
        .hasMessageNotContaining(SA_TOKEN);
    verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void refusesAnImpersonationHeaderHiddenAmongRepeatedValues(WireMockRuntimeInfo wm) {
    ForwardRequest request =
        ForwardRequest.of("GET", PODS, Map.of("Accept", List.of("a"), "impersonate-user", List.of("a", "b")));

    assertThatThrownBy(() -> forwarder(wm.getHttpBaseUrl()).forward(request, SA_TOKEN))
        .isInstanceOf(IllegalArgumentException.class);
    verify(0, anyRequestedFor(anyUrl()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api/v1/../secrets",
        "/api/./v1",
        "/api/v1/..",
        "/api/%2e%2e/x",
        "/api/%2E./x",
        "/api/v1%2Fsecrets",
        "/api/v1%2fsecrets",
        "/api/v1%5csecrets",
        "/api/v1/%252e%252e/secrets",
        "//api",
        "/api//v1",
        "/api;x=y",
        "/api/v1#frag",
        "/api/v1\\secrets",
        "/api/v1/pods\u0000",
        "/api/v1/pods\r\nX: y",
        "/api/v1/p\u00f6ds",
        "/api/v1/pods%",
        "/api/v1/pods%zz",
        "/api/v1/pods?watch=1;x=y",
        "/api/v1/pods?a=<script>",
        "/api/v1/pods?a='x'",
        "api/v1/pods"
      })
  void refusesHostilePathsBeforeAnyCall(String target, WireMockRuntimeInfo wm) {
    stubFor(any(anyUrl()).willReturn(okJson("{}")));
    KubernetesForwarder forwarder = forwarder(wm.getHttpBaseUrl());

    assertThatThrownBy(() -> forwarder.forward(ForwardRequest.of("GET", target, Map.of()), SA_TOKEN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("path");
    verify(0, anyRequestedFor(anyUrl()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api/v1/namespaces/default/pods/web-0/log?follow=true&container=app",
        "/apis/apps/v1/namespaces/kube-system/deployments/coredns/scale",
        "/api/v1/namespaces/default/pods?labelSelector=a%2Fb%3Dc",
        "/api/v1/namespaces/default/services/https:web:443/proxy/metrics",
        "/openapi/v3?timeout=32s",
        "/version"
      })
  void forwardsOrdinaryKubernetesPaths(String target, WireMockRuntimeInfo wm) throws Exception {
    stubFor(any(anyUrl()).willReturn(okJson("{}")));

    try (ForwardResponse response =
        forwarder(wm.getHttpBaseUrl()).forward(ForwardRequest.of("GET", target, Map.of()), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(200);
    }
    assertThat(getAllServeEvents()).singleElement().satisfies(e -> assertThat(e.getRequest().getUrl()).isEqualTo(target));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "two words", "tok\r\nX-Injected: 1", "tök"})
  void refusesMalformedBearerTokensWithoutEchoingThem(String token, WireMockRuntimeInfo wm) {
    assertThatThrownBy(
            () -> forwarder(wm.getHttpBaseUrl()).forward(ForwardRequest.of("GET", PODS, Map.of()), token))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bearerToken")
        .satisfies(e -> assertThat(token.isEmpty() || !e.getMessage().contains(token)).isTrue());
    verify(0, anyRequestedFor(anyUrl()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"CONNECT", "TRACE", "PROPFIND"})
  void refusesMethodsKubernetesDoesNotServe(String method, WireMockRuntimeInfo wm) {
    assertThatThrownBy(
            () -> forwarder(wm.getHttpBaseUrl()).forward(ForwardRequest.of(method, PODS, Map.of()), SA_TOKEN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(method);
    verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void refusesAnUpgradeToAnUnknownProtocol(WireMockRuntimeInfo wm) {
    ForwardRequest request = ForwardRequest.of("GET", PODS, headers("Connection", "Upgrade", "Upgrade", "h2c"));

    assertThatThrownBy(() -> forwarder(wm.getHttpBaseUrl()).forward(request, SA_TOKEN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("h2c");
    verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void builderRequiresAnApiClientOnce() {
    assertThatThrownBy(() -> KubernetesForwarder.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("apiClient must be set");
    ApiClient apiClient = new ApiClient().setBasePath("http://localhost:1");
    assertThatThrownBy(() -> KubernetesForwarder.builder().apiClient(apiClient).apiClient(apiClient))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already set");
    assertThatThrownBy(() -> KubernetesForwarder.builder().apiClient(new ApiClient().setBasePath("ftp://x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http or https");
  }

  @Test
  void forwardRequestRejectsHeaderInjection() {
    assertThatThrownBy(() -> ForwardRequest.of("GET", PODS, headers("X-A", "1\r\nImpersonate-User: admin")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("X-A")
        .hasMessageNotContaining("admin");
    assertThatThrownBy(() -> ForwardRequest.of("GET", PODS, headers("X-A\r\nImpersonate-User", "admin")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ForwardRequest.of("GET /x HTTP/1.1", PODS, Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
