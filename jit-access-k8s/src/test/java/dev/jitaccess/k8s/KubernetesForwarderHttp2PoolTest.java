package dev.jitaccess.k8s;

import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import io.netty.handler.codec.http2.Http2Error;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP/2 connection pool: stream limits, GOAWAY, REFUSED_STREAM. */
final class KubernetesForwarderHttp2PoolTest {
  private static final String FIRST = "{\"type\":\"ADDED\"}\n";
  private static final String SECOND = "{\"type\":\"MODIFIED\"}\n";

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  private static ForwardRequest get(String target) {
    return ForwardRequest.of("GET", target, Map.of());
  }

  @Test
  void twentyFiveWatchesAtTenStreamsPerConnectionUseThreeConnectionsAndGoAwayOpensANewOne() throws Exception {
    H2TlsStub stub =
        closing(
            H2TlsStub.start(
                10,
                (s, r) -> {
                  s.head(200);
                  s.data(FIRST, false);
                }));
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(stub.apiClient()).build());

    List<CompletableFuture<ForwardResponse>> heads = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      heads.add(forwarder.forwardAsync(get("/api/v1/pods?watch=1&n=" + i), SA_TOKEN));
    }
    CompletableFuture.allOf(heads.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    List<TestSubscriber> bodies = new ArrayList<>();
    for (CompletableFuture<ForwardResponse> head : heads) {
      ForwardResponse response = closing(head.join());
      TestSubscriber body = new TestSubscriber(Long.MAX_VALUE);
      response.bodyPublisher().orElseThrow().subscribe(body);
      bodies.add(body);
    }

    assertThat(stub.connections).hasValue(3);
    assertThat(stub.resetsSent).isEmpty();

    // GOAWAY, then one more event on every open stream: in-flight streams finish their work
    stub.goAway(s -> s.data(SECOND, false));
    int both = (FIRST + SECOND).getBytes(StandardCharsets.UTF_8).length;
    await().atMost(Duration.ofSeconds(10)).until(() -> bodies.stream().allMatch(b -> b.size() == both));

    ForwardResponse after = closing(forwarder.forwardAsync(get("/api/v1/pods?watch=1"), SA_TOKEN).get(10, TimeUnit.SECONDS));
    assertThat(after.status()).isEqualTo(200);
    assertThat(stub.connections).hasValue(4);
    assertThat(stub.resetsSent).isEmpty();
  }

  private static H2TlsStub.Responder resettingFirst(int resets, Http2Error error, AtomicInteger seen) {
    return (s, r) -> {
      if (seen.incrementAndGet() <= resets) {
        s.reset(error);
      } else {
        s.head(200);
        s.data("{\"kind\":\"NamespaceList\"}", true);
      }
    };
  }

  @Test
  void aBodylessRequestRefusedWithRefusedStreamIsSentAgainOnTheSameConnection() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    H2TlsStub stub = closing(H2TlsStub.start(resettingFirst(2, Http2Error.REFUSED_STREAM, seen)));
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(stub.apiClient()).build());

    try (ForwardResponse response = forwarder.forwardAsync(get("/api/v1/namespaces"), SA_TOKEN).get(10, TimeUnit.SECONDS)) {
      assertThat(response.status()).isEqualTo(200);
      assertThat(new String(response.body().readAllBytes(), StandardCharsets.UTF_8)).contains("NamespaceList");
    }
    assertThat(seen).hasValue(3);
    assertThat(stub.connections).hasValue(1);
  }

  @Test
  void refusalsBeyondTheRetryLimitFail() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    H2TlsStub stub = closing(H2TlsStub.start(resettingFirst(100, Http2Error.REFUSED_STREAM, seen)));
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(stub.apiClient()).build());

    assertThatThrownBy(() -> forwarder.forward(get("/api/v1/namespaces"), SA_TOKEN))
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("GET /api/v1/namespaces");
    assertThat(seen).hasValue(4); // the first try and three more
    assertThat(stub.connections).hasValue(1);
  }

  @Test
  void aStreamResetForAnyOtherReasonIsNotRetried() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    H2TlsStub stub = closing(H2TlsStub.start(resettingFirst(1, Http2Error.INTERNAL_ERROR, seen)));
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(stub.apiClient()).build());

    assertThatThrownBy(() -> forwarder.forward(get("/api/v1/namespaces"), SA_TOKEN))
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("Http2ResetException");
    assertThat(seen).hasValue(1);
  }

  /**
   * kube-apiserver may reset many streams at once (every watch when it restarts its watch cache): the forwarder,
   * the HTTP/2 client here, must not treat that as a rapid-reset attack and drop the connection.
   */
  @Test
  void hundredsOfStreamsResetByTheServerKeepTheConnection() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    H2TlsStub stub = closing(H2TlsStub.start(resettingFirst(300, Http2Error.CANCEL, seen)));
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(stub.apiClient()).build());

    for (int i = 0; i < 300; i++) {
      CompletableFuture<ForwardResponse> reset = forwarder.forwardAsync(get("/api/v1/namespaces?i=" + i), SA_TOKEN);
      assertThatThrownBy(reset::join).hasCauseInstanceOf(RelayException.class);
    }
    try (ForwardResponse ok = forwarder.forwardAsync(get("/api/v1/namespaces"), SA_TOKEN).join()) {
      assertThat(ok.status()).isEqualTo(200);
    }

    assertThat(seen).hasValue(301);
    assertThat(stub.connections).hasValue(1);
  }

  @Test
  void aRequestWithABodyGoesThroughOkHttpAndIsNeverRetried() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    H2TlsStub stub = closing(H2TlsStub.start(resettingFirst(1, Http2Error.REFUSED_STREAM, seen)));
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(stub.apiClient()).build());
    byte[] json = "{\"kind\":\"Namespace\"}".getBytes(StandardCharsets.UTF_8);
    ForwardRequest create =
        new ForwardRequest(
            "POST",
            "/api/v1/namespaces",
            Map.of("Content-Type", List.of("application/json")),
            new ByteArrayInputStream(json),
            json.length);

    assertThatThrownBy(() -> forwarder.forwardAsync(create, SA_TOKEN).join()).hasCauseInstanceOf(RelayException.class);
    assertThat(seen).hasValue(1);
    assertThat(stub.requests.get(0).get("user-agent")).asString().startsWith("okhttp/");
    assertThat(stub.clientSettings.get(0).initialWindowSize()).isNotEqualTo(256 * 1024);
  }
}
