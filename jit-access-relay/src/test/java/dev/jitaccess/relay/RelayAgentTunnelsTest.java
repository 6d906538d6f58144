package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.TunnelFakes.EndlessBody;
import dev.jitaccess.relay.TunnelFakes.FakeForwarder;
import dev.jitaccess.relay.TunnelFakes.FakeProvisioner;
import dev.jitaccess.relay.TunnelFakes.MutableClock;
import dev.jitaccess.relay.TunnelFakes.SimpleResponse;
import dev.jitaccess.relay.internal.DefaultTunnelRegistry;
import dev.jitaccess.testkit.TestCertificates;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The agent holds one tunnel per relay event loop, and the relay sends a request through its own loop's tunnel. */
final class RelayAgentTunnelsTest {
  private static final TestCertificates CERTS = TestCertificates.create();
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final MutableClock clock = new MutableClock();
  private final FakeForwarder forwarder = new FakeForwarder();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final JitAccess jit =
      JitAccess.builder()
          .policyProvider(r -> new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofMinutes(5)))
          .clock(clock)
          .build();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable closeable : closeables) {
      closeable.close();
    }
  }

  private RelayServer relayWithTwoLoops() {
    RelayServer relay =
        RelayServer.builder().tls(CERTS.serverKey(), CERTS.serverChain()).jitAccess(jit).ioThreads(2).build().start();
    closeables.add(0, relay);
    return relay;
  }

  private RelayAgent.Builder agentBuilder(RelayServer relay) {
    return RelayAgent.builder()
        .relayUri(URI.create("https://localhost:" + relay.tunnelPort()))
        .credential(jit.issueAgentCredential("c1", Duration.ofHours(1)))
        .trustedCertificates(CERTS.ca())
        .provisioner(new FakeProvisioner(clock))
        .forwarder(forwarder)
        .clock(clock)
        .grantVerifier(jit.grantVerifier("c1"));
  }

  private RelayAgent start(RelayAgent.Builder builder) {
    RelayAgent agent = builder.build();
    closeables.add(0, agent);
    return agent.start();
  }

  private static DefaultTunnelRegistry registry(RelayServer relay) {
    return Objects.requireNonNull(relay.builtInTunnelRegistry());
  }

  /** Counts the streams the relay opens on a tunnel from now on. */
  private static AtomicInteger countStreams(Channel tunnel) throws Exception {
    AtomicInteger count = new AtomicInteger();
    tunnel.eventLoop()
        .submit(
            () ->
                tunnel.pipeline()
                    .get(Http2FrameCodec.class)
                    .connection()
                    .addListener(
                        new Http2ConnectionAdapter() {
                          @Override
                          public void onStreamAdded(Http2Stream stream) {
                            count.incrementAndGet();
                          }
                        }))
        .get(5, TimeUnit.SECONDS);
    return count;
  }

  @Test
  void agentHoldsOneTunnelPerRelayEventLoopEachOnItsOwnLoop() {
    RelayServer relay = relayWithTwoLoops();
    RelayAgent agent = start(agentBuilder(relay));

    await().atMost(WAIT).until(() -> agent.connectedTunnels() == 2 && registry(relay).tunnelCount("c1") == 2);

    assertThat(agent.tunnelConnectionCount()).isEqualTo(2);
    assertThat(agent.tunnelChannels()).hasSize(2);
    List<Channel> tunnels = registry(relay).tunnels("c1");
    assertThat(tunnels).hasSize(2);
    // Dialed back to back on an idle relay: consecutive accepts, dealt to the two loops in turn.
    assertThat(tunnels.get(0).eventLoop()).isNotSameAs(tunnels.get(1).eventLoop());
  }

  @Test
  void openStreamFromAnEventLoopUsesTheTunnelOnThatLoop() throws Exception {
    RelayServer relay = relayWithTwoLoops();
    RelayAgent agent = start(agentBuilder(relay));
    await().atMost(WAIT).until(() -> agent.connectedTunnels() == 2 && registry(relay).tunnelCount("c1") == 2);
    DefaultTunnelRegistry registry = registry(relay);

    for (Channel tunnel : registry.tunnels("c1")) {
      EventLoop loop = tunnel.eventLoop();
      // Several times: round robin alone would hand out the other tunnel every second time.
      for (int i = 0; i < 4; i++) {
        Http2StreamChannel stream =
            loop.submit(() -> registry.openStream("c1", new ChannelInboundHandlerAdapter()))
                .get(5, TimeUnit.SECONDS)
                .get(5, TimeUnit.SECONDS);
        assertThat(stream.parent()).isSameAs(tunnel);
        stream.close().syncUninterruptibly();
      }
    }
  }

  @Test
  void requestsOfOneUserConnectionAllGoThroughTheTunnelOnItsLoop() throws Exception {
    RelayServer relay = relayWithTwoLoops();
    RelayAgent agent = start(agentBuilder(relay));
    await().atMost(WAIT).until(() -> agent.connectedTunnels() == 2 && registry(relay).tunnelCount("c1") == 2);
    List<Channel> tunnels = registry(relay).tunnels("c1");
    String token = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    AtomicInteger viaFirst = countStreams(tunnels.get(0));
    AtomicInteger viaSecond = countStreams(tunnels.get(1));

    // One HTTP/2 connection: all its requests run on the loop it was accepted on.
    HttpClient first = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(CERTS.clientContext()).build();
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> response = first.send(request(relay, token), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
    }
    assertThat(List.of(viaFirst.get(), viaSecond.get()))
        .as("all six through one tunnel, none through the other")
        .containsExactlyInAnyOrder(6, 0);

    // The next connection is accepted on the other loop: its requests take the other tunnel.
    HttpClient second = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(CERTS.clientContext()).build();
    for (int i = 0; i < 6; i++) {
      assertThat(second.send(request(relay, token), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
    assertThat(List.of(viaFirst.get(), viaSecond.get())).containsExactly(6, 6);
    assertThat(forwarder.calls).hasSize(12);
  }

  private static HttpRequest request(RelayServer relay, String token) {
    return HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + "/clusters/c1/api/v1/pods"))
        .header("Authorization", "Bearer " + token)
        .build();
  }

  @Test
  void tunnelConnectionsOneHoldsOneTunnelEvenWhenTheRelayAdvertisesTwo() {
    RelayServer relay = relayWithTwoLoops();
    RelayAgent agent = start(agentBuilder(relay).tunnelConnections(1));

    await().atMost(WAIT).until(agent::isConnected);

    await()
        .during(Duration.ofMillis(500))
        .atMost(WAIT)
        .until(() -> registry(relay).tunnelCount("c1") == 1 && agent.tunnelConnectionCount() == 1);
  }

  @Test
  void explicitTunnelConnectionsOverrideTheRelaysCountUpwardsToo() {
    RelayServer relay = relayWithTwoLoops();
    RelayAgent agent = start(agentBuilder(relay).tunnelConnections(3));

    await().atMost(WAIT).until(() -> agent.connectedTunnels() == 3 && registry(relay).tunnelCount("c1") == 3);
    assertThat(agent.tunnelConnectionCount()).isEqualTo(3);
  }

  @Test
  void aRelayThatAdvertisesNoSlotsGetsOneTunnel() {
    try (TunnelFixture fixture = new TunnelFixture()) {
      fixture.startOlderListener();
      RelayAgent agent = fixture.startAgent("cred-a");

      await().atMost(WAIT).until(agent::isConnected);

      await()
          .during(Duration.ofMillis(500))
          .atMost(WAIT)
          .until(() -> fixture.registry().tunnelCount("a") == 1 && agent.tunnelConnectionCount() == 1);
    }
  }

  @Test
  void whenOneTunnelIsKilledRequestsGoThroughTheOtherAtOnceAndTheKilledOneReconnects() throws Exception {
    try (TunnelFixture fixture = new TunnelFixture()) {
      RelayAgent agent = fixture.closeLater(fixture.agentBuilder("cred-a").tunnelConnections(2).build()).start();
      await().atMost(WAIT).until(() -> agent.connectedTunnels() == 2 && fixture.registry().tunnelCount("a") == 2);
      String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
      Channel killed = fixture.registry().tunnels("a").get(0);

      killed.close().syncUninterruptibly();

      assertThat(fixture.registry().tunnelCount("a")).isEqualTo(1);
      assertThat(fixture.registry().tunnels("a")).doesNotContain(killed);
      for (int i = 0; i < 3; i++) {
        assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).status(WAIT)).isEqualTo("200");
      }
      assertThat(agent.isConnected()).isTrue();
      // Backoff 50 ms to 300 ms in the fixture.
      await().atMost(WAIT).until(() -> agent.connectedTunnels() == 2 && fixture.registry().tunnelCount("a") == 2);
      assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).status(WAIT)).isEqualTo("200");
      assertThat(fixture.forwarder.calls).hasSize(4);
    }
  }

  @Test
  void aTunnelWhoseAgentSentGoAwayCarriesNoNewRequest() throws Exception {
    try (TunnelFixture fixture = new TunnelFixture()) {
      RelayAgent agent = fixture.closeLater(fixture.agentBuilder("cred-a").tunnelConnections(2).build()).start();
      await().atMost(WAIT).until(() -> agent.connectedTunnels() == 2 && fixture.registry().tunnelCount("a") == 2);
      String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
      Channel leaving = agent.tunnelChannels().get(0);

      // The agent's side says GOAWAY (as Netty does before closing, or on a connection error) but keeps the
      // connection open: the relay may no longer open streams on it.
      leaving.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)).syncUninterruptibly();

      await().atMost(WAIT).until(() -> fixture.registry().tunnelCount("a") == 1);
      assertThat(leaving.isActive()).isTrue();
      for (int i = 0; i < 6; i++) {
        assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).status(WAIT)).isEqualTo("200");
      }
      assertThat(fixture.forwarder.calls).hasSize(6);

      agent.tunnelChannels().get(1).writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)).syncUninterruptibly();

      await().atMost(WAIT).until(() -> !fixture.registry().isConnected("a"));
    }
  }

  @Test
  void revocationClosesTheSubjectsStreamsOnBothTunnelsAndActsOnce() throws Exception {
    try (TunnelFixture fixture = new TunnelFixture()) {
      RelayAgent agent = fixture.closeLater(fixture.agentBuilder("cred-a").tunnelConnections(2).build()).start();
      await().atMost(WAIT).until(() -> agent.connectedTunnels() == 2 && fixture.registry().tunnelCount("a") == 2);
      String alice = fixture.grant("g1", "alice", Duration.ofMinutes(5));
      List<SimpleResponse> watches = new java.util.concurrent.CopyOnWriteArrayList<>();
      fixture.forwarder.responder =
          r -> {
            SimpleResponse watch = new SimpleResponse(200, new EndlessBody(false), Optional.empty());
            watches.add(watch);
            return watch;
          };
      List<TunnelTestClient> clients = new ArrayList<>();
      for (Channel tunnel : fixture.registry().tunnels("a")) {
        // Opened from the tunnel's own loop, so each watch runs on a different tunnel.
        TunnelTestClient client =
            tunnel.eventLoop()
                .submit(() -> TunnelTestClient.send(fixture.registry(), "a", TunnelTestClient.get("/api/v1/pods?watch=1", alice), null, true))
                .get(5, TimeUnit.SECONDS);
        assertThat(client.status(WAIT)).isEqualTo("200");
        assertThat(Objects.requireNonNull(client.channel).parent()).isSameAs(tunnel);
        clients.add(client);
      }
      assertThat(watches).hasSize(2);

      fixture.registry().revoke("alice", "a");

      for (TunnelTestClient client : clients) {
        await().atMost(WAIT).until(() -> client.done.isDone());
      }
      await().atMost(WAIT).until(() -> watches.stream().allMatch(SimpleResponse::isClosed));
      await().atMost(WAIT).until(() -> fixture.provisioner.removed.contains("alice"));
      // The revoke arrived over both tunnels with one message id: the account is removed once.
      await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> fixture.provisioner.removed.size() == 1);
      assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api", alice).status(WAIT)).isEqualTo("403");
    }
  }

  @Test
  void tunnelConnectionsOutsideZeroToEightAreRefusedAtOnce() {
    assertThatThrownBy(() -> RelayAgent.builder().tunnelConnections(9))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tunnelConnections must be 0 (as many as the relay has event loops) to 8 but was 9");
    assertThatThrownBy(() -> RelayAgent.builder().tunnelConnections(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tunnelConnections must be 0 (as many as the relay has event loops) to 8 but was -1");
    RelayAgent.builder().tunnelConnections(0);
    RelayAgent.builder().tunnelConnections(8);
  }
}
