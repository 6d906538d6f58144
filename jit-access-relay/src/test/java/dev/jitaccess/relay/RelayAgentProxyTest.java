package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.relay.internal.AccessEngine;
import dev.jitaccess.relay.internal.TunnelListener;
import dev.jitaccess.relay.testing.ConnectProxy;
import dev.jitaccess.relay.testing.TunnelTestCertificates;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code RelayAgent.builder().proxy(URI)}: the agent dials the relay through an HTTP CONNECT proxy. */
final class RelayAgentProxyTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String CREDENTIAL = "cred-proxied-cluster";
  private static final String CLUSTER = "proxied-cluster";

  private final TunnelFixture fixture = new TunnelFixture();
  private final ConnectProxy proxy = fixture.closeLater(ConnectProxy.start());

  @AfterEach
  void close() {
    fixture.close();
  }

  @Test
  void agentReachesTheRelayThroughTheProxyAndServesARequestEndToEnd() throws Exception {
    RelayAgent agent = startProxiedAgent(fixture.agentBuilder(CREDENTIAL));
    int tunnels = TunnelFixture.tunnelsPerAgent();
    await().atMost(WAIT).until(() -> fixture.registry().tunnelCount(CLUSTER) == tunnels && agent.isConnected());
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));

    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), CLUSTER, "/api/v1/namespaces", grant);

    assertThat(client.status(WAIT)).isEqualTo("200");
    assertThat(client.awaitBody(WAIT)).isEqualTo("hello from /api/v1/namespaces");
    // Each of the agent's tunnels went through the proxy, one CONNECT each.
    assertThat(proxy.connectTargets())
        .hasSize(tunnels)
        .containsOnly("localhost:" + fixture.listener.port());
    assertThat(fixture.forwarder.calls).hasSize(1);
    assertThat(fixture.forwarder.calls.get(0).token()).isEqualTo("sa-token-1");
    assertThat(fixture.registry().tunnelCount(CLUSTER)).isEqualTo(tunnels);
  }

  @Test
  void proxySeesOnlyTlsCiphertext() throws Exception {
    RelayAgent agent = startProxiedAgent(fixture.agentBuilder(CREDENTIAL));
    await().atMost(WAIT).until(() -> fixture.registry().isConnected(CLUSTER) && agent.isConnected());
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
    TunnelTestClient client =
        TunnelTestClient.simple(fixture.registry(), CLUSTER, "/api/v1/namespaces/secret-ns", grant);
    assertThat(client.awaitBody(WAIT)).isEqualTo("hello from /api/v1/namespaces/secret-ns");

    byte[] up = proxy.bytesFromClients();
    byte[] down = proxy.bytesToClients();
    // Both directions open with a TLS handshake record (content type 22, version 3.x).
    assertThat(up).hasSizeGreaterThan(2);
    assertThat(up[0]).isEqualTo((byte) 0x16);
    assertThat(up[1]).isEqualTo((byte) 0x03);
    assertThat(down[0]).isEqualTo((byte) 0x16);
    String upText = new String(up, StandardCharsets.ISO_8859_1);
    String downText = new String(down, StandardCharsets.ISO_8859_1);
    assertThat(upText).doesNotContain(CREDENTIAL, "/_jit/connect", "Bearer", "hello from");
    assertThat(downText).doesNotContain("secret-ns", grant, "Switching Protocols");
  }

  @Test
  void agentRefusesAnImpostorRelayThatTheProxyHandsItTo() {
    TunnelTestCertificates otherCa = TunnelTestCertificates.create();
    RecordingEngine impostorEngine = new RecordingEngine(fixture.clock);
    TunnelListener impostor =
        fixture.closeLater(
            new TunnelListener(fixture.heartbeat, Duration.ofSeconds(5))
                .start(new InetSocketAddress("127.0.0.1", 0), otherCa.serverContext(), impostorEngine));
    // The impostor's certificate names localhost too, but it is issued by a CA the agent does not trust.
    proxy.redirectTo(new InetSocketAddress("127.0.0.1", impostor.port()));
    RelayAgent agent = startProxiedAgent(fixture.agentBuilder(CREDENTIAL));

    // The agent keeps trying (a successful handshake would stop it at one CONNECT).
    await().atMost(WAIT).until(() -> proxy.connectTargets().size() >= 3);

    assertThat(impostorEngine.credentials).isEmpty();
    assertThat(impostor.registry().isConnected(CLUSTER)).isFalse();
    assertThat(fixture.registry().isConnected(CLUSTER)).isFalse();
    assertThat(agent.isConnected()).isFalse();
    assertThat(proxy.bytesFromClients()).isNotEmpty(); // TLS reached the impostor, through the proxy
    assertThat(new String(proxy.bytesFromClients(), StandardCharsets.ISO_8859_1)).doesNotContain(CREDENTIAL);
  }

  @ParameterizedTest
  @ValueSource(ints = {407, 502})
  void proxyRefusalMakesTheAgentBackOffAndRetryUntilTheProxyLetsItThrough(int status) throws Exception {
    proxy.refuseWith(status);
    RelayAgent agent = startProxiedAgent(fixture.agentBuilder(CREDENTIAL));

    await().atMost(WAIT).until(() -> proxy.connectTargets().size() >= 4);
    assertThat(agent.isConnected()).isFalse();
    assertThat(fixture.registry().isConnected(CLUSTER)).isFalse();
    assertThat(fixture.engine.audits).isEmpty(); // the relay never heard of it
    // Backoff 50 ms doubling to 300 ms, each delay at least half its step: 25, 50, 100 ms at least.
    List<Long> times = proxy.connectTimes();
    for (int i = 1; i < 4; i++) {
      long gapMillis = Duration.ofNanos(times.get(i) - times.get(i - 1)).toMillis();
      long minimum = Math.min(50L << (i - 1), 300) / 2;
      assertThat(gapMillis).as("delay before attempt %d", i + 1).isGreaterThanOrEqualTo(minimum);
    }

    proxy.refuseWith(0);
    await().atMost(WAIT).until(() -> fixture.registry().isConnected(CLUSTER) && agent.isConnected());
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
    assertThat(TunnelTestClient.simple(fixture.registry(), CLUSTER, "/api", grant).awaitBody(WAIT))
        .isEqualTo("hello from /api");
  }

  private RelayAgent startProxiedAgent(RelayAgent.Builder builder) {
    RelayAgent agent = builder.proxy(URI.create("http://127.0.0.1:" + proxy.port())).build();
    fixture.closeLater(agent);
    return agent.start();
  }

  /** An engine that records every agent credential presented to it and accepts none. */
  private static final class RecordingEngine implements AccessEngine {
    final List<String> credentials = new CopyOnWriteArrayList<>();
    private final InstantSource clock;

    RecordingEngine(InstantSource clock) {
      this.clock = clock;
    }

    @Override
    public Authorized authorize(String bearerToken, String cluster) {
      throw new UnsupportedOperationException("not used by the tunnel side");
    }

    @Override
    public String verifyAgentCredential(String credential) {
      credentials.add(credential);
      throw new AuthenticationException("impostor");
    }

    @Override
    public void audit(AuditEvent event) {}

    @Override
    public InstantSource clock() {
      return clock;
    }
  }
}
