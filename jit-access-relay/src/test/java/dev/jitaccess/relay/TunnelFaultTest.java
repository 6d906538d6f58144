package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.relay.TunnelFakes.EndlessBody;
import dev.jitaccess.relay.TunnelFakes.SimpleResponse;
import dev.jitaccess.relay.internal.HeartbeatSettings;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class TunnelFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final HeartbeatSettings FAST =
      new HeartbeatSettings(Duration.ofMillis(100), Duration.ofMillis(400));

  private final TunnelFixture fixture = new TunnelFixture(FAST);

  @AfterEach
  void close() {
    fixture.close();
  }

  @Test
  void silentAgentIsDroppedWithinTheHeartbeatTimeout() throws Exception {
    RawTestAgent silent = fixture.rawAgent("localhost", Map.of("authorization", "Bearer cred-a"));
    assertThat(silent.awaitStatus()).isEqualTo(101);
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    long connectedAt = System.nanoTime();

    await().atMost(Duration.ofSeconds(3)).until(() -> !fixture.registry().isConnected("a"));

    assertThat(Duration.ofNanos(System.nanoTime() - connectedAt)).isLessThan(Duration.ofMillis(1500));
    await().atMost(WAIT).until(() -> !silent.isOpen());
  }

  @Test
  void liveAgentSurvivesManyHeartbeatTimeouts() {
    RelayAgent agent = fixture.startAgent("cred-a");
    int tunnels = TunnelFixture.tunnelsPerAgent();
    await().atMost(WAIT).until(() -> fixture.registry().tunnelCount("a") == tunnels);

    await()
        .during(Duration.ofMillis(1500))
        .atMost(WAIT)
        .until(() -> fixture.registry().tunnelCount("a") == tunnels && agent.connectedTunnels() == tunnels);
  }

  @Test
  void agentReconnectsAfterTheRelayRestartsWithinTheBackoffCap() throws Exception {
    RelayAgent agent = fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    int port = fixture.listener.port();

    fixture.listener.close();
    await().atMost(WAIT).until(() -> !agent.isConnected());
    fixture.startListener(port);

    // Backoff cap is 300 ms in the fixture.
    await().atMost(Duration.ofSeconds(2)).until(() -> fixture.registry().isConnected("a") && agent.isConnected());
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
    assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).status(WAIT)).isEqualTo("200");
  }

  @Test
  void tunnelDroppedMidRequestFailsPromptlyAndIsNotReplayed() throws Exception {
    RelayAgent agent = fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
    SimpleResponse response = new SimpleResponse(200, new EndlessBody(false), Optional.empty());
    fixture.forwarder.responder = r -> response;
    TunnelTestClient client =
        TunnelTestClient.send(
            fixture.registry(),
            "a",
            TunnelTestClient.get("/api/v1/namespaces", grant).method("POST"),
            "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
            true);
    assertThat(client.status(WAIT)).isEqualTo("200");
    int port = fixture.listener.port();

    fixture.listener.close();

    await().atMost(Duration.ofSeconds(1)).until(() -> client.done.isCompletedExceptionally());
    await().atMost(WAIT).until(response::isClosed);
    fixture.startListener(port);
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a") && agent.isConnected());
    assertThat(fixture.forwarder.calls).hasSize(1);
  }
}
