package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.TunnelFakes.FakeForwarder;
import dev.jitaccess.relay.TunnelFakes.FakeProvisioner;
import dev.jitaccess.relay.TunnelFakes.MutableClock;
import dev.jitaccess.relay.internal.Transports;
import dev.jitaccess.testkit.TestCertificates;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code ioThreads(int)}: one boss thread and one worker group for the user side and the tunnels together. */
final class RelayServerEventLoopsTest {
  private static final TestCertificates CERTS = TestCertificates.create();
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void byDefaultTheRelayRunsOneLoopForEveryTwoProcessorsAndAtLeastOne() {
    assertThat(Transports.defaultIoThreads(1)).isEqualTo(1);
    assertThat(Transports.defaultIoThreads(2)).isEqualTo(1);
    assertThat(Transports.defaultIoThreads(3)).isEqualTo(1);
    assertThat(Transports.defaultIoThreads(4)).isEqualTo(2);
    assertThat(Transports.defaultIoThreads(64)).isEqualTo(32);
  }

  @Test
  void userSideAndTunnelsShareOneBossThreadAndIoThreadsWorkerThreadsAllStoppedOnClose() throws Exception {
    MutableClock clock = new MutableClock();
    FakeForwarder forwarder = new FakeForwarder();
    JitAccess jit =
        JitAccess.builder()
            .policyProvider(r -> new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofMinutes(5)))
            .clock(clock)
            .build();
    Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
    RelayServer relay =
        RelayServer.builder().tls(CERTS.serverKey(), CERTS.serverChain()).jitAccess(jit).ioThreads(2).build().start();
    RelayAgent agent =
        RelayAgent.builder()
            .relayUri(URI.create("https://localhost:" + relay.tunnelPort()))
            .credential(jit.issueAgentCredential("c1", Duration.ofHours(1)))
            .trustedCertificates(CERTS.ca())
            .provisioner(new FakeProvisioner(clock))
            .forwarder(forwarder)
            .clock(clock)
            .grantVerifier(jit.grantVerifier("c1"))
            .build()
            .start();
    List<Thread> loops;
    try {
      await().atMost(WAIT).until(agent::isConnected);
      String token = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
      // One tunnel and several user connections: child channels are dealt round robin to every worker loop.
      for (int i = 0; i < 4; i++) {
        HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(CERTS.clientContext()).build();
        HttpRequest request =
            HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + "/clusters/c1/api"))
                .header("Authorization", "Bearer " + token)
                .build();
        assertThat(client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      }

      // Every Netty event loop thread started since: the relay's, and the agent's one.
      loops =
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> !before.contains(t) && t instanceof FastThreadLocalThread)
              .filter(t -> !t.getName().startsWith("globalEventExecutor"))
              .toList();
      List<String> names = loops.stream().map(Thread::getName).toList();
      assertThat(names).filteredOn(n -> n.startsWith("jit-relay-io-")).hasSize(2);
      assertThat(names).filteredOn(n -> n.startsWith("jit-relay-boss-")).hasSize(1);
      assertThat(names).filteredOn(n -> n.startsWith("jit-agent-io-")).hasSize(1);
      assertThat(names).as("no other event loop threads").hasSize(4);
    } finally {
      agent.close();
      relay.close();
    }
    for (Thread loop : loops) {
      await().atMost(WAIT).until(() -> !loop.isAlive());
    }
  }
}
