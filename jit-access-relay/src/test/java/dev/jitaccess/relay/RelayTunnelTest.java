package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.relay.TunnelFakes.Call;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class RelayTunnelTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final TunnelFixture fixture = new TunnelFixture();

  @AfterEach
  void close() throws Exception {
    fixture.close();
  }

  @Test
  void agentIsFiledUnderItsVerifiedClusterAndServesARequestEndToEnd() throws Exception {
    RelayAgent agent = fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a") && agent.isConnected());
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));

    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), "a", "/api/v1/namespaces?limit=1", grant);

    assertThat(client.status(WAIT)).isEqualTo("200");
    assertThat(client.awaitBody(WAIT)).isEqualTo("hello from /api/v1/namespaces?limit=1");
    assertThat(fixture.forwarder.calls).hasSize(1);
    Call call = fixture.forwarder.calls.get(0);
    assertThat(call.token()).isEqualTo("sa-token-1");
    assertThat(call.request().method()).isEqualTo("GET");
    assertThat(call.request().pathAndQuery()).isEqualTo("/api/v1/namespaces?limit=1");
    assertThat(call.request().headers()).doesNotContainKeys("jit-grant", ":path", "authorization");
    assertThat(client.headers.get().get("connection")).isNull();
    assertThat(fixture.registry().isConnected("b")).isFalse();
  }

  @Test
  void headerNamesOfAnHttp1ApiServerAreLowerCasedForHttp2() throws Exception {
    fixture.forwarder.responder =
        r ->
            new TunnelFakes.SimpleResponse(200, "{}") {
              @Override
              public Map<String, List<String>> headers() {
                // What an HTTP/1.1 kube-apiserver (or a proxy in front of it) sends: capitalised names.
                return Map.of(
                    "Content-Type", List.of("application/json"),
                    "Audit-Id", List.of("42"),
                    "Connection", List.of("keep-alive"),
                    "Transfer-Encoding", List.of("chunked"));
              }
            };
    RelayAgent agent = fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a") && agent.isConnected());
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));

    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), "a", "/api/v1/namespaces", grant);

    assertThat(client.status(WAIT)).isEqualTo("200");
    assertThat(client.awaitBody(WAIT)).isEqualTo("{}");
    assertThat(String.valueOf(client.headers.get().get("content-type"))).isEqualTo("application/json");
    assertThat(String.valueOf(client.headers.get().get("audit-id"))).isEqualTo("42");
    assertThat(client.headers.get().get("connection")).isNull();
    assertThat(client.headers.get().get("transfer-encoding")).isNull();
  }

  @Test
  void clusterClaimedByTheAgentIsIgnored() throws Exception {
    RawTestAgent raw =
        fixture.rawAgent(
            "b.clusters.example",
            Map.of("authorization", "Bearer cred-a", "x-jit-cluster", "b", "jit-cluster", "b"));

    assertThat(raw.awaitStatus()).isEqualTo(101);
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    assertThat(fixture.registry().isConnected("b")).isFalse();
    assertThatThrownBy(() -> fixture.registry().openStream("b", new TunnelTestClient.Noop()).syncUninterruptibly())
        .hasMessage("cluster b has no connected agent");
  }

  @Test
  void badCredentialIsRefusedWith401AuditedAndNotRegistered() throws Exception {
    RawTestAgent raw = fixture.rawAgent("localhost", Map.of("authorization", "Bearer forged-secret-value"));

    assertThat(raw.awaitStatus()).isEqualTo(401);
    await().atMost(WAIT).until(() -> !raw.isOpen());
    assertThat(fixture.registry().isConnected("forged-secret-value")).isFalse();
    assertThat(fixture.engine.audits).hasSize(1);
    AuditEvent audit = fixture.engine.audits.get(0);
    assertThat(audit.type()).isEqualTo(AuditEvent.Type.DENIED);
    assertThat(audit.detail()).isEqualTo("agent credential refused");
    assertThat(audit.toString()).doesNotContain("forged-secret-value");
    assertThat(audit.attributes().get("credentialFingerprint")).hasSize(8);
  }

  @Test
  void oversizedCredentialIsRefusedBeforeVerification() throws Exception {
    RawTestAgent raw = fixture.rawAgent("localhost", Map.of("authorization", "Bearer cred-" + "a".repeat(17 * 1024)));

    assertThat(raw.awaitStatus()).isIn(401, 431);
    assertThat(fixture.registry().tunnelCount("a" + "a".repeat(17 * 1024 - 1))).isZero();
  }

  @Test
  void requestWithoutOrWithABadGrantIsRefusedAndNothingIsForwarded() throws Exception {
    fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));

    TunnelTestClient missing = TunnelTestClient.simple(fixture.registry(), "a", "/api", null);
    TunnelTestClient forged = TunnelTestClient.simple(fixture.registry(), "a", "/api", "jws-forged");

    assertThat(missing.status(WAIT)).isEqualTo("401");
    assertThat(forged.status(WAIT)).isEqualTo("401");
    assertThat(forged.awaitBody(WAIT)).contains("\"kind\":\"Status\"").contains("\"code\":401");
    assertThat(fixture.forwarder.calls).isEmpty();
    assertThat(fixture.provisioner.ensureCalls).hasValue(0);
  }

  @Test
  void credentialOrImpersonationHeadersReachingTheAgentAreRefused() throws Exception {
    fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));

    TunnelTestClient impersonate =
        TunnelTestClient.send(
            fixture.registry(), "a", TunnelTestClient.get("/api", grant).add("impersonate-user", "admin"), null, true);
    TunnelTestClient authorization =
        TunnelTestClient.send(
            fixture.registry(), "a", TunnelTestClient.get("/api", grant).add("authorization", "Bearer x"), null, true);

    assertThat(impersonate.status(WAIT)).isEqualTo("400");
    assertThat(authorization.status(WAIT)).isEqualTo("400");
    assertThat(fixture.forwarder.calls).isEmpty();
  }

  @Test
  void accountIsProvisionedOncePerGrant() throws Exception {
    fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));

    for (int i = 0; i < 3; i++) {
      TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).awaitBody(WAIT);
    }

    assertThat(fixture.provisioner.ensureCalls).hasValue(1);
    assertThat(fixture.forwarder.calls).extracting(Call::token).containsOnly("sa-token-1");
  }

  @Test
  void tokenNearItsExpiryIsProvisionedAgain() throws Exception {
    fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    fixture.provisioner.tokenLifetime = Duration.ofMinutes(10);
    String grant = fixture.grant("g1", "alice", Duration.ofHours(1));
    TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).awaitBody(WAIT);

    fixture.clock.advance(Duration.ofMinutes(9).plusSeconds(1));
    TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).awaitBody(WAIT);

    assertThat(fixture.provisioner.ensureCalls).hasValue(2);
    assertThat(fixture.forwarder.calls).extracting(Call::token).containsExactly("sa-token-1", "sa-token-2");
  }
}
