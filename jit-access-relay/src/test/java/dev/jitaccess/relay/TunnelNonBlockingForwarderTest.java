package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.UpgradedConnection;
import dev.jitaccess.api.spi.ClusterForwarder;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agent with a forwarder that never blocks ({@link ClusterForwarder#isNonBlocking()}) and delivers bodies
 * through {@link ForwardResponse#bodyPublisher()}: warm requests are forwarded on the event loop, bodies are
 * copied without a thread per stream, and demand follows the tunnel stream's flow control.
 */
final class TunnelNonBlockingForwarderTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final int CHUNK = 16 * 1024;

  private final TunnelFixture fixture = new TunnelFixture();
  private final AsyncForwarder forwarder = new AsyncForwarder();

  @AfterEach
  void close() {
    fixture.close();
    forwarder.thread.shutdownNow();
  }

  private String connectedAgentWithGrant() {
    fixture.grants.remembers = true;
    fixture.startAgent("cred-a", forwarder);
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    return fixture.grant("g1", "alice", Duration.ofMinutes(5));
  }

  @Test
  void warmRequestIsForwardedOnTheEventLoopWithoutVerifyingOrProvisioningAgain() throws Exception {
    String grant = connectedAgentWithGrant();
    forwarder.responder = r -> Body.of("first");

    assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api/1", grant).awaitBody(WAIT)).isEqualTo("first");
    forwarder.responder = r -> Body.of("second");
    assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api/2", grant).awaitBody(WAIT))
        .isEqualTo("second");

    assertThat(fixture.grants.verifyCalls).hasValue(1);
    assertThat(fixture.provisioner.ensureCalls).hasValue(1);
    // cold: the signature check (and provisioning) ran on a worker, which may block ...
    assertThat(fixture.grants.verifyThreads).singleElement().asString().startsWith("jit-agent-worker-");
    // ... and both forwards ran on the tunnel's event loop (the cold one after going back to it)
    assertThat(forwarder.callers).hasSize(2).noneMatch(name -> name.startsWith("jit-agent-worker-"));
    assertThat(forwarder.tokens).containsOnly("sa-token-1");
  }

  @Test
  void forwarderThatMayBlockIsNeverCalledOnTheEventLoop() throws Exception {
    String grant = connectedAgentWithGrant();
    forwarder.nonBlocking = false;
    forwarder.responder = r -> Body.of("ok");

    TunnelTestClient.simple(fixture.registry(), "a", "/api/1", grant).awaitBody(WAIT);
    TunnelTestClient.simple(fixture.registry(), "a", "/api/2", grant).awaitBody(WAIT);

    assertThat(forwarder.callers).hasSize(2).allMatch(name -> name.startsWith("jit-agent-worker-"));
  }

  @Test
  void bodyStreamsIncrementallyAndEndsTheStream() throws Exception {
    String grant = connectedAgentWithGrant();
    Body watch = new Body();
    forwarder.responder = r -> watch;

    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), "a", "/api?watch=true", grant);
    assertThat(client.status(WAIT)).isEqualTo("200");
    await().atMost(WAIT).until(() -> watch.requested.get() > 0);
    watch.emit("event-1\n");
    await().atMost(WAIT).until(() -> client.body().equals("event-1\n"));
    assertThat(client.done).isNotDone();

    await().atMost(WAIT).until(() -> watch.requested.get() > 0);
    watch.emit("event-2\n");
    watch.complete();

    assertThat(client.awaitBody(WAIT)).isEqualTo("event-1\nevent-2\n");
  }

  @Test
  void slowReaderStopsTheDemandSoTheAgentHoldsAtMostTheWindowAndItsHandOver() throws Exception {
    String grant = connectedAgentWithGrant();
    Body big = new Body();
    forwarder.responder = r -> big;

    TunnelTestClient slow =
        TunnelTestClient.send(fixture.registry(), "a", TunnelTestClient.get("/big", grant), null, true, true);
    assertThat(slow.status(WAIT)).isEqualTo("200");
    // Emit a chunk whenever one is asked for, until the agent stops asking.
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              while (big.requested.get() > 0) {
                big.emit(new byte[CHUNK]);
              }
              return big.emitted.get() > 0;
            });
    await()
        .during(Duration.ofMillis(300))
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              boolean idle = big.requested.get() == 0;
              while (big.requested.get() > 0) {
                big.emit(new byte[CHUNK]);
              }
              return idle;
            });

    // 64 KiB tunnel stream window + 64 KiB hand-over + one chunk in flight, never the whole body.
    assertThat(big.emitted.get()).isLessThanOrEqualTo(64 * 1024 + 64 * 1024 + 2L * CHUNK);
    assertThat(big.cancelled).isFalse();

    // Another request on the same tunnel is answered meanwhile.
    forwarder.responder = r -> Body.of("small");
    assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/small", grant).awaitBody(WAIT)).isEqualTo("small");
  }

  private List<TunnelTestClient> openWatches(int count, String grant) {
    List<TunnelTestClient> clients = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      clients.add(TunnelTestClient.simple(fixture.registry(), "a", "/api?watch=true&i=" + i, grant));
    }
    return clients;
  }

  /** New requests are answered, and none of the given tunnels was closed. */
  private void assertTheTunnelsStillServe(java.util.Set<io.netty.channel.Channel> tunnels, String grant)
      throws Exception {
    forwarder.responder = r -> Body.of("still here");
    for (int i = 0; i < 4; i++) {
      assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/after", grant).awaitBody(WAIT))
          .isEqualTo("still here");
    }
    assertThat(tunnels).allMatch(io.netty.channel.Channel::isActive);
  }

  /** From now on every request is answered with a new body that stays open; returns them in order. */
  private List<Body> answerEveryRequestWithAnOpenBody() {
    List<Body> bodies = new CopyOnWriteArrayList<>();
    forwarder.responder =
        r -> {
          Body b = new Body();
          bodies.add(b);
          return b;
        };
    return bodies;
  }

  @Test
  void idleStreamsHoldNoAgentThread() throws Exception {
    String grant = connectedAgentWithGrant();
    TunnelTestClient.simple(fixture.registry(), "a", "/warm", grant).awaitBody(WAIT); // provisions
    List<Body> watches = answerEveryRequestWithAnOpenBody();
    long workersBefore = workerThreads();

    for (int i = 0; i < 40; i++) {
      assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api?watch=true&i=" + i, grant).status(WAIT))
          .isEqualTo("200");
    }

    await().atMost(WAIT).until(() -> watches.size() == 40 && watches.stream().allMatch(w -> w.requested.get() > 0));
    assertThat(workerThreads()).isLessThanOrEqualTo(workersBefore + 1);
  }

  /**
   * The relay cancels a stream (RST_STREAM) whenever a user goes away, so many users closing their watches
   * at once send the agent hundreds of resets within seconds. The relay is authenticated and limits resets
   * per user connection itself; the agent must not apply HTTP/2 rapid-reset protection against it, or a few
   * users could tear down the tunnel every other user of the cluster depends on.
   */
  @Test
  void hundredsOfCancelledStreamsDoNotCostTheTunnel() throws Exception {
    String grant = connectedAgentWithGrant();
    TunnelTestClient.simple(fixture.registry(), "a", "/warm", grant).awaitBody(WAIT);
    List<Body> watches = answerEveryRequestWithAnOpenBody();
    int streams = 450; // Netty's default server limit is 200 resets per 30 s
    List<TunnelTestClient> clients = openWatches(streams, grant);
    for (TunnelTestClient client : clients) {
      assertThat(client.status(WAIT)).isEqualTo("200");
    }
    java.util.Set<io.netty.channel.Channel> tunnels = new java.util.HashSet<>();
    for (TunnelTestClient client : clients) {
      tunnels.add(client.channel.parent());
      client.channel.close(); // RST_STREAM (CANCEL) to the agent
    }

    await().atMost(WAIT).until(() -> watches.size() == streams && watches.stream().allMatch(w -> w.cancelled));
    assertTheTunnelsStillServe(tunnels, grant);
  }

  /**
   * The other direction: when kube-apiserver restarts, every open watch fails at once and the agent resets each
   * tunnel stream. The relay, the HTTP/2 client on the tunnel, must keep the tunnel.
   */
  @Test
  void hundredsOfStreamsResetByTheAgentDoNotCostTheTunnel() throws Exception {
    String grant = connectedAgentWithGrant();
    TunnelTestClient.simple(fixture.registry(), "a", "/warm", grant).awaitBody(WAIT);
    List<Body> watches = answerEveryRequestWithAnOpenBody();
    int streams = 450;
    List<TunnelTestClient> clients = openWatches(streams, grant);
    java.util.Set<io.netty.channel.Channel> tunnels = new java.util.HashSet<>();
    for (TunnelTestClient client : clients) {
      assertThat(client.status(WAIT)).isEqualTo("200");
      tunnels.add(client.channel.parent());
    }
    await().atMost(WAIT).until(() -> watches.size() == streams && watches.stream().allMatch(w -> w.requested.get() > 0));

    for (Body watch : watches) {
      watch.fail(new RelayException("kube-apiserver closed the connection"));
    }

    await().atMost(WAIT).until(() -> clients.stream().allMatch(c -> c.done.isCompletedExceptionally()));
    assertTheTunnelsStillServe(tunnels, grant);
  }

  /**
   * The agent allows 1,000 concurrent streams per tunnel. Beyond that the relay refuses the request itself, with
   * a reason, instead of sending a stream the agent would refuse; a tunnel with room again is used again.
   */
  @Test
  void aFullTunnelIsRefusedAtTheRelayUntilAStreamEnds() throws Exception {
    fixture.grants.remembers = true;
    RelayAgent agent = fixture.agentBuilder("cred-a", fixture.provisioner, forwarder).tunnelConnections(1).build();
    try {
      agent.start();
      await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
      String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
      TunnelTestClient.simple(fixture.registry(), "a", "/warm", grant).awaitBody(WAIT);
      answerEveryRequestWithAnOpenBody();
      List<TunnelTestClient> clients = openWatches(1000, grant);
      for (TunnelTestClient client : clients) {
        assertThat(client.status(WAIT)).isEqualTo("200");
      }

      io.netty.util.concurrent.Future<io.netty.handler.codec.http2.Http2StreamChannel> refused =
          fixture.registry().openStream("a", new TunnelTestClient.Noop()).awaitUninterruptibly();
      assertThat(refused.cause())
          .isInstanceOf(dev.jitaccess.relay.internal.TunnelsFullException.class)
          .hasMessageContaining("serving its limit of 1000 concurrent requests on its tunnel");

      clients.get(0).channel.close();
      forwarder.responder = r -> Body.of("room again");
      await()
          .atMost(WAIT)
          .until(
              () -> {
                var open = fixture.registry().openStream("a", new TunnelTestClient.Noop()).awaitUninterruptibly();
                if (open.isSuccess()) {
                  open.getNow().close();
                }
                return open.isSuccess();
              });
      assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/after", grant).awaitBody(WAIT))
          .isEqualTo("room again");
    } finally {
      agent.close();
    }
  }

  @Test
  void revocationCancelsTheBodyAndClosesTheResponse() throws Exception {
    String grant = connectedAgentWithGrant();
    Body watch = new Body();
    forwarder.responder = r -> watch;
    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), "a", "/api?watch=true", grant);
    assertThat(client.status(WAIT)).isEqualTo("200");

    fixture.registry().revoke("alice", "a");

    await().atMost(WAIT).until(() -> client.done.isCompletedExceptionally());
    await().atMost(WAIT).until(() -> watch.cancelled && watch.closed.get());
  }

  @Test
  void bodyFailureResetsTheStream() throws Exception {
    String grant = connectedAgentWithGrant();
    Body watch = new Body();
    forwarder.responder = r -> watch;
    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), "a", "/api?watch=true", grant);
    assertThat(client.status(WAIT)).isEqualTo("200");
    await().atMost(WAIT).until(() -> watch.requested.get() > 0);

    watch.fail(new RelayException("kube-apiserver closed the connection"));

    await().atMost(WAIT).until(() -> client.done.isCompletedExceptionally());
  }

  @Test
  void failedForwardIsA502() throws Exception {
    String grant = connectedAgentWithGrant();
    forwarder.failure = new RelayException("kube-apiserver at 10.0.0.1:443 did not answer GET /api");

    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), "a", "/api", grant);

    assertThat(client.status(WAIT)).isEqualTo("502");
    assertThat(client.awaitBody(WAIT)).contains("kube-apiserver could not be reached");
  }

  private static long workerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("jit-agent-worker-"))
        .count();
  }

  /** Completes every forward later on its own thread, like a Netty client's event loop. */
  static final class AsyncForwarder implements ClusterForwarder {
    final ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "fake-forwarder"));
    final List<String> callers = new CopyOnWriteArrayList<>();
    final List<String> tokens = new CopyOnWriteArrayList<>();
    volatile java.util.function.Function<ForwardRequest, Body> responder = r -> Body.of("ok");
    volatile boolean nonBlocking = true;
    volatile @Nullable RelayException failure;

    @Override
    public ForwardResponse forward(ForwardRequest request, String bearerToken) {
      return forwardAsync(request, bearerToken).join();
    }

    @Override
    public CompletableFuture<ForwardResponse> forwardAsync(ForwardRequest request, String bearerToken) {
      callers.add(Thread.currentThread().getName());
      tokens.add(bearerToken);
      RelayException fail = failure;
      if (fail != null) {
        return CompletableFuture.failedFuture(fail);
      }
      return CompletableFuture.supplyAsync(() -> responder.apply(request), thread);
    }

    @Override
    public boolean isNonBlocking() {
      return nonBlocking;
    }
  }

  /** A 200 whose body the test emits chunk by chunk; records demand, cancellation and close. */
  static final class Body implements ForwardResponse, Flow.Publisher<ByteBuffer>, Flow.Subscription {
    final AtomicLong requested = new AtomicLong();
    final AtomicLong emitted = new AtomicLong();
    final AtomicBoolean closed = new AtomicBoolean();
    volatile boolean cancelled;
    private volatile Flow.@Nullable Subscriber<? super ByteBuffer> subscriber;
    private @Nullable String whole;

    static Body of(String text) {
      Body body = new Body();
      body.whole = text;
      return body;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
      subscriber = s;
      s.onSubscribe(this);
      if (whole != null) {
        emit(whole);
        complete();
      }
    }

    @Override
    public void request(long n) {
      requested.addAndGet(n);
    }

    @Override
    public void cancel() {
      cancelled = true;
      close();
    }

    synchronized void emit(String text) {
      emit(text.getBytes(StandardCharsets.UTF_8));
    }

    synchronized void emit(byte[] bytes) {
      requested.decrementAndGet();
      emitted.addAndGet(bytes.length);
      subscriber.onNext(ByteBuffer.wrap(bytes));
    }

    synchronized void complete() {
      subscriber.onComplete();
    }

    synchronized void fail(Throwable t) {
      subscriber.onError(t);
    }

    @Override
    public int status() {
      return 200;
    }

    @Override
    public Map<String, List<String>> headers() {
      return Map.of("content-type", List.of("application/json"));
    }

    @Override
    public InputStream body() {
      throw new IllegalStateException("the agent must use bodyPublisher()");
    }

    @Override
    public Optional<Flow.Publisher<ByteBuffer>> bodyPublisher() {
      return Optional.of(this);
    }

    @Override
    public Optional<UpgradedConnection> upgraded() {
      return Optional.empty();
    }

    @Override
    public void close() {
      closed.set(true);
    }
  }
}
