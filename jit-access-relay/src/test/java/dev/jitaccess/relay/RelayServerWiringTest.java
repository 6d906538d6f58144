package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.TunnelFakes.EchoServer;
import dev.jitaccess.relay.TunnelFakes.EndlessBody;
import dev.jitaccess.relay.TunnelFakes.FakeForwarder;
import dev.jitaccess.relay.TunnelFakes.FakeProvisioner;
import dev.jitaccess.relay.TunnelFakes.MutableClock;
import dev.jitaccess.relay.TunnelFakes.SimpleResponse;
import dev.jitaccess.relay.testing.RawTlsClient;
import dev.jitaccess.testkit.TestCertificates;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A relay built the way a host application builds it: {@code jitAccess(JitAccess)} with the real engine (session
 * tokens, signed grants, agent credentials) and its built-in tunnel listener, and a real {@link RelayAgent} with
 * fakes only at the Kubernetes SPIs.
 */
final class RelayServerWiringTest {
  private static final TestCertificates CERTS = TestCertificates.create();
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final MutableClock clock = new MutableClock();
  private final FakeProvisioner provisioner = new FakeProvisioner(clock);
  private final FakeForwarder forwarder = new FakeForwarder();
  private final List<SimpleResponse> watches = new CopyOnWriteArrayList<>();
  private JitAccess jit;
  private RelayServer relay;
  private RelayAgent agent;

  @BeforeEach
  void start() {
    jit =
        JitAccess.builder()
            .policyProvider(r -> new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofMinutes(5)))
            .clock(clock)
            .build();
    relay = RelayServer.builder().tls(CERTS.serverKey(), CERTS.serverChain()).jitAccess(jit).build().start();
    forwarder.responder =
        r -> {
          if (r.pathAndQuery().contains("watch=true")) {
            SimpleResponse watch = new SimpleResponse(200, new EndlessBody(false), Optional.empty());
            watches.add(watch);
            return watch;
          }
          return new SimpleResponse(200, "hello from " + r.pathAndQuery());
        };
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    relay.close();
  }

  private RelayAgent agent(String credential) {
    agent =
        RelayAgent.builder()
            .relayUri(URI.create("https://localhost:" + relay.tunnelPort()))
            .credential(credential)
            .trustedCertificates(CERTS.ca())
            .provisioner(provisioner)
            .forwarder(forwarder)
            .clock(clock)
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
            .grantVerifier(jit.grantVerifier("c1"))
            .build()
            .start();
    return agent;
  }

  private HttpRequest request(String path, String token) {
    return HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + path))
        .header("Authorization", "Bearer " + token)
        .build();
  }

  private static HttpClient http() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(CERTS.clientContext()).build();
  }

  /** Whether a streamed body has ended, cleanly or cut. */
  private static boolean ended(Iterator<String> lines) {
    try {
      return !lines.hasNext();
    } catch (java.io.UncheckedIOException cut) {
      return true;
    }
  }

  @Test
  void builtInTunnelListenerRegistersAnAgentWithAnEngineIssuedCredential() throws Exception {
    assertThat(relay.tunnelPort()).isPositive().isNotEqualTo(relay.port());
    String alice = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    assertThat(http().send(request("/clusters/c1/api", alice), HttpResponse.BodyHandlers.ofString()).statusCode())
        .as("no agent yet")
        .isEqualTo(503);

    agent(jit.issueAgentCredential("c1", Duration.ofHours(1)));
    await().atMost(WAIT).until(agent::isConnected);

    HttpResponse<String> response = http().send(request("/clusters/c1/api/v1/namespaces", alice), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("hello from /api/v1/namespaces");
    assertThat(forwarder.calls).hasSize(1);
    assertThat(forwarder.calls.get(0).token()).startsWith("sa-token-").doesNotContain(alice);
    assertThat(provisioner.ensureCalls).hasValue(1);
  }

  @Test
  void credentialForAnotherClusterNeverServesThisOne() throws Exception {
    agent(jit.issueAgentCredential("c2", Duration.ofHours(1)));
    await().atMost(WAIT).until(agent::isConnected);
    String alice = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));

    HttpResponse<String> response = http().send(request("/clusters/c1/api", alice), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(forwarder.calls).isEmpty();
  }

  @Test
  void engineRevokeClosesTheSubjectsOpenWatchThroughTheAgent() throws Exception {
    agent(jit.issueAgentCredential("c1", Duration.ofHours(1)));
    await().atMost(WAIT).until(agent::isConnected);
    String alice = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    String bob = jit.issueSessionToken(Subject.of("bob"), Duration.ofHours(1));
    HttpResponse<Stream<String>> aliceWatch =
        http().send(request("/clusters/c1/api/v1/namespaces?watch=true", alice), HttpResponse.BodyHandlers.ofLines());
    Iterator<String> aliceLines = aliceWatch.body().iterator();
    assertThat(aliceLines.next()).isEqualTo("event");
    HttpResponse<Stream<String>> bobWatch =
        http().send(request("/clusters/c1/api/v1/namespaces?watch=true", bob), HttpResponse.BodyHandlers.ofLines());
    Iterator<String> bobLines = bobWatch.body().iterator();
    assertThat(bobLines.next()).isEqualTo("event");
    assertThat(watches).hasSize(2);

    clock.advance(Duration.ofSeconds(1));
    jit.revoke("alice");

    // The engine told the relay, the relay told the agent, the agent closed alice's stream at once.
    await().atMost(WAIT).until(watches.get(0)::isClosed);
    assertThat(CompletableFuture.supplyAsync(() -> ended(aliceLines)).get(5, TimeUnit.SECONDS)).isTrue();
    await().atMost(WAIT).until(() -> provisioner.removed.contains("alice"));
    assertThat(provisioner.removed).containsExactly("alice");
    assertThat(watches.get(1).isClosed()).as("bob's watch stays open").isFalse();
    assertThat(http().send(request("/clusters/c1/api", alice), HttpResponse.BodyHandlers.ofString()).statusCode())
        .as("the revoked session token is refused")
        .isEqualTo(401);
    assertThat(agent.isConnected()).isTrue();
    bobWatch.body().close();
  }

  @Test
  void engineRevokeClosesTheSubjectsOpenExecPipeThroughTheAgent() throws Exception {
    agent(jit.issueAgentCredential("c1", Duration.ofHours(1)));
    await().atMost(WAIT).until(agent::isConnected);
    String alice = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    EchoServer exec = new EchoServer();
    forwarder.responder = r -> new SimpleResponse(101, new ByteArrayInputStream(new byte[0]), Optional.of(exec));
    try (RawTlsClient client = new RawTlsClient(CERTS, relay.port())) {
      client.send(
          "GET /clusters/c1/api/v1/namespaces/x/pods/p/exec?command=sh HTTP/1.1\r\nHost: localhost\r\n"
              + "Authorization: Bearer " + alice + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
              + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              + "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
      StringBuilder sofar = new StringBuilder();
      assertThat(client.readUntil("\r\n\r\n", sofar)).startsWith("HTTP/1.1 101");
      client.send("ping");
      assertThat(client.readUntil("ping", sofar)).endsWith("\r\n\r\nping");

      clock.advance(Duration.ofSeconds(1));
      jit.revoke("alice");

      // The agent closed the exec connection to kube-apiserver and the relay closed the user's pipe.
      await().atMost(WAIT).until(exec::isClosed);
      assertThat(CompletableFuture.supplyAsync(() -> readToEnd(client)).get(5, TimeUnit.SECONDS)).isTrue();
    }
    await().atMost(WAIT).until(() -> provisioner.removed.contains("alice"));
    assertThat(agent.isConnected()).isTrue();
  }

  /** Reads until the relay closes the connection; true once it has. */
  private static boolean readToEnd(RawTlsClient client) {
    try {
      client.readUntilClosed();
    } catch (java.io.IOException cut) {
      // a reset is a close too
    }
    return true;
  }

  @Test
  void agentClosedUnderAnOpenWatchEndsItAtOnceAndTheClusterIsUnavailable() throws Exception {
    String alice = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    Iterator<String> lines = connectedAgentAndAnOpenWatchOf(alice);

    long start = System.nanoTime();
    agent.close();

    // The tunnel ended at once, well within the 2 s close() allows each tunnel.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
    // Without waiting: the agent's GOAWAY and the end of its connection reached the relay before close() returned.
    HttpResponse<String> next = http().send(request("/clusters/c1/api", alice), HttpResponse.BodyHandlers.ofString());
    assertThat(next.statusCode()).as(next.body()).isEqualTo(503);
    assertThat(next.body()).contains("agent of cluster c1 is not connected");
    assertThat(CompletableFuture.supplyAsync(() -> ended(lines)).get(2, TimeUnit.SECONDS)).as("the watch ended").isTrue();
    await().atMost(WAIT).until(watches.get(0)::isClosed);
  }

  @Test
  void relayClosedUnderAnOpenWatchEndsItAndTheAgentSeesItsTunnelGoAtOnce() throws Exception {
    String alice = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    Iterator<String> lines = connectedAgentAndAnOpenWatchOf(alice);

    long start = System.nanoTime();
    relay.close();

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
    assertThat(CompletableFuture.supplyAsync(() -> ended(lines)).get(2, TimeUnit.SECONDS)).as("the watch ended").isTrue();
    // Long before a heartbeat could tell (the agent's default is 30 s).
    await().atMost(Duration.ofSeconds(2)).until(() -> !agent.isConnected());
    await().atMost(WAIT).until(watches.get(0)::isClosed);
  }

  /** Connects an agent for c1 and opens a watch with the session token; its first event has arrived. */
  private Iterator<String> connectedAgentAndAnOpenWatchOf(String sessionToken) throws Exception {
    agent(jit.issueAgentCredential("c1", Duration.ofHours(1)));
    await().atMost(WAIT).until(agent::isConnected);
    HttpResponse<Stream<String>> watch =
        http()
            .send(
                request("/clusters/c1/api/v1/namespaces?watch=true", sessionToken),
                HttpResponse.BodyHandlers.ofLines());
    Iterator<String> lines = watch.body().iterator();
    assertThat(lines.next()).isEqualTo("event");
    return lines;
  }
}
