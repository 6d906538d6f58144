package dev.jitaccess.benchmarks.relay;

import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.k8s.KubernetesAccountProvisioner;
import dev.jitaccess.k8s.KubernetesForwarder;
import dev.jitaccess.relay.RelayAgent;
import io.kubernetes.client.openapi.ApiClient;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs idle {@link RelayAgent}s in their own JVM for {@link RelayLoad}'s "100 idle tunnels" figure, so the
 * relay's JVM holds only the relay side of each tunnel. Reports its own heap per agent on stdout, then waits
 * until stdin closes.
 *
 * <p>Arguments: tunnel port, CA PEM file, stub base URL, JWKS file, issuer, credentials file (lines
 * {@code cluster credential}; the first one is a warm-up agent not counted).
 */
public final class IdleAgents {
  private IdleAgents() {}

  /**
   * Starts the agents.
   *
   * @param args see the class comment
   * @throws Exception on any failure
   */
  public static void main(String[] args) throws Exception {
    int tunnelPort = Integer.parseInt(args[0]);
    byte[] caPem = Files.readAllBytes(Path.of(args[1]));
    X509Certificate ca;
    try (InputStream in = new ByteArrayInputStream(caPem)) {
      ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    ApiClient api = new ApiClient().setBasePath(args[2]).setSslCaCert(new ByteArrayInputStream(caPem));
    api.setReadTimeout(0);
    KubernetesAccountProvisioner provisioner =
        KubernetesAccountProvisioner.builder().apiClient(api).allowedClusterRoles(Set.of("view")).build();
    KubernetesForwarder forwarder = KubernetesForwarder.builder().apiClient(api).build();
    String jwks = Files.readString(Path.of(args[3]));
    String issuer = args[4];
    List<String> lines = Files.readAllLines(Path.of(args[5]));
    List<RelayAgent> agents = new ArrayList<>();
    long heap0 = 0;
    for (int i = 0; i < lines.size(); i++) {
      String[] parts = lines.get(i).split(" ", 2);
      RelayAgent agent =
          RelayAgent.builder()
              .relayUri(URI.create("https://localhost:" + tunnelPort))
              .credential(parts[1])
              .trustedCertificates(ca)
              .provisioner(provisioner)
              .forwarder(forwarder)
              .grantVerifier(GrantVerifier.builder().jwks(jwks).issuer(issuer).cluster(parts[0]).build())
              .sweepPeriod(Duration.ofMinutes(5))
              .build()
              .start();
      agents.add(agent);
      if (i == 0) {
        waitConnected(agents);
        heap0 = heapAfterGc();
      }
    }
    waitConnected(agents);
    Thread.sleep(2000);
    long heap1 = heapAfterGc();
    int counted = agents.size() - 1;
    System.out.printf(
        Locale.ROOT,
        "connected %d agents; agent JVM heap %.1f KiB per agent (one event loop thread, TLS context, caches and"
            + " scheduler each)%n",
        counted,
        (heap1 - heap0) / 1024.0 / counted);
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait for the driver to close stdin
    }
    agents.forEach(RelayAgent::close);
  }

  private static void waitConnected(List<RelayAgent> agents) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (agents.stream().anyMatch(a -> !a.isConnected()) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
