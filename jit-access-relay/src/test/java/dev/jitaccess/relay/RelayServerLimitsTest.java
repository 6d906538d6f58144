package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.relay.internal.AccessEngine;
import dev.jitaccess.relay.testing.FakeAccessEngine;
import dev.jitaccess.relay.testing.H2TestClient;
import dev.jitaccess.relay.testing.RawTlsClient;
import dev.jitaccess.testkit.TestCertificates;
import dev.jitaccess.relay.testing.TestTunnelAgent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** User-side limits: HTTP/2 abuse, per-subject concurrency, the authorization queue, and backpressure. */
final class RelayServerLimitsTest {

  private static final TestCertificates CERTS = TestCertificates.create();
  private static final Duration WAIT = Duration.ofSeconds(5);

  private FakeAccessEngine engine;
  private TestTunnelAgent agent;
  private RelayServer relay;
  private final List<AutoCloseable> clients = new ArrayList<>();

  @BeforeEach
  void start() {
    engine = new FakeAccessEngine();
    agent = TestTunnelAgent.start("prod");
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

  private RelayServer relay(UnaryOperator<RelayServer.Builder> options) {
    return relay(engine, options);
  }

  private RelayServer relay(AccessEngine accessEngine, UnaryOperator<RelayServer.Builder> options) {
    relay =
        options
            .apply(RelayServer.builder().tls(CERTS.serverKey(), CERTS.serverChain()).accessEngine(accessEngine).tunnelRegistry(agent))
            .build()
            .start();
    return relay;
  }

  private H2TestClient h2(boolean hostile) throws Exception {
    H2TestClient client = new H2TestClient(CERTS, relay.port(), hostile);
    clients.add(client);
    return client;
  }

  private static HttpClient http(HttpClient.Version version) {
    return HttpClient.newBuilder().version(version).sslContext(CERTS.clientContext()).connectTimeout(WAIT).build();
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + path))
        .header("Authorization", "Bearer alice-token")
        .build();
  }

  private String raw(String path) throws Exception {
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      return client
          .send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\nConnection: close\r\n\r\n")
          .readUntilClosed();
    }
  }

  private static Map<String, Object> statusBody(String response) throws Exception {
    return JSONObjectUtils.parse(response.substring(response.indexOf("\r\n\r\n") + 4));
  }

  // ------------------------------------------------------------------------------------------ HTTP/2 limits

  @Test
  void http2AdvertisesItsStreamAndHeaderListLimits() throws Exception {
    relay(b -> b);

    Http2Settings settings = h2(false).settings.get(5, TimeUnit.SECONDS);

    assertThat(settings.maxConcurrentStreams()).isEqualTo(250L);
    assertThat(settings.maxHeaderListSize()).isEqualTo((long) RelayServer.DEFAULT_MAX_HEADER_SIZE);
  }

  @Test
  void http2HeaderListOverTheLimitIsRefusedWithoutCallingTheEngine() throws Exception {
    relay(b -> b);
    H2TestClient client = h2(true);
    Http2Headers headers = H2TestClient.get("/clusters/prod/api/v1/namespaces", "alice-token").set("x-big", "a".repeat(18 * 1024));

    H2TestClient.Stream stream = client.request(headers, true);

    assertThat(stream.status()).isEqualTo("431");
    stream.done.get(5, TimeUnit.SECONDS);
    assertThat(engine.tokens).isEmpty();
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void http2HugeHeaderListClosesTheConnectionWithoutCallingTheEngine() throws Exception {
    relay(b -> b);
    H2TestClient client = h2(true);
    Http2Headers headers = H2TestClient.get("/clusters/prod/api/v1/namespaces", "alice-token").set("x-big", "a".repeat(100 * 1024));

    client.request(headers, true);

    assertThat(client.goAway.get(5, TimeUnit.SECONDS)).isNotEqualTo(Http2Error.NO_ERROR.code());
    assertThat(client.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(engine.tokens).isEmpty();
    assertThat(agent.receivedNothing()).isTrue();
  }

  @Test
  void http2StreamsBeyondMaxConcurrentStreamsAreRefused() throws Exception {
    relay(b -> b.maxConcurrentStreams(3));
    H2TestClient client = h2(true);
    assertThat(client.settings.get().maxConcurrentStreams()).isEqualTo(3L);
    List<H2TestClient.Stream> watches = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      watches.add(client.request(H2TestClient.get("/clusters/prod/watch/w" + i, "alice-token"), true));
      agent.nextWatch();
    }

    H2TestClient.Stream fourth = client.request(H2TestClient.get("/clusters/prod/watch/w3", "alice-token"), true);

    await().atMost(WAIT).until(() -> fourth.done.isDone());
    assertThat(fourth.writeFailure).as("the client sent the fourth stream").isNotDone();
    assertThat(fourth.reset).isCompletedWithValue(Http2Error.REFUSED_STREAM.code());
    assertThat(fourth.headers).isCompletedExceptionally();
    assertThat(engine.tokens).hasSize(3);
    assertThat(agent.pollRequest()).isNotNull();
    assertThat(client.isOpen()).as("refused a stream, kept the connection").isTrue();
    for (H2TestClient.Stream watch : watches) {
      assertThat(watch.status()).isEqualTo("200");
    }
  }

  @Test
  void http2RapidResetClosesTheConnectionWithGoAwayAndOthersAreStillServed() throws Exception {
    relay(b -> b);
    H2TestClient attacker = h2(false);

    // The relay allows 200 RST_STREAM per 30 s; the attacker sends one pair more and then stops writing, so the
    // relay closes a connection with nothing unread and the GOAWAY is not lost to a TCP reset.
    int sent = attacker.rapidReset(H2TestClient.get("/clusters/prod/api/v1/namespaces", "alice-token"), 201);

    assertThat(sent).isEqualTo(201);
    assertThat(attacker.goAway.get(10, TimeUnit.SECONDS)).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
    assertThat(attacker.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
    HttpResponse<String> other = http(HttpClient.Version.HTTP_2).send(request("/clusters/prod/api/v1/namespaces"), HttpResponse.BodyHandlers.ofString());
    assertThat(other.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(other.statusCode()).isEqualTo(200);
  }

  @Test
  void http2ContinuationFloodClosesTheConnectionBeforeTheBlockIsBuffered() throws Exception {
    relay(b -> b);
    H2TestClient client = h2(false);

    // A 16 MiB header block, far more than the kernel's socket buffers hold: if the relay buffered the block
    // instead of closing, the client would get all 2048 frames out.
    int frames =
        client.unfinishedHeaderBlock(1001, H2TestClient.get("/clusters/prod/api/v1/namespaces", "alice-token"), 16384, 8 * 1024, 2048);

    // The client is still writing when the relay gives up, so the relay's GOAWAY may be lost to the TCP reset
    // that closing with unread data causes: what must hold is that the connection is closed early.
    assertThat(client.closeFuture().await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(frames).as("frames written before the relay closed the connection").isLessThan(2048);
    if (client.goAway.isDone()) {
      assertThat(client.goAway.get()).isNotEqualTo(Http2Error.NO_ERROR.code());
    }
    assertThat(engine.tokens).isEmpty();
  }

  @Test
  void http2HeaderBlockThatNeverEndsIsClosedAfterTheHeaderReadTimeout() throws Exception {
    relay(b -> b.headerReadTimeout(Duration.ofMillis(300)));
    H2TestClient client = h2(false);

    client.unfinishedHeaderBlock(1001, H2TestClient.get("/clusters/prod/api/v1/namespaces", "alice-token"), 0, 16, 1);
    client.continuation(1001, 8);

    assertThat(client.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(engine.tokens).isEmpty();
  }

  @Test
  void http2ConnectionWithAnOpenStreamOutlivesTheHeaderReadTimeout() throws Exception {
    relay(b -> b.headerReadTimeout(Duration.ofMillis(200)));
    H2TestClient client = h2(false);
    H2TestClient.Stream watch = client.request(H2TestClient.get("/clusters/prod/watch/w", "alice-token"), true);
    assertThat(watch.status()).isEqualTo("200");

    await().during(Duration.ofMillis(800)).atMost(WAIT).until(client::isOpen);
  }

  // ------------------------------------------------------------------------------ per-subject concurrency

  @Test
  void subjectOverItsConcurrentRequestLimitGets429UntilOneOfItsRequestsEnds() throws Exception {
    relay(b -> b.maxConcurrentRequestsPerSubject(2));
    CompletableFuture<HttpResponse<Stream<String>>> http1Watch =
        http(HttpClient.Version.HTTP_1_1).sendAsync(request("/clusters/prod/watch/a"), HttpResponse.BodyHandlers.ofLines());
    var first = agent.nextWatch();
    H2TestClient.Stream http2Watch = h2(false).request(H2TestClient.get("/clusters/prod/watch/b", "alice-token"), true);
    agent.nextWatch();
    assertThat(http1Watch.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(http2Watch.status()).isEqualTo("200");

    String refused = raw("/clusters/prod/api/v1/namespaces");

    assertThat(refused).startsWith("HTTP/1.1 429").containsIgnoringCase("retry-after: 1");
    Map<String, Object> status = statusBody(refused);
    assertThat(status).containsEntry("kind", "Status").containsEntry("reason", "TooManyRequests").containsEntry("code", 429L);
    assertThat((String) status.get("message")).contains("alice").contains("2");
    assertThat(JSONObjectUtils.getJSONObject(status, "details")).containsEntry("retryAfterSeconds", 1L);
    assertThat(agent.pollRequest()).isNotNull(); // watch a
    assertThat(agent.pollRequest()).isNotNull(); // watch b
    assertThat(agent.pollRequest()).as("the refused request never reached the agent").isNull();

    Iterator<String> lines = http1Watch.get().body().iterator();
    TestTunnelAgent.send(first, "{\"type\":\"DELETED\"}", true);
    assertThat(lines.next()).isEqualTo("{\"type\":\"DELETED\"}");

    await().atMost(WAIT).until(() -> raw("/clusters/prod/api/v1/namespaces").startsWith("HTTP/1.1 200"));
    await().atMost(WAIT).until(() -> engine.audit.stream().anyMatch(e -> "429".equals(e.attributes().get("status"))));
  }

  @Test
  void clientResetOfAStreamFreesTheSubjectsSlot() throws Exception {
    relay(b -> b.maxConcurrentRequestsPerSubject(1));
    H2TestClient client = h2(false);
    H2TestClient.Stream watch = client.request(H2TestClient.get("/clusters/prod/watch/a", "alice-token"), true);
    var atAgent = agent.nextWatch();
    assertThat(watch.status()).isEqualTo("200");
    assertThat(raw("/clusters/prod/api/v1/namespaces")).startsWith("HTTP/1.1 429");

    watch.cancel();

    await().atMost(WAIT).until(() -> !atAgent.isActive());
    await().atMost(WAIT).until(() -> raw("/clusters/prod/api/v1/namespaces").startsWith("HTTP/1.1 200"));
  }

  @Test
  void refusedAndFailedRequestsDoNotLeakSlots() throws Exception {
    relay(b -> b.maxConcurrentRequestsPerSubject(1));
    agent.connected(false);
    for (int i = 0; i < 3; i++) {
      assertThat(raw("/clusters/prod/api/v1/namespaces")).startsWith("HTTP/1.1 503");
    }
    agent.connected(true);

    for (int i = 0; i < 3; i++) {
      assertThat(raw("/clusters/prod/api/v1/namespaces")).startsWith("HTTP/1.1 200");
    }
  }

  // ----------------------------------------------------------------------------------- authorization pool

  /** Blocks every authorization until released. */
  private static final class BlockingEngine implements AccessEngine {
    final FakeAccessEngine delegate = new FakeAccessEngine();
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger entered = new AtomicInteger();

    @Override
    public Authorized authorize(String bearerToken, String cluster) {
      entered.incrementAndGet();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return delegate.authorize(bearerToken, cluster);
    }

    @Override
    public String verifyAgentCredential(String credential) {
      return delegate.verifyAgentCredential(credential);
    }

    @Override
    public void audit(AuditEvent event) {
      delegate.audit(event);
    }

    @Override
    public InstantSource clock() {
      return delegate.clock();
    }
  }

  @Test
  void fullAuthorizationQueueIs429WithRetryAfter() throws Exception {
    BlockingEngine blocking = new BlockingEngine();
    relay(blocking, b -> b.authorizationPool(1, 1));
    HttpClient http = http(HttpClient.Version.HTTP_1_1);
    CompletableFuture<HttpResponse<String>> running = http.sendAsync(request("/clusters/prod/api/v1/namespaces"), HttpResponse.BodyHandlers.ofString());
    await().atMost(WAIT).until(() -> blocking.entered.get() == 1);

    CompletableFuture<HttpResponse<String>> b = http.sendAsync(request("/clusters/prod/api/v1/namespaces"), HttpResponse.BodyHandlers.ofString());
    CompletableFuture<HttpResponse<String>> c = http.sendAsync(request("/clusters/prod/api/v1/namespaces"), HttpResponse.BodyHandlers.ofString());

    HttpResponse<String> refused = b.applyToEither(c, r -> r).get(5, TimeUnit.SECONDS);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
    assertThat(JSONObjectUtils.parse(refused.body())).containsEntry("reason", "TooManyRequests");
    CompletableFuture<HttpResponse<String>> queued = refused == b.getNow(null) ? c : b;
    assertThat(queued).isNotDone();
    assertThat(blocking.entered).hasValue(1);

    blocking.release.countDown();

    assertThat(running.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(queued.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(blocking.entered).hasValue(2);
  }

  // ---------------------------------------------------------------------------------------- backpressure

  @Test
  void slowReaderOfAHugeStreamHoldsBoundedMemoryWhileOthersOnTheTunnelStayResponsive() throws Exception {
    relay(b -> b);
    try (RawTlsClient slow = new RawTlsClient(CERTS, relay.port(), 64 * 1024)) {
      slow.send("GET /clusters/prod/big HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n\r\n");
      assertThat(slow.readUntil("\r\n\r\n", new StringBuilder())).startsWith("HTTP/1.1 200");

      long stalled = awaitStable(agent::bigBytesWritten);
      // Bounded by the tunnel stream's window, the relay's write buffer and the sockets' buffers, not by 64 MiB.
      assertThat(stalled).isPositive().isLessThan(8L * 1024 * 1024);

      HttpClient other = http(HttpClient.Version.HTTP_2);
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> small =
            other.sendAsync(request("/clusters/prod/api/v1/small" + i), HttpResponse.BodyHandlers.ofString()).get(2, TimeUnit.SECONDS);
        assertThat(small.statusCode()).isEqualTo(200);
        assertThat(small.body()).contains("/api/v1/small" + i);
      }
      assertThat(agent.bigBytesWritten()).isEqualTo(stalled);

      InputStream in = slow.input();
      byte[] buffer = new byte[64 * 1024];
      long read = 0;
      while (read < 2L * stalled) {
        int n = in.read(buffer);
        assertThat(n).isPositive();
        read += n;
      }
      await().atMost(WAIT).until(() -> agent.bigBytesWritten() > stalled);
    }
  }

  @Test
  void http2SlowReaderOfAHugeStreamHoldsOnlyWindowsWhileOthersStayResponsive() throws Exception {
    relay(b -> b);
    H2TestClient slowClient = h2(false);
    H2TestClient.Stream slow = slowClient.requestPaused(H2TestClient.get("/clusters/prod/big", "alice-token"));
    assertThat(slow.status()).isEqualTo("200");

    long stalled = awaitStable(agent::bigBytesWritten);
    // HTTP/2 flow control end to end: the client's 64 KiB stream window, what the relay may hold between its loops,
    // the tunnel stream's 64 KiB window. No socket buffer is involved.
    assertThat(stalled).isPositive().isLessThan(512L * 1024);

    HttpClient other = http(HttpClient.Version.HTTP_2);
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> small =
          other.sendAsync(request("/clusters/prod/api/v1/small" + i), HttpResponse.BodyHandlers.ofString()).get(2, TimeUnit.SECONDS);
      assertThat(small.statusCode()).isEqualTo(200);
    }

    slow.resume();

    await().atMost(WAIT).until(() -> agent.bigBytesWritten() > 4 * stalled && slow.bodyBytes.get() > 2 * stalled);
  }

  /** Waits until the value stops changing for a few polls and returns it. */
  private static long awaitStable(java.util.function.LongSupplier value) {
    long[] last = {-1};
    int[] same = {0};
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              long now = value.getAsLong();
              same[0] = now == last[0] && now > 0 ? same[0] + 1 : 0;
              last[0] = now;
              return same[0] >= 5;
            });
    return last[0];
  }
}
