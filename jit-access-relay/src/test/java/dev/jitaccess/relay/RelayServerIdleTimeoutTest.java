package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.relay.testing.FakeAccessEngine;
import dev.jitaccess.relay.testing.H2TestClient;
import dev.jitaccess.relay.testing.RawTlsClient;
import dev.jitaccess.relay.testing.TestTunnelAgent;
import dev.jitaccess.testkit.TestCertificates;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RelayServer.Builder#idleTimeout}: a connection or stream that carries no traffic either way for the idle
 * timeout is closed; one that keeps carrying traffic (a watch receiving events, an upload, an exec session) lives on,
 * however long it lasts (SECURITY 8: an idle timeout, not a body timeout).
 *
 * <p>A real timeout needs real time: the idle timeout is short ({@value #IDLE_MILLIS} ms), traffic is sent every
 * {@value #INTERVAL_MILLIS} ms by a scheduler, and the header-read timeout is far longer (30 s), so that only the
 * idle timeout can be what closes a connection within these tests' bounds.
 */
final class RelayServerIdleTimeoutTest {

  private static final TestCertificates CERTS = TestCertificates.create();
  private static final long IDLE_MILLIS = 500;
  private static final long INTERVAL_MILLIS = 100;
  private static final Duration IDLE = Duration.ofMillis(IDLE_MILLIS);
  /** Traffic spaced by the interval for this many rounds spans more than three idle timeouts. */
  private static final int ROUNDS = 16;
  /** Timer slack: the relay's idle timer may start a little before the client's clock does. */
  private static final Duration SLACK = Duration.ofMillis(200);
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final List<AutoCloseable> clients = new ArrayList<>();
  private FakeAccessEngine engine;
  private TestTunnelAgent agent;
  private RelayServer relay;

  @BeforeEach
  void start() {
    engine = new FakeAccessEngine();
    agent = TestTunnelAgent.start("prod");
    relay =
        RelayServer.builder()
            .tls(CERTS.serverKey(), CERTS.serverChain())
            .accessEngine(engine)
            .tunnelRegistry(agent)
            .idleTimeout(IDLE)
            .headerReadTimeout(Duration.ofSeconds(30))
            .build()
            .start();
  }

  @AfterEach
  void stop() throws Exception {
    scheduler.shutdownNow();
    for (AutoCloseable c : clients) {
      c.close();
    }
    relay.close();
    agent.close();
  }

  private RawTlsClient http1() throws Exception {
    RawTlsClient client = new RawTlsClient(CERTS, relay.port());
    clients.add(client);
    return client;
  }

  private H2TestClient http2() throws Exception {
    H2TestClient client = new H2TestClient(CERTS, relay.port(), false);
    clients.add(client);
    return client;
  }

  /** Runs {@code action(1..ROUNDS)}, the n-th at n intervals from now. */
  private void everyInterval(IntConsumer action) {
    for (int n = 1; n <= ROUNDS; n++) {
      int round = n;
      scheduler.schedule(() -> action.accept(round), round * INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private static String event(int n) {
    return "{\"type\":\"MODIFIED\",\"n\":" + n + "}";
  }

  private static Duration since(long startedNanos) {
    return Duration.ofNanos(System.nanoTime() - startedNanos);
  }

  /** Reads until the relay closes, and asserts it closed after the idle timeout, not sooner and not much later. */
  private static void assertClosedAfterTheIdleTimeout(RawTlsClient client, long quietSinceNanos) throws Exception {
    String rest = client.readUntilClosed();
    assertThat(since(quietSinceNanos)).isBetween(IDLE.minus(SLACK), WAIT);
    assertThat(rest).doesNotContain("HTTP/1.1");
  }

  // ---------------------------------------------------------------------------------------- HTTP/1.1

  @Test
  void http1ConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
    RawTlsClient client = http1();
    long connected = System.nanoTime();

    assertThat(client.readUntilClosed()).isEmpty();

    assertThat(since(connected)).isBetween(IDLE.minus(SLACK), WAIT);
    assertThat(engine.tokens).isEmpty();
  }

  @Test
  void http1KeepAliveConnectionIdleBetweenRequestsIsClosedAfterTheIdleTimeout() throws Exception {
    RawTlsClient client = http1();
    client.send("GET /clusters/prod/api/one HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n\r\n");
    assertThat(client.readUntil("/api/one\"", new StringBuilder())).startsWith("HTTP/1.1 200");
    long answered = System.nanoTime();

    assertClosedAfterTheIdleTimeout(client, answered);
    assertThat(agent.nextRequest().headers().path().toString()).isEqualTo("/api/one");
  }

  @Test
  void http1WatchWithoutEventsIsClosedWithItsTunnelStreamAndAudited() throws Exception {
    RawTlsClient client = http1();
    client.send("GET /clusters/prod/watch/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n\r\n");
    Channel watch = agent.nextWatch();
    assertThat(client.readUntil("\r\n\r\n", new StringBuilder())).startsWith("HTTP/1.1 200");
    long quiet = System.nanoTime();

    assertClosedAfterTheIdleTimeout(client, quiet);
    await().atMost(WAIT).until(() -> !watch.isActive());
    await().atMost(WAIT).until(() -> engine.audit.stream().anyMatch(e -> "idle timeout".equals(e.detail())));
    AuditEvent closed = engine.audit.stream().filter(e -> "idle timeout".equals(e.detail())).findFirst().orElseThrow();
    assertThat(closed.attributes()).containsEntry("path", "/watch/pods").containsEntry("status", "200");
  }

  @Test
  void http1WatchThatKeepsReceivingEventsOutlivesTheIdleTimeoutThenIdlesOut() throws Exception {
    RawTlsClient client = http1();
    client.send("GET /clusters/prod/watch/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n\r\n");
    Channel watch = agent.nextWatch();
    long started = System.nanoTime();

    everyInterval(n -> TestTunnelAgent.send(watch, event(n), false));

    // readUntil fails if the relay closes the connection before the last event.
    String received = client.readUntil(event(ROUNDS), new StringBuilder());
    long lastEvent = System.nanoTime();
    assertThat(since(started)).as("the watch was active for over three idle timeouts").isGreaterThan(IDLE.multipliedBy(3));
    for (int n = 1; n <= ROUNDS; n++) {
      assertThat(received).contains(event(n));
    }
    assertThat(watch.isActive()).isTrue();

    assertClosedAfterTheIdleTimeout(client, lastEvent);
    await().atMost(WAIT).until(() -> !watch.isActive());
  }

  @Test
  void http1UploadThatKeepsSendingOutlivesTheIdleTimeout() throws Exception {
    RawTlsClient client = http1();
    client.send(
        "POST /clusters/prod/api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    long started = System.nanoTime();

    everyInterval(
        n -> {
          try {
            String chunk = "part" + n + ";";
            client.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n" + (n == ROUNDS ? "0\r\n\r\n" : ""));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });

    String response = client.readUntilClosed();
    assertThat(since(started)).isGreaterThan(IDLE.multipliedBy(3));
    assertThat(response).startsWith("HTTP/1.1 200").contains("part1;part2;").contains("part" + ROUNDS + ";");
    assertThat(agent.nextRequest().body()).startsWith("part1;").endsWith("part" + ROUNDS + ";");
  }

  @Test
  void execSessionWithTrafficOutlivesTheIdleTimeoutThenIdlesOut() throws Exception {
    RawTlsClient client = http1();
    client.send(
        "GET /clusters/prod/exec/pod?command=sh HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice-token\r\n"
            + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    StringBuilder received = new StringBuilder();
    assertThat(client.readUntil("\r\n\r\n", received)).startsWith("HTTP/1.1 101");
    long started = System.nanoTime();

    everyInterval(
        n -> {
          try {
            client.send("stdin" + n + ";");
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });

    client.readUntil("stdin" + ROUNDS + ";", received);
    long lastEcho = System.nanoTime();
    assertThat(since(started)).isGreaterThan(IDLE.multipliedBy(3));
    assertThat(received.toString()).contains("echo:stdin1;");

    assertClosedAfterTheIdleTimeout(client, lastEcho);
    await().atMost(WAIT).until(() -> engine.audit.stream().anyMatch(e -> "upgraded".equals(e.detail())));
  }

  // ------------------------------------------------------------------------------------------ HTTP/2

  @Test
  void http2WatchWithoutEventsIsResetWhileTheConnectionStaysUsable() throws Exception {
    H2TestClient client = http2();
    H2TestClient.Stream stream = client.request(H2TestClient.get("/clusters/prod/watch/pods", "alice-token"), true);
    Channel watch = agent.nextWatch();
    assertThat(stream.status()).isEqualTo("200");
    long quiet = System.nanoTime();

    assertThat(stream.reset.get(5, TimeUnit.SECONDS)).isEqualTo(Http2Error.CANCEL.code());

    assertThat(since(quiet)).isBetween(IDLE.minus(SLACK), WAIT);
    await().atMost(WAIT).until(() -> !watch.isActive());
    assertThat(client.isOpen()).as("the idle timeout closed the stream, not the connection").isTrue();
    assertThat(client.request(H2TestClient.get("/clusters/prod/api/v1/namespaces", "alice-token"), true).status())
        .isEqualTo("200");
    await().atMost(WAIT).until(() -> engine.audit.stream().anyMatch(e -> "idle timeout".equals(e.detail())));
  }

  @Test
  void http2WatchThatKeepsReceivingEventsOutlivesTheIdleTimeoutWhileAnIdleOneBesideItIsReset() throws Exception {
    H2TestClient client = http2();
    H2TestClient.Stream active = client.request(H2TestClient.get("/clusters/prod/watch/active", "alice-token"), true);
    Channel activeWatch = agent.nextWatch();
    H2TestClient.Stream idle = client.request(H2TestClient.get("/clusters/prod/watch/idle", "alice-token"), true);
    agent.nextWatch();
    assertThat(active.status()).isEqualTo("200");
    assertThat(idle.status()).isEqualTo("200");
    long started = System.nanoTime();

    everyInterval(n -> TestTunnelAgent.send(activeWatch, event(n), false));

    await().atMost(WAIT).until(() -> active.body().contains(event(ROUNDS)));
    long lastEvent = System.nanoTime();
    assertThat(since(started)).isGreaterThan(IDLE.multipliedBy(3));
    assertThat(active.reset).as("the active watch was never reset").isNotDone();
    assertThat(active.done).isNotDone();
    assertThat(activeWatch.isActive()).isTrue();
    assertThat(idle.reset).as("the idle watch beside it was").isCompletedWithValue(Http2Error.CANCEL.code());

    assertThat(active.reset.get(5, TimeUnit.SECONDS)).isEqualTo(Http2Error.CANCEL.code());
    assertThat(since(lastEvent)).isGreaterThanOrEqualTo(IDLE.minus(SLACK));
  }

  @Test
  void http2ConnectionWithoutStreamsIsClosedAfterTheIdleTimeout() throws Exception {
    H2TestClient client = http2();
    long connected = System.nanoTime();

    assertThat(client.closeFuture().await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

    assertThat(since(connected)).isGreaterThanOrEqualTo(IDLE.minus(SLACK));
  }
}
