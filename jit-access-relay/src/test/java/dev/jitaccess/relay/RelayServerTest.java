package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.relay.testing.FakeAccessEngine;
import dev.jitaccess.relay.testing.RawTlsClient;
import dev.jitaccess.testkit.TestCertificates;
import dev.jitaccess.relay.testing.TestTunnelAgent;
import io.netty.channel.Channel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.awaitility.Awaitility.await;

final class RelayServerTest {

  private static final TestCertificates CERTS = TestCertificates.create();

  private FakeAccessEngine engine;
  private TestTunnelAgent agent;
  private RelayServer relay;

  @BeforeEach
  void start() {
    engine = new FakeAccessEngine();
    agent = TestTunnelAgent.start("prod");
    relay = relay(RelayServer.builder());
  }

  private RelayServer relay(RelayServer.Builder builder) {
    return builder
        .tls(CERTS.serverKey(), CERTS.serverChain())
        .accessEngine(engine)
        .tunnelRegistry(agent)
        .build()
        .start();
  }

  @AfterEach
  void stop() {
    relay.close();
    agent.close();
  }

  private String raw(String request) throws Exception {
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      return client.send(request).readUntilClosed();
    }
  }

  private static String get(String target, String... headerLines) {
    StringBuilder sb = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n");
    for (String line : headerLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("Connection: close\r\n\r\n").toString();
  }

  private static Map<String, Object> statusBody(String response) throws Exception {
    return JSONObjectUtils.parse(response.substring(response.indexOf("\r\n\r\n") + 4));
  }

  private HttpClient client(HttpClient.Version version) {
    return HttpClient.newBuilder()
        .version(version)
        .sslContext(CERTS.clientContext())
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  private URI uri(String path) {
    return URI.create("https://localhost:" + relay.port() + path);
  }

  @Test
  void missingTokenIs401WithBearerChallenge() throws Exception {
    String response = raw(get("/clusters/prod/api/v1/namespaces"));

    assertThat(response).startsWith("HTTP/1.1 401").containsIgnoringCase("www-authenticate: Bearer");
    assertThat(statusBody(response)).containsEntry("kind", "Status").containsEntry("code", 401L);
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void unknownTokenIs401() throws Exception {
    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer mallory-token"));

    assertThat(response).startsWith("HTTP/1.1 401");
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void deniedUserGets403StatusWithTheReason() throws Exception {
    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer bob-token"));

    assertThat(response).startsWith("HTTP/1.1 403");
    assertThat(statusBody(response))
        .containsEntry("kind", "Status")
        .containsEntry("apiVersion", "v1")
        .containsEntry("status", "Failure")
        .containsEntry("reason", "Forbidden")
        .containsEntry("code", 403L)
        .containsEntry("message", "bob may not use cluster prod outside working hours");
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void deniedDiscoveryRootGetsTheReasonAsText() throws Exception {
    // client-go reads /api with Result.Raw(), which shows a text body but never a JSON Status's message.
    String response = raw(get("/clusters/prod/api", "Authorization: Bearer bob-token"));

    assertThat(response).startsWith("HTTP/1.1 403");
    assertThat(response.toLowerCase()).contains("content-type: text/plain; charset=utf-8");
    assertThat(response.substring(response.indexOf("\r\n\r\n") + 4))
        .isEqualTo("bob may not use cluster prod outside working hours\n");
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void clusterWithoutAgentIs503() throws Exception {
    agent.connected(false);

    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer alice-token"));

    assertThat(response).startsWith("HTTP/1.1 503");
    assertThat(statusBody(response)).containsEntry("reason", "ServiceUnavailable");
    assertThat((String) statusBody(response).get("message")).contains("agent of cluster prod is not connected");
  }

  @Test
  void clusterWhoseTunnelsAreFullIs503WithRetryAfter() throws Exception {
    relay.close();
    relay =
        RelayServer.builder()
            .tls(CERTS.serverKey(), CERTS.serverChain())
            .accessEngine(engine)
            .tunnelRegistry(
                new dev.jitaccess.relay.internal.TunnelRegistry() {
                  @Override
                  public boolean isConnected(String cluster) {
                    return true;
                  }

                  @Override
                  public io.netty.util.concurrent.Future<io.netty.handler.codec.http2.Http2StreamChannel>
                      openStream(String cluster, io.netty.channel.ChannelHandler handler) {
                    return io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newFailedFuture(
                        new dev.jitaccess.relay.internal.TunnelsFullException(cluster, 2, 1000));
                  }

                  @Override
                  public void revoke(
                      String subjectId,
                      @org.jspecify.annotations.Nullable String cluster,
                      java.time.@org.jspecify.annotations.Nullable Instant revokedAt) {}
                })
            .build()
            .start();

    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer alice-token"));

    assertThat(response).startsWith("HTTP/1.1 503");
    assertThat(response.toLowerCase(java.util.Locale.ROOT)).contains("retry-after: 1\r\n");
    assertThat((String) statusBody(response).get("message"))
        .contains("agent of cluster prod is serving its limit of 1000 concurrent requests on each of its 2 tunnels");
  }

  @Test
  void pathOutsideClustersIs404() throws Exception {
    assertThat(raw(get("/api/v1/namespaces", "Authorization: Bearer alice-token"))).startsWith("HTTP/1.1 404");
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void forwardsTheSignedGrantAndNoUserCredentials() throws Exception {
    String response =
        raw(
            get(
                "/clusters/prod/api/v1/namespaces?limit=1&labelSelector=app%3Dx",
                "Authorization: Bearer alice-token",
                "Proxy-Authorization: Basic Zm9vOmJhcg==",
                "Cookie: session=secret",
                "X-Remote-User: admin",
                "X-Remote-Group: system:masters",
                "X-Forwarded-For: 6.6.6.6",
                "X-Forwarded-Host: evil",
                "jit-grant: forged",
                "jit-request-id: forged",
                "Accept: application/json"));

    assertThat(response).startsWith("HTTP/1.1 200");
    TestTunnelAgent.Received received = agent.nextRequest();
    assertThat(received.headers().path().toString()).isEqualTo("/api/v1/namespaces?limit=1&labelSelector=app%3Dx");
    assertThat(received.headers().method().toString()).isEqualTo("GET");
    assertThat(received.headers().authority().toString()).isEqualTo("prod");
    assertThat(received.all("jit-grant")).containsExactly(FakeAccessEngine.SIGNED_GRANT);
    assertThat(received.all("x-forwarded-for")).containsExactly("127.0.0.1");
    assertThat(received.all("jit-request-id")).hasSize(1).doesNotContain("forged");
    assertThat(received.all("accept")).containsExactly("application/json");
    assertThat(received.names())
        .doesNotContain(
            "authorization", "proxy-authorization", "cookie", "x-remote-user", "x-remote-group", "x-forwarded-host",
            "host", "connection");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Connection: Authorization",
        "Connection: close, Authorization",
        "Connection: jit-grant",
        "Connection: Impersonate-User",
        "Connection: X-Forwarded-For, jit-request-id",
      })
  void clientHopByHopListCannotRemoveTheRelayHeaders(String connection) throws Exception {
    String response;
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      client.send(
          "GET /clusters/prod/api HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
              + "jit-grant: forged\r\n"
              + connection
              + "\r\n\r\n");
      response = client.readUntil("APIVersions", new StringBuilder());
    }

    assertThat(response).startsWith("HTTP/1.1 200");
    TestTunnelAgent.Received received = agent.nextRequest();
    assertThat(received.all("jit-grant")).containsExactly(FakeAccessEngine.SIGNED_GRANT);
    assertThat(received.all("jit-request-id")).hasSize(1);
    assertThat(received.all("x-forwarded-for")).containsExactly("127.0.0.1");
    assertThat(received.names()).doesNotContain("authorization", "connection");
  }

  @Test
  void headersNamedInConnectionAreDropped() throws Exception {
    raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer alice-token", "X-Secret-Hop: 1", "Connection: X-Secret-Hop"));

    assertThat(agent.nextRequest().names()).doesNotContain("x-secret-hop");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Impersonate-User: admin",
        "impersonate-group: system:masters",
        "IMPERSONATE-UID: 0",
        "Impersonate-Extra-Scopes: all",
        "iMpErSoNaTe-Something: x",
        "Impersonate-User: a\r\nImpersonate-User: b",
      })
  void impersonationHeadersAreRefusedAndAudited(String header) throws Exception {
    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer alice-token", header));

    assertThat(response).startsWith("HTTP/1.1 400");
    assertThat(statusBody(response)).containsEntry("message", "impersonation headers are not allowed");
    assertThat(agent.receivedNothing()).isTrue();
    assertThat(engine.tokens).isEmpty();
    await().atMost(5, TimeUnit.SECONDS).until(() -> engine.audit.stream().anyMatch(e -> e.type() == AuditEvent.Type.DENIED));
    AuditEvent denied = engine.audit.stream().filter(e -> e.type() == AuditEvent.Type.DENIED).findFirst().orElseThrow();
    assertThat(denied.detail()).startsWith("impersonation headers are not allowed");
    assertThat(denied.cluster()).isEqualTo("prod");
  }

  /**
   * SECURITY 2: naming an impersonation header in {@code Connection} does not turn it into a hop-by-hop header that is
   * quietly dropped; the request is refused and audited as if {@code Connection} did not name it.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "Connection: Impersonate-User\r\nImpersonate-User: x",
        "Impersonate-User: x\r\nConnection: Impersonate-User",
        "Connection: close, impersonate-group\r\nImpersonate-Group: system:masters",
        "Connection: IMPERSONATE-UID\r\nimpersonate-uid: 0",
        "Connection: Impersonate-Extra-Scopes, Authorization\r\nImpersonate-Extra-Scopes: all",
      })
  void impersonationHeaderNamedInConnectionIsStillRefusedAndAudited(String headers) throws Exception {
    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer alice-token", headers));

    assertThat(response).startsWith("HTTP/1.1 400");
    assertThat(statusBody(response)).containsEntry("message", "impersonation headers are not allowed");
    assertThat(agent.receivedNothing()).isTrue();
    assertThat(engine.tokens).isEmpty();
    await().atMost(5, TimeUnit.SECONDS).until(() -> engine.audit.stream().anyMatch(e -> e.type() == AuditEvent.Type.DENIED));
    AuditEvent denied = engine.audit.stream().filter(e -> e.type() == AuditEvent.Type.DENIED).findFirst().orElseThrow();
    assertThat(denied.detail()).startsWith("impersonation headers are not allowed: ").containsIgnoringCase("impersonate-");
    assertThat(denied.cluster()).isEqualTo("prod");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "base64url.bearer.authorization.k8s.io.c2VjcmV0",
        "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.c2VjcmV0",
        "v5.channel.k8s.io,Base64Url.Bearer.Authorization.K8s.Io.c2VjcmV0",
      })
  void aBearerTokenInTheWebSocketProtocolIsRefusedAndNeverForwarded(String protocols) throws Exception {
    String response =
        raw(
            get(
                "/clusters/prod/api/v1/namespaces/x/pods/p/exec?command=sh",
                "Authorization: Bearer alice-token",
                "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: "
                    + protocols));

    assertThat(response).startsWith("HTTP/1.1 400");
    assertThat(String.valueOf(statusBody(response).get("message"))).contains("Authorization header");
    assertThat(response).doesNotContain("c2VjcmV0");
    assertThat(agent.receivedNothing()).isTrue();
    assertThat(engine.tokens).isEmpty();
    await().atMost(5, TimeUnit.SECONDS).until(() -> engine.audit.stream().anyMatch(e -> e.type() == AuditEvent.Type.DENIED));
    AuditEvent denied = engine.audit.stream().filter(e -> e.type() == AuditEvent.Type.DENIED).findFirst().orElseThrow();
    assertThat(denied.detail()).isEqualTo("a bearer token in Sec-WebSocket-Protocol").doesNotContain("c2VjcmV0");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/clusters/prod/api/v1/../../secrets",
        "/clusters/prod/./api",
        "/clusters/prod/api/..",
        "/clusters/prod/api/%2e%2e/x",
        "/clusters/prod/api/%2E%2E/x",
        "/clusters/prod/api%2Fv1",
        "/clusters/prod/api%2fv1",
        "/clusters/prod/api/%252e%252e/x",
        "/clusters/prod//api",
        "/clusters/prod/api;x=y",
        "/clusters/prod/api\\v1",
        "/clusters/prod/api%5Cv1",
        "/clusters/prod/api%00",
        "/clusters/prod/api%zz",
        "/clusters/../clusters/prod/api/v1/namespaces",
        "/clusters/PROD/api",
        "/clusters/prod/ap\u00e9",
      })
  void hostilePathsAre400(String path) throws Exception {
    String response = raw(get(path, "Authorization: Bearer alice-token"));

    assertThat(response).startsWith("HTTP/1.1 400");
    assertThat(agent.receivedNothing()).isTrue();
    assertThat(engine.tokens).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Content-Length: 5\r\nContent-Length: 6",
        "Content-Length: 5\r\nContent-Length: 5",
        "Content-Length: +5",
        "Transfer-Encoding: chunked, identity",
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: identity",
        "X-Folded: a\r\n b\r\nContent-Length: 5",
      })
  void ambiguousFramingIs400AndCloses(String framing) throws Exception {
    String response =
        raw(
            "POST /clusters/prod/api/v1/namespaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
                + framing
                + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 400").containsIgnoringCase("connection: close");
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void hundredKibOfHeadersIs431() throws Exception {
    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer alice-token", "X-Big: " + "a".repeat(100 * 1024)));

    assertThat(response).startsWith("HTTP/1.1 431");
    assertThat(agent.receivedNothing()).isTrue();
    assertThat(engine.tokens).as("refused before the token was looked at").isEmpty();
  }

  @Test
  void tenThousandHeadersIs431() throws Exception {
    StringBuilder many = new StringBuilder("Authorization: Bearer alice-token");
    for (int i = 0; i < 10_000; i++) {
      many.append("\r\nX-H").append(i).append(": v");
    }
    assertThat(raw(get("/clusters/prod/api/v1/namespaces", many.toString()))).startsWith("HTTP/1.1 431");
    assertThat(agent.receivedNothing()).isTrue();
    assertThat(engine.tokens).as("refused before the token was looked at").isEmpty();
  }

  @Test
  void twoMibTokenIsRefusedBeforeTheEngineSeesIt() throws Exception {
    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer " + "t".repeat(2 * 1024 * 1024)));

    assertThat(response).startsWith("HTTP/1.1 431");
    assertThat(engine.tokens).isEmpty();
  }

  @Test
  void tokenOverSixteenKibIsRefusedEvenWithLargerHeaderLimit() throws Exception {
    relay.close();
    relay = relay(RelayServer.builder().maxHeaderSize(64 * 1024));

    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer " + "t".repeat(17 * 1024)));

    assertThat(response).startsWith("HTTP/1.1 431");
    assertThat(engine.tokens).isEmpty();
  }

  @Test
  void slowHeaderSenderIsClosedAfterTheHeaderReadTimeout() throws Exception {
    relay.close();
    relay = relay(RelayServer.builder().headerReadTimeout(Duration.ofMillis(300)));

    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      long started = System.nanoTime();
      client.send("GET /clusters/prod/api/v1/namespaces HTTP/1.1\r\nHost: localhost\r\nX-Slow: a");

      String received = client.readUntilClosed();

      assertThat(received).isEmpty();
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void anAuthorizationThatHangsIs503WithRetryAfterAndIsInterrupted() throws Exception {
    relay.close();
    relay = relay(RelayServer.builder().authorizationTimeout(Duration.ofMillis(300)).authorizationPool(1, 16));

    String response = raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer hung-token"));

    assertThat(response).startsWith("HTTP/1.1 503").containsIgnoringCase("retry-after: 1");
    assertThat(String.valueOf(statusBody(response).get("message")))
        .isEqualTo("the relay could not authorize the request within 300 ms; try again later");
    assertThat(agent.receivedNothing()).isTrue();
    await().atMost(5, TimeUnit.SECONDS).until(() -> engine.interruptedCalls.get() == 1);
    // The one authorization thread is free again: the next user is served.
    assertThat(raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer alice-token"))).startsWith("HTTP/1.1 200");
  }

  @Test
  void declaredBodyOverTheLimitIs413() throws Exception {
    relay.close();
    relay = relay(RelayServer.builder().maxBodySize(1024));

    String response =
        raw(
            "POST /clusters/prod/api/v1/namespaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
                + "Content-Length: 2048\r\n\r\n"
                + "x".repeat(2048));

    assertThat(response).startsWith("HTTP/1.1 413");
    assertThat(agent.receivedNothing()).isTrue();
    assertThat(engine.tokens).as("refused before the token was looked at").isEmpty();
  }

  @Test
  void streamedBodyOverTheLimitIs413() throws Exception {
    relay.close();
    relay = relay(RelayServer.builder().maxBodySize(1024));
    String chunk = "x".repeat(600);

    String response =
        raw(
            "POST /clusters/prod/api/v1/namespaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 413");
  }

  @Test
  void bodyIsForwarded() throws Exception {
    HttpResponse<String> response =
        client(HttpClient.Version.HTTP_1_1)
            .send(
                HttpRequest.newBuilder(uri("/clusters/prod/api/v1/namespaces/default/configmaps"))
                    .header("Authorization", "Bearer alice-token")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"Namespace\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(JSONObjectUtils.parse(response.body())).containsEntry("body", "{\"kind\":\"Namespace\"}");
    assertThat(agent.nextRequest().headers().method().toString()).isEqualTo("POST");
  }

  @Test
  void redirectIsPassedBackUnchanged() throws Exception {
    HttpResponse<String> response =
        client(HttpClient.Version.HTTP_1_1)
            .send(
                HttpRequest.newBuilder(uri("/clusters/prod/redirect")).header("Authorization", "Bearer alice-token").build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(302);
    assertThat(response.headers().firstValue("location")).hasValue("https://elsewhere/");
  }

  @Test
  void http2ClientIsServed() throws Exception {
    HttpResponse<String> response =
        client(HttpClient.Version.HTTP_2)
            .send(
                HttpRequest.newBuilder(uri("/clusters/prod/api/v1/pods?watch=false"))
                    .header("Authorization", "Bearer alice-token")
                    .header("Cookie", "a=b")
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(response.statusCode()).isEqualTo(200);
    TestTunnelAgent.Received received = agent.nextRequest();
    assertThat(received.headers().path().toString()).isEqualTo("/api/v1/pods?watch=false");
    assertThat(received.all("jit-grant")).containsExactly(FakeAccessEngine.SIGNED_GRANT);
    assertThat(received.names()).doesNotContain("authorization", "cookie").noneMatch(n -> n.startsWith("x-http2"));
  }

  @Test
  void http2DeniedUserGets403() throws Exception {
    HttpResponse<String> response =
        client(HttpClient.Version.HTTP_2)
            .send(
                HttpRequest.newBuilder(uri("/clusters/prod/api/v1/namespaces")).header("Authorization", "Bearer bob-token").build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(JSONObjectUtils.parse(response.body())).containsEntry("message", "bob may not use cluster prod outside working hours");
  }

  @ParameterizedTest
  @ValueSource(strings = {"HTTP_1_1", "HTTP_2"})
  void watchReachesTheClientEventByEvent(String version) throws Exception {
    CompletableFuture<HttpResponse<Stream<String>>> pending =
        client(HttpClient.Version.valueOf(version))
            .sendAsync(
                HttpRequest.newBuilder(uri("/clusters/prod/watch/namespaces"))
                    .header("Authorization", "Bearer alice-token")
                    .build(),
                HttpResponse.BodyHandlers.ofLines());
    Channel watch = agent.nextWatch();
    HttpResponse<Stream<String>> response = pending.get(5, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    Iterator<String> lines = response.body().iterator();

    TestTunnelAgent.send(watch, "{\"type\":\"ADDED\",\"n\":1}", false);
    assertThat(lines.next()).isEqualTo("{\"type\":\"ADDED\",\"n\":1}");
    TestTunnelAgent.send(watch, "{\"type\":\"DELETED\",\"n\":2}", true);
    assertThat(lines.next()).isEqualTo("{\"type\":\"DELETED\",\"n\":2}");
    assertThat(lines.hasNext()).isFalse();
  }

  @Test
  void clientGoneClosesTheTunnelStream() throws Exception {
    Channel watch;
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      client.send(get("/clusters/prod/watch/pods", "Authorization: Bearer alice-token"));
      watch = agent.nextWatch();
      client.readUntil("200", new StringBuilder());
    }
    await().atMost(5, TimeUnit.SECONDS).until(() -> !watch.isActive());
  }

  @Test
  void auditRecordsTheCallAndNeverTheToken() throws Exception {
    raw(get("/clusters/prod/api/v1/namespaces?limit=5", "Authorization: Bearer alice-token"));
    String requestId = agent.nextRequest().all("jit-request-id").get(0);
    assertThat(java.util.UUID.fromString(requestId).version()).isEqualTo(4);
    assertThat(java.util.UUID.fromString(requestId).variant()).isEqualTo(2);

    await().atMost(5, TimeUnit.SECONDS).until(() -> engine.audit.stream().anyMatch(e -> e.type() == AuditEvent.Type.REQUEST));
    AuditEvent event = engine.audit.stream().filter(e -> e.type() == AuditEvent.Type.REQUEST).findFirst().orElseThrow();
    assertThat(event.subjectId()).isEqualTo("alice");
    assertThat(event.cluster()).isEqualTo("prod");
    assertThat(event.grantId()).isEqualTo("grant-1");
    assertThat(event.attributes())
        .containsEntry("method", "GET")
        .containsEntry("path", "/api/v1/namespaces?limit=5")
        .containsEntry("status", "200")
        .containsEntry("requestId", requestId)
        .containsKeys("bytesIn", "bytesOut", "durationMs");
    assertThat(Long.parseLong(event.attributes().get("bytesOut"))).isPositive();
    assertThat(engine.audit).allSatisfy(e -> assertThat(e.toString()).doesNotContain("alice-token", FakeAccessEngine.SIGNED_GRANT));
  }

  @Test
  void deniedCallIsAuditedWithItsStatus() throws Exception {
    raw(get("/clusters/prod/api/v1/namespaces", "Authorization: Bearer bob-token"));

    await().atMost(5, TimeUnit.SECONDS).until(() -> !engine.audit.isEmpty());
    assertThat(engine.audit.get(0).attributes()).containsEntry("status", "403").containsEntry("path", "/api/v1/namespaces");
  }

  @Test
  void keepAliveConnectionServesSeveralRequests() throws Exception {
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      String one = "GET /clusters/prod/api/one HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n\r\n";
      client.send(one);
      StringBuilder sofar = new StringBuilder();
      client.readUntil("/api/one", sofar);
      client.send(get("/clusters/prod/api/two", "Authorization: Bearer alice-token"));
      assertThat(client.readUntilClosed()).startsWith("HTTP/1.1 200").contains("/api/two");
    }
  }

  @Test
  void websocketUpgradeBecomesABytePipeAfterTheAgentSwitched() throws Exception {
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      client.send(
          "GET /clusters/prod/exec/pod?command=sh HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
              + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              + "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n\r\n");
      String head = client.readUntil("\r\n\r\n", new StringBuilder());

      assertThat(head)
          .startsWith("HTTP/1.1 101 Switching Protocols")
          .containsIgnoringCase("upgrade: websocket")
          .containsIgnoringCase("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
          .containsIgnoringCase("sec-websocket-protocol: v5.channel.k8s.io")
          .doesNotContainIgnoringCase("jit-upgraded");
      client.send("ping");
      assertThat(client.readUntil("echo:ping", new StringBuilder(head))).endsWith("echo:ping");
    }
    TestTunnelAgent.Received received = agent.nextRequest();
    assertThat(received.all("jit-upgrade")).containsExactly("websocket");
    assertThat(received.all("sec-websocket-key")).containsExactly("dGhlIHNhbXBsZSBub25jZQ==");
    assertThat(received.all("jit-grant")).containsExactly(FakeAccessEngine.SIGNED_GRANT);
    assertThat(received.names()).doesNotContain("connection", "upgrade", "authorization");
  }

  @Test
  void spdyUpgradeIsAnswered101WithTheAgentsStreamProtocol() throws Exception {
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      client.send(
          "POST /clusters/prod/exec/pod HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
              + "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n");
      String head = client.readUntil("\r\n\r\n", new StringBuilder());

      assertThat(head)
          .startsWith("HTTP/1.1 101")
          .containsIgnoringCase("upgrade: SPDY/3.1")
          .containsIgnoringCase("x-stream-protocol-version: v4.channel.k8s.io");
      client.send("frames");
      assertThat(client.readUntil("echo:frames", new StringBuilder())).contains("echo:frames");
    }
  }

  @Test
  void upgradeAnsweredWithoutASwitchIsPassedBackAndClosedWithoutAPipe() throws Exception {
    String response =
        raw(
            "GET /clusters/prod/exec-denied/pod HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
                + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 403").containsIgnoringCase("connection: close").doesNotContain("101");
  }
}
