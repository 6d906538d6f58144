package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.relay.internal.TunnelRegistry;
import dev.jitaccess.relay.testing.FakeAccessEngine;
import dev.jitaccess.relay.testing.H2TestClient;
import dev.jitaccess.relay.testing.TestTunnelAgent;
import dev.jitaccess.testkit.TestCertificates;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hostile-input checks of {@link RelayServerTest} and {@link RelayServerLimitsTest} (SECURITY 1, 2, 4 and 8),
 * over HTTP/2: a Netty client that writes header names, values and {@code :path} exactly as given (header
 * validation off), so the relay's codec and request handler, not the client, decide. "Nothing forwarded" means no
 * tunnel stream was even opened to the agent.
 */
final class RelayServerHttp2HostileTest {

  private static final TestCertificates CERTS = TestCertificates.create();
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final String NAMESPACES = "/clusters/prod/api/v1/namespaces";

  private FakeAccessEngine engine;
  private TestTunnelAgent agent;
  private CountingRegistry tunnels;
  private RelayServer relay;
  private final List<AutoCloseable> clients = new ArrayList<>();

  @BeforeEach
  void start() {
    engine = new FakeAccessEngine();
    agent = TestTunnelAgent.start("prod");
    tunnels = new CountingRegistry(agent);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : clients) {
      c.close();
    }
    if (relay != null) {
      relay.close();
    }
    agent.close();
  }

  private void relay(UnaryOperator<RelayServer.Builder> options) {
    relay =
        options
            .apply(RelayServer.builder().tls(CERTS.serverKey(), CERTS.serverChain()).accessEngine(engine).tunnelRegistry(tunnels))
            .build()
            .start();
  }

  private H2TestClient h2(boolean hostile) throws Exception {
    H2TestClient client = new H2TestClient(CERTS, relay.port(), hostile);
    clients.add(client);
    return client;
  }

  /** A request head as a hostile client writes it: no validation of names, values or pseudo-headers. */
  private static Http2Headers head(String method, String path) {
    return new DefaultHttp2Headers(false)
        .method(method)
        .path(path)
        .scheme("https")
        .authority("localhost")
        .set("authorization", "Bearer alice-token");
  }

  private void assertNothingForwarded() {
    assertThat(tunnels.calls).as("tunnel streams the relay asked for").hasValue(0);
    assertThat(agent.receivedNothing()).isTrue();
  }

  /** Asserts that the stream was refused by the HTTP/2 codec: RST_STREAM(PROTOCOL_ERROR), no response. */
  private static void assertResetAsMalformed(H2TestClient.Stream stream) throws Exception {
    await().atMost(WAIT).until(stream.headers::isDone);
    assertThat(stream.writeFailure).as("the client sent the request as given").isNotDone();
    assertThat(stream.headers).as("no response head").isCompletedExceptionally();
    assertThat(stream.reset).isCompletedWithValue(Http2Error.PROTOCOL_ERROR.code());
  }

  // ------------------------------------------------------------------------- SECURITY 1: impersonation

  @ParameterizedTest
  @ValueSource(
      strings = {"impersonate-user", "impersonate-group", "impersonate-uid", "impersonate-extra-scopes", "impersonate-foo"})
  void impersonationHeadersAreRefusedWith400AndAudited(String name) throws Exception {
    relay(b -> b);

    H2TestClient.Stream stream = h2(false).request(head("GET", NAMESPACES).add(name, "system:masters"), true);

    assertThat(stream.status()).isEqualTo("400");
    assertThat(status(stream)).containsEntry("message", "impersonation headers are not allowed");
    assertNothingForwarded();
    assertThat(engine.tokens).isEmpty();
    AuditEvent denied = awaitAudit(AuditEvent.Type.DENIED);
    assertThat(denied.detail()).isEqualTo("impersonation headers are not allowed: " + name);
    assertThat(denied.cluster()).isEqualTo("prod");
  }

  @Test
  void repeatedImpersonationHeaderIsRefusedWith400() throws Exception {
    relay(b -> b);

    H2TestClient.Stream stream =
        h2(false).request(head("GET", NAMESPACES).add("impersonate-user", "a").add("impersonate-user", "b"), true);

    assertThat(stream.status()).isEqualTo("400");
    assertNothingForwarded();
    assertThat(engine.tokens).isEmpty();
    assertThat(awaitAudit(AuditEvent.Type.DENIED).detail()).startsWith("impersonation headers are not allowed");
  }

  /**
   * HTTP/2 header names are lower case on the wire (RFC 9113 §8.2.1): a client that sends {@code Impersonate-User}
   * anyway sends a malformed request, which the relay's codec resets before the request handler (or an audit) sees
   * it. What matters for SECURITY 1 holds: the header never gets near the engine or the agent, and the connection
   * stays usable.
   */
  @ParameterizedTest
  @ValueSource(strings = {"Impersonate-User", "IMPERSONATE-GROUP", "Impersonate-Uid", "iMpErSoNaTe-Extra-Scopes"})
  void upperCaseImpersonationNamesAreMalformedAndReset(String name) throws Exception {
    relay(b -> b);
    H2TestClient client = h2(false);

    H2TestClient.Stream stream = client.request(head("GET", NAMESPACES).add(name, "system:masters"), true);

    assertResetAsMalformed(stream);
    assertNothingForwarded();
    assertThat(engine.tokens).isEmpty();
    assertAuditedAsMalformed(name);
    assertThat(client.request(head("GET", NAMESPACES), true).status()).as("the connection still serves").isEqualTo("200");
  }

  // --------------------------------------------------------------- SECURITY 2: connection-specific headers

  /**
   * RFC 9113 §8.2.2: a request with a connection-specific header field is malformed. Over HTTP/1.1 the relay applies
   * the client's {@code Connection} list; over HTTP/2 there is no list to apply: the codec resets the stream before the
   * request handler runs, so an impersonation header named in {@code connection} goes nowhere either.
   *
   * @param headers extra request headers, {@code name: value} separated by {@code |}
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "connection: close",
        "connection: impersonate-user|impersonate-user: admin",
        "impersonate-user: admin|connection: impersonate-user",
        "connection: authorization",
        "keep-alive: timeout=5",
        "proxy-connection: keep-alive",
        "transfer-encoding: chunked",
        "upgrade: websocket",
        "te: gzip",
      })
  void connectionSpecificHeaderIsAStreamErrorAndNothingIsForwarded(String headers) throws Exception {
    relay(b -> b);
    H2TestClient client = h2(false);
    Http2Headers request = head("GET", NAMESPACES);
    for (String header : headers.split("\\|")) {
      String[] nameValue = header.split(": ", 2);
      request.add(nameValue[0], nameValue[1]);
    }

    H2TestClient.Stream stream = client.request(request, true);

    assertResetAsMalformed(stream);
    assertNothingForwarded();
    assertThat(engine.tokens).isEmpty();
    AuditEvent denied = awaitAudit(AuditEvent.Type.DENIED);
    assertThat(denied.detail()).startsWith("a malformed HTTP/2 request was refused: ").doesNotContain("admin");
    assertThat(client.isOpen()).as("a stream error, not a connection error").isTrue();
    assertThat(client.request(head("GET", NAMESPACES), true).status()).isEqualTo("200");
  }

  @Test
  void teTrailersIsTheOneAllowedTeAndIsNotForwarded() throws Exception {
    relay(b -> b);

    H2TestClient.Stream stream = h2(false).request(head("GET", NAMESPACES).add("te", "trailers"), true);

    assertThat(stream.status()).isEqualTo("200");
    assertThat(agent.nextRequest().names()).doesNotContain("te", "authorization");
  }

  // ------------------------------------------------------------------------------- SECURITY 4: :path

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/clusters/prod/api/../secrets",
        "/clusters/prod/api/v1/../../secrets",
        "/clusters/prod/./api",
        "/clusters/prod/api/..",
        "/clusters/prod/api/%2e%2e/x",
        "/clusters/prod/api/%2E%2E/x",
        "/clusters/prod/api%2Fv1",
        "/clusters/prod/api%2fv1",
        "/clusters/prod/api/%252e%252e/x",
        "/clusters/prod//api",
        "//clusters/prod/api",
        "/clusters/prod/api;x=y",
        "/clusters/prod/api/v1;/namespaces",
        "/clusters/prod/api\\v1",
        "/clusters/prod/api%5Cv1",
        "/clusters/prod/api%00",
        "/clusters/prod/api%zz",
        "/clusters/prod/api#x",
        "/clusters/../clusters/prod/api/v1/namespaces",
        "/clusters/PROD/api",
        "/clusters/prod/ap\u00e9",
        "/clusters/prod/api\tv1",
        "https://localhost/clusters/prod/api",
        "clusters/prod/api",
      })
  void hostilePathsAre400AndNothingIsForwarded(String path) throws Exception {
    relay(b -> b);

    H2TestClient.Stream stream = h2(false).request(head("GET", path), true);

    assertThat(stream.status()).isEqualTo("400");
    assertThat(status(stream)).containsEntry("code", 400L);
    assertNothingForwarded();
    assertThat(engine.tokens).isEmpty();
    AuditEvent refused = awaitAudit(AuditEvent.Type.REQUEST);
    assertThat(refused.attributes()).containsEntry("status", "400");
  }

  /**
   * Targets that never reach the path check: an empty {@code :path} is malformed to the HTTP/2 codec (RFC 9113
   * §8.3.1: PROTOCOL_ERROR), and a space makes Netty's conversion to an HTTP request fail, after which the relay closes
   * the stream (CANCEL).
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"''|PROTOCOL_ERROR", "/clusters/prod/api v1|CANCEL", "/clusters/prod/api/ ../x|CANCEL"})
  void pathsRefusedBeforeThePathCheckAreResetAndNothingIsForwarded(String path, Http2Error error) throws Exception {
    relay(b -> b);
    H2TestClient client = h2(false);

    H2TestClient.Stream stream = client.request(head("GET", path), true);

    await().atMost(WAIT).until(stream.headers::isDone);
    assertThat(stream.headers).as("no response head").isCompletedExceptionally();
    assertThat(stream.reset).isCompletedWithValue(error.code());
    assertNothingForwarded();
    assertThat(engine.tokens).isEmpty();
    assertThat(client.request(head("GET", NAMESPACES), true).status()).as("the connection still serves").isEqualTo("200");
  }

  // ------------------------------------------------------------------------------- SECURITY 8: body size

  @Test
  void declaredBodyOverTheLimitIs413AndNothingIsForwarded() throws Exception {
    relay(b -> b.maxBodySize(1024));
    H2TestClient.Stream stream =
        h2(false).request(head("POST", NAMESPACES).set("content-length", "2048").set("content-type", "application/json"), false);

    H2TestClient.data(stream, "x".repeat(2048), true);

    assertThat(stream.status()).isEqualTo("413");
    assertThat((String) status(stream).get("message")).contains("1024");
    assertNothingForwarded();
    assertThat(engine.tokens).isEmpty();
  }

  @Test
  void streamedBodyOverTheLimitIs413AndTheAgentNeverGetsACompleteRequest() throws Exception {
    relay(b -> b.maxBodySize(1024));
    H2TestClient.Stream stream = h2(false).request(head("POST", NAMESPACES).set("content-type", "application/json"), false);

    H2TestClient.data(stream, "x".repeat(600), false);
    H2TestClient.data(stream, "x".repeat(600), false);
    H2TestClient.data(stream, "x".repeat(600), true);

    assertThat(stream.status()).isEqualTo("413");
    stream.done.get(5, TimeUnit.SECONDS);
    // The relay streams bodies, so a tunnel stream was opened; it must be cut off, never ended as if complete.
    assertThat(tunnels.calls).hasValue(1);
    await().atMost(WAIT).until(() -> tunnels.opened.size() == 1 && !tunnels.opened.get(0).isActive());
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(agent::receivedNothing);
    await().atMost(WAIT).until(() -> engine.audit.stream().anyMatch(e -> "413".equals(e.attributes().get("status"))));
  }

  @Test
  void bodyLongerThanItsContentLengthIsAStreamErrorAndNeverCompletes() throws Exception {
    relay(b -> b);
    H2TestClient.Stream stream = h2(false).request(head("POST", NAMESPACES).set("content-length", "10"), false);

    H2TestClient.data(stream, "{\"kind\":\"Namespace\",\"smuggled\":true}", true);

    // Netty's codec finds the excess and hands the stream error to the relay's stream handler, which closes the
    // stream (RST_STREAM CANCEL, where RFC 9113 §8.1.1 asks for PROTOCOL_ERROR): what matters is that it is reset.
    await().atMost(WAIT).until(stream.headers::isDone);
    assertThat(stream.headers).as("no response head").isCompletedExceptionally();
    assertThat(stream.reset).isCompleted();
    assertThat(engine.audit).noneMatch(e -> "200".equals(e.attributes().get("status")));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(agent::receivedNothing);
  }

  // ---------------------------------------------------------------------------- SECURITY 8: header lists

  @Test
  void tenThousandHeadersCloseTheConnectionWithoutCallingTheEngine() throws Exception {
    relay(b -> b);
    H2TestClient client = h2(true);
    Http2Headers request = head("GET", NAMESPACES);
    for (int i = 0; i < 10_000; i++) {
      request.add("x-h" + i, "v");
    }

    H2TestClient.Stream stream = client.request(request, true);

    // About 400 KB of header list against a 16 KiB limit: far beyond the codec's stream-error margin, so a
    // connection error (GOAWAY and close), not a 431 on the stream.
    assertThat(client.goAway.get(5, TimeUnit.SECONDS)).isNotEqualTo(Http2Error.NO_ERROR.code());
    assertThat(client.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
    await().atMost(WAIT).until(stream.headers::isDone);
    assertThat(stream.headers).isCompletedExceptionally();
    assertThat(engine.tokens).isEmpty();
    assertNothingForwarded();
  }

  @Test
  void manySmallHeadersJustOverTheLimitAre431WithoutCallingTheEngine() throws Exception {
    relay(b -> b);
    H2TestClient client = h2(true);
    Http2Headers request = head("GET", NAMESPACES);
    // 450 entries of 8 + 1 + 32 (RFC 7541 §4.1 overhead) bytes: about 18 KiB, over 16 KiB but within the margin.
    for (int i = 0; i < 450; i++) {
      request.add(String.format("x-h%05d", i), "v");
    }

    H2TestClient.Stream stream = client.request(request, true);

    assertThat(stream.status()).isEqualTo("431");
    assertThat(engine.tokens).isEmpty();
    assertNothingForwarded();
    assertThat(client.request(head("GET", NAMESPACES), true).status()).as("the connection still serves").isEqualTo("200");
  }

  /** The response body as a Kubernetes Status, once the response ended. */
  private static Map<String, Object> status(H2TestClient.Stream stream) throws Exception {
    stream.done.get(5, TimeUnit.SECONDS);
    return JSONObjectUtils.parse(stream.body());
  }

  /** Refused by the codec before the relay's handler, and still audited, naming the header. */
  private void assertAuditedAsMalformed(String header) {
    AuditEvent denied = awaitAudit(AuditEvent.Type.DENIED);
    assertThat(denied.subjectId()).isNull();
    assertThat(denied.detail())
        .startsWith("a malformed HTTP/2 request was refused: ")
        .contains(header)
        .doesNotContain("system:masters");
  }

  private AuditEvent awaitAudit(AuditEvent.Type type) {
    await().atMost(WAIT).until(() -> engine.audit.stream().anyMatch(e -> e.type() == type));
    return engine.audit.stream().filter(e -> e.type() == type).findFirst().orElseThrow();
  }

  /** The agent as a registry, recording every tunnel stream the relay opens. */
  private static final class CountingRegistry implements TunnelRegistry {
    final AtomicInteger calls = new AtomicInteger();
    final List<Http2StreamChannel> opened = new CopyOnWriteArrayList<>();
    private final TestTunnelAgent agent;

    CountingRegistry(TestTunnelAgent agent) {
      this.agent = agent;
    }

    @Override
    public boolean isConnected(String cluster) {
      return agent.isConnected(cluster);
    }

    @Override
    public Future<Http2StreamChannel> openStream(String cluster, ChannelHandler handler) {
      calls.incrementAndGet();
      Future<Http2StreamChannel> future = agent.openStream(cluster, handler);
      future.addListener(f -> {
        if (f.isSuccess()) {
          opened.add(future.getNow());
        }
      });
      return future;
    }

    @Override
    public void revoke(String subjectId, @Nullable String cluster, java.time.@Nullable Instant revokedAt) {
      agent.revoke(subjectId, cluster, revokedAt);
    }
  }
}
