package dev.jitaccess.examples.quickstart;

import dev.jitaccess.testkit.TestCertificates;

import dev.jitaccess.api.Subject;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.JsonLinesAuditSink;
import dev.jitaccess.core.RulePolicyProvider;
import dev.jitaccess.k8s.KubernetesAccountProvisioner;
import dev.jitaccess.k8s.KubernetesForwarder;
import dev.jitaccess.relay.RelayAgent;
import dev.jitaccess.relay.RelayServer;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.Yaml;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything of the demo in one JVM, started in order: the cluster, the engine with the sample policy and a
 * JSON-lines audit file, the relay on the loopback address with a fresh TLS certificate, the agent (the real
 * provisioner and forwarder on the cluster's {@code ApiClient}), and one kubeconfig per sample user.
 */
final class DemoEnvironment implements AutoCloseable {
  static final String CLUSTER = "demo";
  static final String ALICE = "alice@example.com";
  static final String BOB = "bob@example.com";
  static final Set<String> ALLOWED_CLUSTER_ROLES = Set.of("view", "edit", DemoCluster.NAMESPACE_ROLE);

  private static final Duration AGENT_CONNECT_TIMEOUT = Duration.ofSeconds(20);

  final Path dir;
  final Path auditFile;
  final Path aliceKubeconfig;
  final Path bobKubeconfig;
  final Path namespaceManifest;
  final DemoCluster cluster;
  final JitAccess jit;
  final RelayServer relay;
  final RelayAgent agent;
  private final JsonLinesAuditSink audit;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  private DemoEnvironment(Path dir, DemoCluster cluster) throws IOException {
    this.dir = dir;
    this.cluster = cluster;
    closeables.add(cluster);
    auditFile = dir.resolve("audit.jsonl");
    audit = JsonLinesAuditSink.builder().path(auditFile).build();
    closeables.add(0, audit);
    jit = JitAccess.builder().policyProvider(samplePolicy()).auditSink(audit).build();

    // A throw-away CA and a certificate for localhost, made fresh for every run.
    TestCertificates certificates = TestCertificates.create("jit-access demo");
    InetAddress loopback = InetAddress.getLoopbackAddress();
    relay =
        RelayServer.builder()
            .jitAccess(jit)
            .tls(certificates.serverKey(), certificates.serverChain())
            .bindAddress(new InetSocketAddress(loopback, 0))
            .tunnelBindAddress(new InetSocketAddress(loopback, 0))
            .build()
            .start();
    closeables.add(0, relay);

    KubernetesForwarder forwarder = KubernetesForwarder.builder().apiClient(cluster.apiClient()).build();
    closeables.add(0, forwarder);
    agent =
        RelayAgent.builder()
            .relayUri(URI.create("https://localhost:" + relay.tunnelPort()))
            .credential(jit.issueAgentCredential(CLUSTER, Duration.ofDays(1)))
            .trustedCertificates(certificates.ca())
            .grantVerifier(
                GrantVerifier.builder().jwks(jit.publicJwks()).issuer(jit.issuer()).cluster(CLUSTER).build())
            .provisioner(
                KubernetesAccountProvisioner.builder()
                    .apiClient(cluster.apiClient())
                    .namespace(DemoCluster.AGENT_NAMESPACE)
                    .allowedClusterRoles(ALLOWED_CLUSTER_ROLES)
                    .build())
            .forwarder(forwarder)
            .build()
            .start();
    closeables.add(0, agent);
    awaitConnected();

    aliceKubeconfig = writeKubeconfig("alice", Subject.of(ALICE));
    bobKubeconfig = writeKubeconfig("bob", Subject.of(BOB));
    namespaceManifest = writeNamespaceManifest("jit-demo");
  }

  /**
   * A manifest of a namespace ({@code namespace-<name>.yaml}). The demo creates namespaces from a manifest
   * because {@code kubectl create namespace} sends protobuf, which the sandbox cannot store.
   */
  Path writeNamespaceManifest(String name) throws IOException {
    Path file = dir.resolve("namespace-" + name + ".yaml");
    Files.writeString(
        file,
        Yaml.dump(new V1Namespace().apiVersion("v1").kind("Namespace").metadata(new V1ObjectMeta().name(name))),
        StandardCharsets.UTF_8);
    return file;
  }

  /**
   * Starts everything; on failure, closes what was started.
   *
   * @param dir where the kubeconfigs and the audit file go
   * @param sandbox whether to use the sandbox even when the current kubeconfig's cluster is reachable
   */
  static DemoEnvironment start(Path dir, boolean sandbox) throws IOException {
    InstantSource clock = InstantSource.system();
    DemoCluster cluster = sandbox ? DemoCluster.sandbox(clock) : DemoCluster.choose(clock);
    try {
      return new DemoEnvironment(dir, cluster);
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** The policy file shipped with the demo (src/main/resources/policy.yaml). */
  static RulePolicyProvider samplePolicy() throws IOException {
    try (Reader yaml =
        new InputStreamReader(
            Objects.requireNonNull(DemoEnvironment.class.getResourceAsStream("/policy.yaml"), "policy.yaml"),
            StandardCharsets.UTF_8)) {
      return RulePolicyProvider.fromYaml(yaml, "policy.yaml");
    }
  }

  private void awaitConnected() {
    long deadline = System.nanoTime() + AGENT_CONNECT_TIMEOUT.toNanos();
    while (!agent.isConnected()) {
      if (System.nanoTime() > deadline) {
        close();
        throw new IllegalStateException(
            "the agent did not connect to the relay within " + AGENT_CONNECT_TIMEOUT + "; see the log above");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new IllegalStateException("interrupted while waiting for the agent to connect", e);
      }
    }
  }

  /** The relay's kubeconfig for the user with a fresh 8-hour session token, readable by the owner only. */
  private Path writeKubeconfig(String name, Subject subject) throws IOException {
    Path file = dir.resolve(name + ".yaml");
    Files.deleteIfExists(file);
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    Files.writeString(file, relay.kubeconfig(name, CLUSTER, jit.issueSessionToken(subject)), StandardCharsets.UTF_8);
    return file;
  }

  /** Stops the agent, the relay, the audit file and the sandbox, in that order. Idempotent. */
  @Override
  public synchronized void close() {
    for (AutoCloseable closeable : closeables) {
      try {
        closeable.close();
      } catch (Exception e) {
        System.err.println("could not close " + closeable + ": " + e);
      }
    }
    closeables.clear();
  }
}
