package dev.jitaccess.k8s;

import static dev.jitaccess.k8s.Fixtures.AGENT_TOKEN;
import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import io.kubernetes.client.openapi.ApiClient;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import java.lang.management.ManagementFactory;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The HTTP/2 path of {@link KubernetesForwarder}: body-less requests to an https server that speaks h2. */
final class KubernetesForwarderHttp2Test {
  private static final String EVENT = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\"}}\n";

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private H2TlsStub stub(H2TlsStub.Responder responder) throws Exception {
    H2TlsStub stub = H2TlsStub.start(responder);
    closeables.add(stub);
    return stub;
  }

  private KubernetesForwarder forwarder(ApiClient apiClient) {
    KubernetesForwarder forwarder = KubernetesForwarder.builder().apiClient(apiClient).build();
    closeables.add(forwarder);
    return forwarder;
  }

  private static ForwardRequest get(String target) {
    return ForwardRequest.of("GET", target, Fixtures.headers("Accept", "application/json", "Host", "evil.example"));
  }

  private static void watch(H2TlsStub.Stream s, Http2Headers request) {
    s.head(200, "content-type", "application/json");
    s.data(EVENT, false);
  }

  private static ForwardResponse head(CompletableFuture<ForwardResponse> future) throws Exception {
    return future.get(20, TimeUnit.SECONDS);
  }

  @Test
  void aGetGoesThroughNettyWithTheServiceAccountTokenAndTheExactPath() throws Exception {
    H2TlsStub stub =
        stub(
            (s, r) -> {
              s.head(200, "content-type", "application/json", "x-kept", "yes", "proxy-authenticate", "Basic");
              s.data("{\"kind\":\"NamespaceList\"}", true);
            });
    KubernetesForwarder forwarder = forwarder(stub.apiClient(stub.baseUrl("localhost") + "/k8s/clusters/c1"));

    TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
    try (ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/namespaces?limit=5&x=%41"), SA_TOKEN))) {
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.headers()).containsEntry("Content-Type", List.of("application/json"));
      assertThat(response.headers()).containsEntry("x-kept", List.of("yes"));
      assertThat(response.headers().keySet()).noneMatch(n -> n.startsWith(":")).doesNotContain("proxy-authenticate");
      assertThat(response.upgraded()).isEmpty();
      response.bodyPublisher().orElseThrow().subscribe(body);
      assertThat(new String(body.done.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).contains("NamespaceList");
      assertThatThrownBy(response::body).isInstanceOf(IllegalStateException.class);
    }
    assertThat(body.threadName).startsWith("jit-k8s-forward-");

    Http2Headers seen = stub.requests.get(0);
    assertThat(seen.get("authorization")).hasToString("Bearer " + SA_TOKEN).doesNotContain(AGENT_TOKEN);
    assertThat(seen.path()).hasToString("/k8s/clusters/c1/api/v1/namespaces?limit=5&x=%41");
    assertThat(seen.authority()).hasToString("localhost:" + stub.port());
    assertThat(seen.scheme()).hasToString("https");
    assertThat(seen.method()).hasToString("GET");
    assertThat(seen.get("accept")).hasToString("application/json");
    // Netty, not OkHttp: OkHttp would add these two, and announce a 16 MiB stream window
    assertThat(seen.contains("host")).isFalse();
    assertThat(seen.contains("user-agent")).isFalse();
    assertThat(seen.contains("accept-encoding")).isFalse();
    assertThat(stub.clientSettings.get(0).initialWindowSize()).isEqualTo(256 * 1024);
    // the connection window: 64 KiB initially, raised to 32 MiB right after the preface
    assertThat(65_535 + stub.connectionWindowUpdates.stream().mapToLong(Integer::longValue).sum())
        .isEqualTo(32 * 1024 * 1024);
  }

  @Test
  void aRedirectIsPassedBackAndNeverFollowedWithTheServiceAccountToken() throws Exception {
    H2TlsStub stub =
        stub(
            (s, r) -> {
              if (r.path().toString().endsWith("/api/v1/pods")) {
                s.head(302, "location", "/api/v1/secrets");
                s.data("", true);
              } else {
                s.head(200, "content-type", "application/json");
                s.data("{\"kind\":\"SecretList\"}", true);
              }
            });
    KubernetesForwarder forwarder = forwarder(stub.apiClient(stub.baseUrl("localhost")));

    try (ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/pods"), SA_TOKEN))) {
      assertThat(response.status()).isEqualTo(302);
      assertThat(response.headers()).containsEntry("location", List.of("/api/v1/secrets"));
    }

    assertThat(stub.requests).hasSize(1); // CVE-2020-8559: the Location was not requested with the token
    assertThat(stub.requests.get(0).path()).hasToString("/api/v1/pods");
  }

  /** A user's request is never retried: kube-apiserver's refusal, with its Retry-After, goes back as it came. */
  @ParameterizedTest
  @ValueSource(ints = {429, 500, 502, 503, 504})
  void anErrorStatusIsPassedBackUnchangedAndNotRetried(int status) throws Exception {
    H2TlsStub stub =
        stub(
            (s, r) -> {
              s.head(status, "content-type", "application/json", "retry-after", "0");
              s.data("{\"kind\":\"Status\",\"code\":" + status + "}", true);
            });
    KubernetesForwarder forwarder = forwarder(stub.apiClient(stub.baseUrl("localhost")));

    TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
    try (ForwardResponse response =
        head(forwarder.forwardAsync(ForwardRequest.of("POST", "/api/v1/namespaces", Map.of()), SA_TOKEN))) {
      assertThat(response.status()).isEqualTo(status);
      assertThat(response.headers()).containsEntry("retry-after", List.of("0"));
      response.bodyPublisher().orElseThrow().subscribe(body);
      assertThat(new String(body.done.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8))
          .isEqualTo("{\"kind\":\"Status\",\"code\":" + status + "}");
    }

    assertThat(stub.requests).hasSize(1);
  }

  @Test
  void theBlockingBodyReadsTheSameFramesAndThenThePublisherRefusesASubscriber() throws Exception {
    H2TlsStub stub =
        stub(
            (s, r) -> {
              s.head(200);
              s.data("first,", false);
              s.data("second", true);
            });
    KubernetesForwarder forwarder = forwarder(stub.apiClient());

    try (ForwardResponse response = forwarder.forward(get("/api/v1/pods"), SA_TOKEN)) {
      assertThat(new String(response.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("first,second");
      TestSubscriber late = new TestSubscriber(1);
      response.bodyPublisher().orElseThrow().subscribe(late);
      assertThatThrownBy(() -> late.done.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void aWatchDeliversItsFirstEventWhileOpenAndCloseResetsTheStream() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderHttp2Test::watch);
    KubernetesForwarder forwarder = forwarder(stub.apiClient());

    ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN));
    TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
    response.bodyPublisher().orElseThrow().subscribe(body);

    assertThat(body.first.get(10, TimeUnit.SECONDS)).isEqualTo(EVENT);
    assertThat(body.done).isNotDone();
    assertThat(stub.resetsReceived).isEmpty();

    response.close();
    response.close(); // idempotent
    await().atMost(Duration.ofSeconds(10)).until(() -> stub.resetsReceived.contains(Http2Error.CANCEL.code()));
    assertThatThrownBy(() -> body.done.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RelayException.class);
  }

  @Test
  void aSlowSubscriberHoldsTheServerBackToTheStreamWindow() throws Exception {
    byte[] eightMiB = new byte[8 * 1024 * 1024];
    new Random(42).nextBytes(eightMiB);
    H2TlsStub stub =
        stub(
            (s, r) -> {
              s.head(200, "content-type", "application/octet-stream");
              s.writeAll(eightMiB);
            });
    KubernetesForwarder forwarder = forwarder(stub.apiClient());

    ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/namespaces/a/pods/b/log"), SA_TOKEN));
    closeables.add(response);
    TestSubscriber body = new TestSubscriber(1);
    response.bodyPublisher().orElseThrow().subscribe(body);

    int window = 256 * 1024;
    int frame = 16 * 1024;
    await().atMost(Duration.ofSeconds(10)).until(() -> stub.dataBytesSent.get() >= window);
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> stub.dataBytesSent.get() <= window + frame && body.buffers.get() == 1);

    body.request(Long.MAX_VALUE);
    byte[] received = body.done.get(60, TimeUnit.SECONDS);
    assertThat(received).hasSize(eightMiB.length);
    assertThat(crc(received)).isEqualTo(crc(eightMiB));
  }

  private static long crc(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    return crc.getValue();
  }

  @Test
  void twoHundredIdleWatchesHoldNoThreads() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderHttp2Test::watch);
    ApiClient apiClient = stub.apiClient();
    int before = ManagementFactory.getThreadMXBean().getThreadCount();
    KubernetesForwarder forwarder = forwarder(apiClient);

    List<CompletableFuture<ForwardResponse>> watches = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      watches.add(forwarder.forwardAsync(get("/api/v1/pods?watch=1&n=" + i), SA_TOKEN));
    }
    CompletableFuture.allOf(watches.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    assertThat(ManagementFactory.getThreadMXBean().getThreadCount()).isLessThanOrEqualTo(before + 3);
    assertThat(stub.connections).hasValue(1);
    for (CompletableFuture<ForwardResponse> watch : watches) {
      watch.join().close();
    }
  }

  @Test
  void aConnectionDroppedBeforeTheHeadFailsTheFutureWithoutTheToken() throws Exception {
    H2TlsStub stub = stub((s, r) -> s.ctx.channel().parent().close());
    KubernetesForwarder forwarder = forwarder(stub.apiClient());

    CompletableFuture<ForwardResponse> future = forwarder.forwardAsync(get("/api/v1/secrets-free/path"), SA_TOKEN);

    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("127.0.0.1:" + stub.port())
        .hasMessageContaining("GET /api/v1/secrets-free/path")
        .hasMessageNotContaining(SA_TOKEN);
    assertThatThrownBy(() -> forwarder.forward(get("/api/v1/x"), SA_TOKEN)).isInstanceOf(RelayException.class);
  }

  @Test
  void aConnectionDroppedMidBodyEndsTheBodyWithOnError() throws Exception {
    H2TlsStub stub =
        stub(
            (s, r) -> {
              watch(s, r);
              s.ctx.channel().parent().close();
            });
    KubernetesForwarder forwarder = forwarder(stub.apiClient());

    ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN));
    closeables.add(response);
    TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
    response.bodyPublisher().orElseThrow().subscribe(body);

    assertThatThrownBy(() -> body.done.get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("GET /api/v1/pods")
        .hasMessageNotContaining(SA_TOKEN);
  }

  @Test
  void theReadTimeoutBoundsTheWaitForTheHeadAndResetsTheStream() throws Exception {
    H2TlsStub stub = stub((s, r) -> {});
    ApiClient apiClient = stub.apiClient();
    apiClient.setReadTimeout(300);
    KubernetesForwarder forwarder = forwarder(apiClient);

    CompletableFuture<ForwardResponse> future = forwarder.forwardAsync(get("/api/v1/pods"), SA_TOKEN);

    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("SocketTimeoutException")
        .hasRootCauseInstanceOf(SocketTimeoutException.class);
    await().atMost(Duration.ofSeconds(10)).until(() -> stub.resetsReceived.contains(Http2Error.CANCEL.code()));
  }

  @Test
  void theReadTimeoutBoundsTheGapBetweenBodyFramesWhileTheSubscriberWaits() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderHttp2Test::watch);
    ApiClient apiClient = stub.apiClient();
    apiClient.setReadTimeout(300);
    KubernetesForwarder forwarder = forwarder(apiClient);

    ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN));
    closeables.add(response);
    TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
    response.bodyPublisher().orElseThrow().subscribe(body);

    assertThat(body.first.get(10, TimeUnit.SECONDS)).isEqualTo(EVENT);
    assertThatThrownBy(() -> body.done.get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(RelayException.class)
        .hasRootCauseInstanceOf(SocketTimeoutException.class);
  }

  @Test
  void closeRefusesLaterRequestsAndStopsTheThreads() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderHttp2Test::watch);
    KubernetesForwarder forwarder = forwarder(stub.apiClient());
    ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN));
    TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
    response.bodyPublisher().orElseThrow().subscribe(body);
    body.first.get(10, TimeUnit.SECONDS);
    String ioThread = body.threadName;
    assertThat(ioThread).startsWith("jit-k8s-forward-");

    forwarder.close();
    forwarder.close(); // idempotent

    assertThatThrownBy(() -> forwarder.forwardAsync(get("/api/v1/pods"), SA_TOKEN))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the forwarder is closed");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals(ioThread)));
    response.close();
  }

  @Test
  void theBuilderChecksStreamWindowAndIoThreads() {
    KubernetesForwarder.Builder builder = KubernetesForwarder.builder();
    assertThatThrownBy(() -> builder.streamWindow(16 * 1024 - 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("streamWindow")
        .hasMessageContaining("16383");
    assertThatThrownBy(() -> builder.streamWindow(16 * 1024 * 1024 + 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("16 MiB");
    assertThatThrownBy(() -> builder.ioThreads(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ioThreads must be from 1");
    assertThatThrownBy(() -> builder.ioThreads(65)).isInstanceOf(IllegalArgumentException.class);
    builder.streamWindow(16 * 1024).ioThreads(2);
    assertThatThrownBy(() -> builder.ioThreads(3)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aSmallerStreamWindowIsAnnounced() throws Exception {
    H2TlsStub stub = stub((s, r) -> {
      s.head(204);
      s.data("", true);
    });
    KubernetesForwarder forwarder =
        KubernetesForwarder.builder().apiClient(stub.apiClient()).streamWindow(64 * 1024).build();
    closeables.add(forwarder);

    try (ForwardResponse response = forwarder.forward(get("/api/v1/pods"), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(204);
      TestSubscriber body = new TestSubscriber(1);
      response.bodyPublisher().orElseThrow().subscribe(body);
      assertThat(body.done.get(5, TimeUnit.SECONDS)).isEmpty();
    }
    assertThat(stub.clientSettings.get(0).initialWindowSize()).isEqualTo(64 * 1024);
  }

  @Test
  void aCancelledSubscriptionResetsTheStreamAndSignalsNothingMore() throws Exception {
    H2TlsStub stub = stub(KubernetesForwarderHttp2Test::watch);
    KubernetesForwarder forwarder = forwarder(stub.apiClient());
    ForwardResponse response = head(forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN));
    TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
    response.bodyPublisher().orElseThrow().subscribe(body);
    body.first.get(10, TimeUnit.SECONDS);

    Flow.Subscription subscription = body.subscribed.join();
    subscription.cancel();

    await().atMost(Duration.ofSeconds(10)).until(() -> stub.resetsReceived.contains(Http2Error.CANCEL.code()));
    assertThat(body.done).isNotDone();
    Map<String, List<String>> headers = response.headers();
    assertThat(headers).containsKey("content-type");
    response.close();
  }
}
