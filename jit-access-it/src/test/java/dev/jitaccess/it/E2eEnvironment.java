package dev.jitaccess.it;

import dev.jitaccess.testkit.TestCertificates;

import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.RulePolicyProvider;
import dev.jitaccess.k8s.KubernetesAccountProvisioner;
import dev.jitaccess.k8s.KubernetesForwarder;
import dev.jitaccess.relay.RelayAgent;
import dev.jitaccess.relay.RelayServer;
import io.kubernetes.client.openapi.ApiClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Everything of the end-to-end setup in one JVM: the stubbed kube-apiserver of cluster {@code c1}, the engine
 * with a rule policy (alice may {@code view} and {@code edit} cluster-wide on {@code c1}; bob may do nothing),
 * the relay over TLS and the agent of {@code c1} with the real provisioner and forwarder.
 */
final class E2eEnvironment implements AutoCloseable {
  static final String CLUSTER = "c1";
  static final String ALICE = "alice@example.com";
  static final String BOB = "bob@example.com";
  static final Set<String> ALLOWED_ROLES = Set.of("view", "edit");

  final Path dir;
  final KubeApiStub kube;
  final ApiClient apiClient;
  final JitAccess jit;
  final TestCertificates relayCerts = TestCertificates.create("relay");
  final RelayServer relay;
  final RelayAgent agent;
  final Kubectl kubectl;
  /** Every audit event of the engine and the relay, in order. */
  final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  E2eEnvironment(Path dir) throws Exception {
    this.dir = dir;
    kube = new KubeApiStub(Files.createDirectories(dir.resolve("kube")));
    closeables.add(kube);
    try {
      apiClient = kube.apiClient();
      jit =
          JitAccess.builder()
              .policyProvider(
                  RulePolicyProvider.builder()
                      .role("operator", "view", "edit")
                      .binding(
                          RulePolicyProvider.Binding.builder()
                              .users(ALICE)
                              .role("operator")
                              .clusters(CLUSTER)
                              .build())
                      .build())
              .auditSink(audit::add)
              .build();
      relay =
          RelayServer.builder().jitAccess(jit).tls(relayCerts.serverKey(), relayCerts.serverChain()).build().start();
      closeables.add(0, relay);
      agent = startAgent(jit.issueAgentCredential(CLUSTER, Duration.ofHours(1)), jit);
      awaitConnected(agent);
      kubectl = new Kubectl(Files.createDirectories(dir.resolve("kubectl")));
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /**
   * An agent in front of the stub with the given credential that believes it serves {@code c1}: its grant
   * verifier accepts grants for {@code c1} signed by {@code issuer}'s keys.
   */
  RelayAgent startAgent(String credential, JitAccess issuer) {
    ApiClient client = apiClient;
    RelayAgent started =
        RelayAgent.builder()
            .relayUri(URI.create("https://localhost:" + relay.tunnelPort()))
            .credential(credential)
            .trustedCertificates(relayCerts.ca())
            .grantVerifier(
                GrantVerifier.builder().jwks(issuer.publicJwks()).issuer(issuer.issuer()).cluster(CLUSTER).build())
            .provisioner(
                KubernetesAccountProvisioner.builder().apiClient(client).allowedClusterRoles(ALLOWED_ROLES).build())
            .forwarder(KubernetesForwarder.builder().apiClient(client).build())
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .build()
            .start();
    closeables.add(0, started);
    return started;
  }

  static void awaitConnected(RelayAgent agent) {
    await("agent connected").atMost(Duration.ofSeconds(15)).until(agent::isConnected);
  }

  /**
   * The status the relay answers to a plain GET of {@code /clusters/c1<path>} (no kubectl), for waiting on
   * the relay's view of the agents.
   */
  int relayStatus(String token, String path) throws Exception {
    HttpClient client = HttpClient.newBuilder().sslContext(relayCerts.clientContext()).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + "/clusters/" + CLUSTER + path))
            .header("Authorization", "Bearer " + token)
            .timeout(Duration.ofSeconds(10))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** Closes an agent and waits until the relay answers 503 for {@code c1}. */
  void stopAgent(RelayAgent stopped) {
    stopped.close();
    String token = sessionToken(ALICE);
    await("relay sees no agent for c1")
        .atMost(Duration.ofSeconds(15))
        .until(() -> relayStatus(token, "/api/v1/namespaces") == 503);
  }

  String sessionToken(String subjectId) {
    return jit.issueSessionToken(Subject.of(subjectId), Duration.ofHours(1));
  }

  /** Writes the kubeconfig the relay generates for the user, with a fresh session token. */
  Path kubeconfig(String subjectId) throws Exception {
    return kubeconfig(subjectId, sessionToken(subjectId));
  }

  Path kubeconfig(String subjectId, String token) throws Exception {
    Path file = dir.resolve("kubeconfig-" + subjectId.replaceAll("[^a-z0-9]", "-"));
    Files.writeString(file, relay.kubeconfig(subjectId.substring(0, subjectId.indexOf('@')), CLUSTER, token));
    return file;
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    for (AutoCloseable closeable : closeables) {
      try {
        closeable.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("could not close " + closeable, e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
