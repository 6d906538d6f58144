package dev.jitaccess.benchmarks.relay;

import dev.jitaccess.testkit.TestCertificates;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.AuditSink;
import dev.jitaccess.api.spi.PolicyProvider;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.k8s.KubernetesAccountProvisioner;
import dev.jitaccess.k8s.KubernetesForwarder;
import dev.jitaccess.relay.RelayAgent;
import dev.jitaccess.relay.RelayServer;
import io.kubernetes.client.openapi.ApiClient;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load driver for the relay (issue 4, "Benchmark"): the real engine, {@link RelayServer} and {@link RelayAgent}
 * (with the real {@link KubernetesAccountProvisioner} and {@link KubernetesForwarder}) in this JVM, a stub
 * kube-apiserver ({@link StubApiServer}, TLS + HTTP/2, max 100 streams per connection) in a child JVM, and a
 * JDK {@link HttpClient} (HTTP/2) as kubectl. Every figure is compared with a baseline of the same run (direct
 * to the stub, or the same relay without the disturbance), rounds interleaved A B A B, median of the
 * per-round figures. See docs/benchmarks.md.
 *
 * <p>Arguments: {@code [rounds]} (default 7) and optionally a comma list of phases among
 * {@code latency,loop,fair,scale,cold} (default all).
 */
public final class RelayLoad {
  private static final String CLUSTER = "c1";
  private static final String NS_PATH = "/api/v1/namespaces/default";

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

  private final int rounds;
  private final TestCertificates certs = TestCertificates.create("jit-access benchmark");
  private Stub stub;
  private JitAccess jit;
  private RelayServer relay;
  private ApiClient apiClient;
  private KubernetesAccountProvisioner provisioner;
  private KubernetesForwarder forwarder;

  /** {@code -Drelay.native=false}: NIO and the JDK's TLS in the relay and the agent instead of epoll and OpenSSL. */
  private static final boolean NATIVE = Boolean.parseBoolean(System.getProperty("relay.native", "true"));

  /** {@code -Drelay.ioThreads=N}: the relay's event-loop threads (default: the relay's, half the processors). */
  private static final int RELAY_IO_THREADS =
      Integer.getInteger("relay.ioThreads", Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
  private RelayAgent agent;
  private HttpClient client;
  private String relayBase;
  private String stubBase;
  private final List<String> report = new ArrayList<>();
  private int watchFailures;
  private String firstWatchFailure = "";

  private RelayLoad(int rounds) {
    this.rounds = rounds;
  }

  /**
   * Runs the driver.
   *
   * @param args {@code [rounds] [phases]}
   * @throws Exception on any failure
   */
  public static void main(String[] args) throws Exception {
    // must be set before the first HttpClient: a 256 KiB stream window keeps the slow reader's client-side
    // buffer small, so the heap measured in the fairness phase is the relay's and the agent's
    System.setProperty("jdk.httpclient.windowsize", Integer.toString(256 * 1024));
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    Set<String> phases =
        new LinkedHashSet<>(Arrays.asList((args.length > 1 ? args[1] : "latency,loop,fair,scale,cold").split(",")));
    RelayLoad load = new RelayLoad(rounds);
    try {
      load.start();
      load.warmUp();
      if (phases.contains("latency")) {
        load.latency();
      }
      if (phases.contains("loop")) {
        load.closedLoop();
      }
      if (phases.contains("fair")) {
        load.fairness();
      }
      if (phases.contains("cold")) {
        load.cold();
      }
      if (phases.contains("scale")) {
        load.scale();
      }
    } finally {
      load.stop();
    }
    System.out.println();
    System.out.println("==== summary ====");
    load.report.forEach(System.out::println);
    System.exit(0);
  }

  // ------------------------------------------------------------------ setup

  private void start() throws Exception {
    Path dir = Files.createTempDirectory("relay-load");
    certs.writeServerPem(dir);
    stub = Stub.start(dir.resolve("chain.pem"), dir.resolve("key.pem"));
    stubBase = "https://127.0.0.1:" + stub.port;

    PolicyProvider grantAll =
        new PolicyProvider() {
          @Override
          public Decision evaluate(dev.jitaccess.api.AccessRequest request) {
            return Decision.granted(Duration.ofHours(8), Permission.clusterWide("view"));
          }

          @Override
          public String id() {
            return "grant-all";
          }
        };
    AuditSink discard =
        new AuditSink() {
          @Override
          public void record(AuditEvent event) {
            // dropped: the benchmark measures the relay, not a sink
          }

          @Override
          public String id() {
            return "discard";
          }
        };
    jit =
        JitAccess.builder()
            .identityProvider(
                token -> {
                  if (!token.startsWith("tok-")) {
                    throw new AuthenticationException("unknown token");
                  }
                  return Subject.of(token.substring(4), "developers");
                })
            .policyProvider(grantAll)
            .auditSink(discard)
            .build();
    relay =
        RelayServer.builder()
            .tls(certs.serverKey(), certs.serverChain())
            .jitAccess(jit)
            .nativeTransport(NATIVE)
            .ioThreads(RELAY_IO_THREADS)
            .build()
            .start();
    relayBase = "https://127.0.0.1:" + relay.port();

    apiClient = new ApiClient().setBasePath(stubBase).setSslCaCert(new ByteArrayInputStream(certs.caPem().getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    apiClient.setReadTimeout(0);
    provisioner = KubernetesAccountProvisioner.builder().apiClient(apiClient).allowedClusterRoles(Set.of("view")).build();
    forwarder = KubernetesForwarder.builder().apiClient(apiClient).build();
    agent = newAgent(CLUSTER).start();
    client = newClient();
    waitUntilServing(client, "tok-bench");
    log("setup: stub pid %d port %d, relay port %d, tunnel port %d; native %s, relay io threads %d; load %s",
        stub.process.pid(), stub.port, relay.port(), relay.tunnelPort(), NATIVE, RELAY_IO_THREADS, loadAverage());
  }

  private RelayAgent newAgent(String cluster) {
    return RelayAgent.builder()
        .relayUri(URI.create("https://localhost:" + relay.tunnelPort()))
        .credential(jit.issueAgentCredential(cluster, Duration.ofHours(4)))
        .trustedCertificates(certs.ca())
        .provisioner(provisioner)
        .forwarder(forwarder)
        .grantVerifier(jit.grantVerifier(cluster))
        .nativeTransport(NATIVE)
        .sweepPeriod(Duration.ofMinutes(5))
        .build();
  }

  private HttpClient newClient() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_2)
        .sslContext(certs.clientContext())
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  private void waitUntilServing(HttpClient c, String token) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      HttpResponse<byte[]> r = c.send(relayGet(token), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 200) {
        log("relay answers over %s", r.version());
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the relay never served: " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
      }
      Thread.sleep(50);
    }
  }

  private void stop() {
    if (agent != null) {
      agent.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (forwarder != null) {
      forwarder.close();
    }
    if (stub != null) {
      stub.process.destroy();
      try {
        stub.process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private HttpRequest relayGet(String token) {
    return HttpRequest.newBuilder(URI.create(relayBase + "/clusters/" + CLUSTER + NS_PATH))
        .header("Authorization", "Bearer " + token)
        .build();
  }

  private HttpRequest directGet() {
    return HttpRequest.newBuilder(URI.create(stubBase + NS_PATH)).header("Authorization", "Bearer sa-token").build();
  }

  private static long timedGet(HttpClient c, HttpRequest request) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    HttpResponse<byte[]> r = c.send(request, HttpResponse.BodyHandlers.ofByteArray());
    long dt = System.nanoTime() - t0;
    if (r.statusCode() != 200) {
      throw new IllegalStateException(request.uri() + " answered " + r.statusCode() + ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
    return dt;
  }

  private static long[] sequential(HttpClient c, HttpRequest request, int n) throws Exception {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = timedGet(c, request);
    }
    Arrays.sort(out);
    return out;
  }

  // ------------------------------------------------------------------ 1. one request in flight

  private void latency() throws Exception {
    HttpRequest viaRelay = relayGet("tok-bench");
    HttpRequest direct = directGet();
    for (int delayMs : new int[] {0, 2}) {
      stub.delay(delayMs);
      int n = delayMs == 0 ? 2000 : 300;
      sequential(client, viaRelay, n); // warm-up
      sequential(client, direct, n);
      double[] addedP50 = new double[rounds];
      double[] addedP99 = new double[rounds];
      double[] ratioP50 = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        Map<Long, Long> c0 = threadCpu();
        long[] a = sequential(client, viaRelay, n);
        Map<Long, Long> c1 = threadCpu();
        long[] b = sequential(client, direct, n);
        if (r == 0) {
          log("  relay+agent CPU by thread group, µs/req, one in flight: %s", breakdown(c0, c1, n));
        }
        addedP50[r] = (pct(a, 0.50) - pct(b, 0.50)) / 1e3;
        addedP99[r] = (pct(a, 0.99) - pct(b, 0.99)) / 1e3;
        ratioP50[r] = (double) pct(a, 0.50) / pct(b, 0.50);
        log("latency %d ms stub, round %d: relay p50 %.0f p99 %.0f µs, direct p50 %.0f p99 %.0f µs",
            delayMs, r, pct(a, 0.5) / 1e3, pct(a, 0.99) / 1e3, pct(b, 0.5) / 1e3, pct(b, 0.99) / 1e3);
      }
      if (delayMs == 0) {
        result("1 in flight, 0 ms stub: added p50 %.0f µs (target ≤ 300), added p99 %.0f µs (target ≤ 1000); per round p50 %s p99 %s",
            median(addedP50), median(addedP99), fmt(addedP50, "%.0f"), fmt(addedP99, "%.0f"));
      } else {
        result("1 in flight, 2 ms stub: p50 ratio %.3f (target ≤ 1.15); per round %s", median(ratioP50), fmt(ratioP50, "%.3f"));
      }
    }
    stub.delay(0);
  }

  /**
   * Brings the JVM to steady state before any measured phase: the JIT compiles the relay's, the agent's and the
   * client's request paths (the stub is a separate JVM and warms in the same windows). Not measured.
   */
  private void warmUp() throws Exception {
    stub.delay(0);
    long start = System.nanoTime();
    // sequential first: the JDK client then has its one connection to each side before the closed loops (16
    // concurrent requests to a host it has no connection to yet would open 16)
    sequential(client, relayGet("tok-bench"), 2000);
    sequential(client, directGet(), 2000);
    loop(relayGet("tok-bench"), 16, 4000);
    loop(directGet(), 16, 2000);
    // Then until the JIT has (nearly) nothing left to compile: on two cores a busy C2 thread took up to a third
    // of the CPU in the first measured rounds. Each pass is one relay and one direct window of each kind.
    var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    int passes = 0;
    long compiledMs;
    do {
      long before = jit.getTotalCompilationTime();
      sequential(client, relayGet("tok-bench"), 1000);
      sequential(client, directGet(), 1000);
      loop(relayGet("tok-bench"), 16, 1000);
      loop(directGet(), 16, 1000);
      loop(relayGet("tok-bench"), 64, 1000);
      loop(directGet(), 64, 1000);
      compiledMs = jit.getTotalCompilationTime() - before;
      passes++;
    } while (compiledMs > JIT_QUIET_MS && System.nanoTime() - start < MAX_WARM_UP_NANOS);
    log("warm-up: %.1f s (closed loop and sequential, via the relay and direct; %d pass(es) until the JIT compiled"
            + " %d ms in the last one) [load %s]",
        (System.nanoTime() - start) / 1e9, passes, compiledMs, loadAverage());
  }

  /** The warm-up ends when one pass (about 5 s) made the JIT compile for at most this long. */
  private static final long JIT_QUIET_MS = 150;

  private static final long MAX_WARM_UP_NANOS = TimeUnit.SECONDS.toNanos(90);

  // ------------------------------------------------------------------ 2. closed loop

  private void closedLoop() throws Exception {
    HttpRequest viaRelay = relayGet("tok-bench");
    HttpRequest direct = directGet();
    long windowMs = 1500;
    for (int delayMs : new int[] {0, 5}) {
      stub.delay(delayMs);
      for (int clients : new int[] {16, 64}) {
        loop(direct, clients, 1000); // warm-up
        loop(viaRelay, clients, 1000);
        double[] ratio = new double[rounds];
        double[] cpuPerReq = new double[rounds];
        double[] cpuDirect = new double[rounds];
        double[] stubCpu = new double[rounds];
        double[] stubCpuRelay = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          long s0 = stub.cpuNanos();
          Map<Long, Long> c0 = threadCpu();
          long nRelay = loop(viaRelay, clients, windowMs);
          Map<Long, Long> c1 = threadCpu();
          long s1 = stub.cpuNanos();
          long nDirect = loop(direct, clients, windowMs);
          Map<Long, Long> c2 = threadCpu();
          long s2 = stub.cpuNanos();
          stubCpu[r] = (s2 - s1) / 1e3 / nDirect;
          stubCpuRelay[r] = (s1 - s0) / 1e3 / nRelay;
          ratio[r] = (double) nRelay / nDirect;
          cpuPerReq[r] = serverCpu(c0, c1) / 1e3 / nRelay;
          cpuDirect[r] = serverCpu(c1, c2) / 1e3 / nDirect;
          log("loop %d ms stub, %d clients, round %d: relay %.0f req/s, direct %.0f req/s; relay+agent CPU %.0f µs/req"
                  + " (same threads during the direct window: %.1f µs/req); client threads %.0f µs/req",
              delayMs, clients, r, nRelay * 1000.0 / windowMs, nDirect * 1000.0 / windowMs, cpuPerReq[r],
              cpuDirect[r], clientCpu(c0, c1) / 1e3 / nRelay);
          log("  stub process CPU (one TLS + HTTP/2 endpoint, trivial handler): %.0f µs/req direct, %.0f µs/req via the relay;"
                  + " client threads direct %.0f µs/req",
              stubCpu[r], stubCpuRelay[r], clientCpu(c1, c2) / 1e3 / nDirect);
        }
        Map<Long, Long> b0 = threadCpu();
        long nb = loop(viaRelay, clients, windowMs);
        log("  relay+agent CPU by thread group, µs/req: %s; stub connections so far %d", breakdown(b0, threadCpu(), nb),
            stub.count("connections"));
        double target = delayMs == 0 ? 0.40 : 0.85;
        result("closed loop, %d clients, %d ms stub: throughput %.2f× direct (target ≥ %.2f), relay+agent CPU %.0f µs/req"
                + " (target ≤ 150) = %.1f× the stub's CPU per request (%.0f µs, direct); per round ratio %s, CPU %s",
            clients, delayMs, median(ratio), target, median(cpuPerReq), median(cpuPerReq) / median(stubCpu),
            median(stubCpu), fmt(ratio, "%.2f"), fmt(cpuPerReq, "%.0f"));
      }
    }
    stub.delay(0);
  }

  /** {@code clients} threads each sending one request after another for {@code millis}; returns the count. */
  private long loop(HttpRequest request, int clients, long millis) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  go.await();
                  while (!stop.get()) {
                    HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                    if (stop.get()) {
                      break;
                    }
                    if (r.statusCode() == 200) {
                      done.incrementAndGet();
                    } else {
                      failed.incrementAndGet();
                    }
                  }
                } catch (IOException e) {
                  failed.incrementAndGet();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "bench-client-" + i);
      threads.add(t);
      t.start();
    }
    go.countDown();
    Thread.sleep(millis);
    stop.set(true);
    for (Thread t : threads) {
      t.join(30_000);
    }
    if (failed.get() > 0) {
      log("  (%d requests failed in this window)", failed.get());
    }
    return done.get();
  }

  // ------------------------------------------------------------------ 3. fairness

  private void fairness() throws Exception {
    stub.delay(0);
    HttpRequest viaRelay = relayGet("tok-bench");
    HttpClient slowClient = newClient();
    int n = 500;
    sequential(client, viaRelay, n);
    // one round not measured: the first slow stream met the JIT compiling its path (p99 ratios of 7-12 in the
    // first round of earlier runs)
    SlowReader warm = SlowReader.start(slowClient, relayBase + "/clusters/" + CLUSTER + "/big?bytes=" + (64L << 20));
    Thread.sleep(500);
    sequential(client, viaRelay, n);
    warm.stop();
    Thread.sleep(200);
    stub.reset();
    double[] ratio = new double[rounds];
    double[] heldKiB = new double[rounds];
    double[] inFlightKiB = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long[] quiet = sequential(client, viaRelay, n);
      long heap0 = heapAfterGc();
      SlowReader slow = SlowReader.start(slowClient, relayBase + "/clusters/" + CLUSTER + "/big?bytes=" + (64L << 20));
      Thread.sleep(500); // let every window between the stub and the reader fill up
      long[] busy = sequential(client, viaRelay, n);
      long heap1 = heapAfterGc();
      long sent = stub.count("big bytes sent");
      long read = slow.read.get();
      slow.stop();
      Thread.sleep(200);
      stub.reset();
      ratio[r] = (double) pct(busy, 0.99) / pct(quiet, 0.99);
      heldKiB[r] = (heap1 - heap0) / 1024.0;
      inFlightKiB[r] = (sent - read) / 1024.0;
      log("fairness round %d: small GET p99 %.0f µs alone, %.0f µs beside the slow stream (p50 %.0f / %.0f);"
              + " slow reader read %.1f MiB; stub sent − client read = %.0f KiB; heap held %.0f KiB",
          r, pct(quiet, 0.99) / 1e3, pct(busy, 0.99) / 1e3, pct(quiet, 0.5) / 1e3, pct(busy, 0.5) / 1e3,
          read / 1048576.0, inFlightKiB[r], heldKiB[r]);
    }
    result("fairness: small-GET p99 beside a slowly read 64 MiB stream = %.2f× alone (target ≤ 2); bytes in flight"
            + " (stub sent − reader read) %.0f KiB; heap held (GC'd, whole JVM incl. client) %.0f KiB; per round ratio %s,"
            + " in flight %s, heap %s",
        median(ratio), median(inFlightKiB), median(heldKiB), fmt(ratio, "%.2f"), fmt(inFlightKiB, "%.0f"), fmt(heldKiB, "%.0f"));
  }

  /** Reads a response body at ~3.2 MB/s (64 KiB every 20 ms) on its own thread. */
  private static final class SlowReader {
    final AtomicLong read = new AtomicLong();
    final AtomicBoolean stop = new AtomicBoolean();
    InputStream body;
    Thread thread;

    static SlowReader start(HttpClient c, String url) throws Exception {
      SlowReader s = new SlowReader();
      HttpResponse<InputStream> r =
          c.send(
              HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer tok-bench").build(),
              HttpResponse.BodyHandlers.ofInputStream());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("big stream answered " + r.statusCode());
      }
      s.body = r.body();
      s.thread =
          new Thread(
              () -> {
                byte[] buf = new byte[64 * 1024];
                try {
                  while (!s.stop.get()) {
                    int got = 0;
                    while (got < buf.length) {
                      int k = s.body.read(buf, got, buf.length - got);
                      if (k < 0) {
                        return;
                      }
                      got += k;
                    }
                    s.read.addAndGet(got);
                    Thread.sleep(20);
                  }
                } catch (IOException e) {
                  // closed by stop()
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "bench-slow-reader");
      s.thread.start();
      return s;
    }

    void stop() throws Exception {
      stop.set(true);
      thread.join(5000);
      body.close();
    }
  }

  // ------------------------------------------------------------------ 4. scale

  private void scale() throws Exception {
    stub.delay(0);
    int streams = 1000;
    int clients = 20;
    // baseline: the same 1,000 watches straight to the stub (out of process), so this JVM holds only the client side
    String watchPath = "/api/v1/namespaces/default/pods?watch=true";
    double directPerStream = watches(stubBase + watchPath, streams, clients, "direct", true);
    stub.reset();
    double relayPerStream = watches(relayBase + "/clusters/" + CLUSTER + watchPath, streams, clients, "relay", true);
    long connections = stub.count("connections");
    result("scale: 1,000 idle watches on one tunnel, opened 50 at a time: %.1f KiB of live objects per stream via the relay"
            + " (client + relay + agent), %.1f KiB direct (client only) → relay + agent %.1f KiB each (target ≤ 8);"
            + " the agent opened %d new connection(s) to the stub (100 streams each)",
        relayPerStream, directPerStream, relayPerStream - directPerStream, connections);
    stub.reset();
    int failuresBefore = watchFailures;
    double burstPerStream = watches(relayBase + "/clusters/" + CLUSTER + watchPath, streams, clients, "relay", false);
    result("scale: the same 1,000 watches opened all at once: %d failed (first: %s); %.1f KiB per open stream via the relay"
            + " → relay + agent %.1f KiB each; the agent opened %d new connection(s) to the stub",
        watchFailures - failuresBefore, watchFailures > failuresBefore ? firstWatchFailure : "-", burstPerStream,
        burstPerStream - directPerStream, stub.count("connections"));

    // 100 idle tunnels: the agents run in a child JVM, so this JVM's heap growth is the relay side alone
    int tunnels = 100;
    Path dir = Files.createTempDirectory("relay-agents");
    StringBuilder credentials = new StringBuilder();
    for (int i = 0; i <= tunnels; i++) {
      String cluster = String.format(Locale.ROOT, "t%03d", i);
      credentials.append(cluster).append(' ').append(jit.issueAgentCredential(cluster, Duration.ofHours(4))).append('\n');
    }
    Files.writeString(dir.resolve("credentials"), credentials);
    Files.writeString(dir.resolve("jwks.json"), jit.publicJwks());
    Files.writeString(dir.resolve("ca.pem"), certs.caPem());
    // let the 1,000 closed watches finish closing everywhere (stub, agent, relay) before the baseline heap
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (stub.count("open watches") > 0 && System.nanoTime() < settle) {
      Thread.sleep(100);
    }
    Thread.sleep(1000);
    Map<String, Long> histo0 = histogram();
    long heap0 = heapAfterGc();
    Process agents =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), IdleAgents.class.getName(),
                Integer.toString(relay.tunnelPort()), dir.resolve("ca.pem").toString(), stubBase,
                dir.resolve("jwks.json").toString(), jit.issuer(), dir.resolve("credentials").toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String agentsLine =
        new BufferedReader(new InputStreamReader(agents.getInputStream(), StandardCharsets.UTF_8)).readLine();
    Thread.sleep(1000);
    long heap1 = heapAfterGc();
    log("  tunnels (relay JVM): largest growth by class, KiB per tunnel: %s", growth(histo0, histogram(), tunnels + 1));
    agents.getOutputStream().close();
    agents.waitFor(10, TimeUnit.SECONDS);
    agents.destroy();
    // and what the relay gives back when they are gone: unlike the growth from heap0, this difference is not
    // blurred by what the earlier phases leave behind and release meanwhile (the growth was negative in some runs)
    // (the child has exited: the relay saw every tunnel's TCP connection close)
    Thread.sleep(2000);
    long heap2 = heapAfterGc();
    double perTunnel = (heap1 - heap2) / 1024.0 / (tunnels + 1);
    result("scale: %d idle tunnels (+1 warm-up), agents in a child JVM: relay-side heap %.1f KiB per tunnel (target ≤ 100;"
            + " heap with them − heap after they left; growth from before they came %.1f KiB); child reports: %s",
        tunnels, perTunnel, (heap1 - heap0) / 1024.0 / (tunnels + 1), agentsLine);
  }

  /** Opens {@code n} idle watches spread over {@code clients} HTTP/2 connections; returns KiB of heap per watch. */
  private static String watcherToken(int client) {
    return "tok-watcher-" + client;
  }

  private double watches(String url, int n, int clients, String label, boolean paced) throws Exception {
    List<HttpClient> cs = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      HttpClient c = newClient();
      // one request each first, so the connection itself is not counted per stream
      HttpRequest warm = url.startsWith(relayBase) ? relayGet(watcherToken(i)) : directGet();
      timedGet(c, warm);
      cs.add(c);
    }
    Map<String, Long> histo0 = histogram();
    long heap0 = heapAfterGc();
    long connections0 = stub.count("connections");
    List<CompletableFuture<HttpResponse<InputStream>>> pending = new ArrayList<>();
    List<HttpResponse<InputStream>> open = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      // One user per client: the relay allows 200 concurrent requests per subject, 1,000 watches need 5+ users.
      HttpRequest watch =
          HttpRequest.newBuilder(URI.create(url))
              .header("Authorization", "Bearer " + watcherToken(i % clients))
              .build();
      pending.add(cs.get(i % clients).sendAsync(watch, HttpResponse.BodyHandlers.ofInputStream()));
      if (paced && pending.size() == 50) {
        collect(pending, open, label);
      }
    }
    collect(pending, open, label);
    Thread.sleep(1000);
    long heap1 = heapAfterGc();
    Map<String, Long> histo1 = histogram();
    log("  watches %s (%s): largest growth by class, KiB per stream: %s", label, paced ? "paced" : "burst",
        growth(histo0, histo1, n));
    long openAtStub = stub.count("open watches");
    long workers =
        Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("jit-agent-worker")).count();
    log("  %d agent worker threads alive; the stub has %d open connections", workers, stub.count("open connections"));
    // Live bytes from the class histograms (a full GC, then every live object counted): the heap's "used" after
    // System.gc() sometimes kept tens of MiB that no live object accounts for (a collection skipped or cut short,
    // perhaps by a JNI critical section of the native transport), so it is only reported beside them.
    double perStream = (liveBytes(histo1) - liveBytes(histo0)) / 1024.0 / Math.max(1, open.size());
    log("watches %s (%s): %d open (stub sees %d; %d new stub connections), live objects %.1f MiB → %.1f MiB,"
            + " %.2f KiB per stream (heap used after GC %.1f MiB → %.1f MiB)",
        label, paced ? "paced, 50 at a time" : "burst, all 1,000 at once", open.size(), openAtStub,
        stub.count("connections") - connections0, liveBytes(histo0) / 1048576.0, liveBytes(histo1) / 1048576.0,
        perStream, heap0 / 1048576.0, heap1 / 1048576.0);
    for (HttpResponse<InputStream> r : open) {
      r.body().close();
    }
    Thread.sleep(1000);
    log("watches %s closed; stub sees %d open", label, stub.count("open watches"));
    return perStream;
  }

  private void collect(
      List<CompletableFuture<HttpResponse<InputStream>>> pending, List<HttpResponse<InputStream>> open, String label)
      throws Exception {
    for (CompletableFuture<HttpResponse<InputStream>> f : pending) {
      HttpResponse<InputStream> r = f.get(60, TimeUnit.SECONDS);
      if (r.statusCode() != 200) {
        try (InputStream body = r.body()) {
          if (watchFailures++ == 0) {
            firstWatchFailure = label + " watch answered " + r.statusCode() + ": "
                + new String(body.readNBytes(300), StandardCharsets.UTF_8);
          }
        }
        continue;
      }
      open.add(r);
    }
    pending.clear();
  }

  // ------------------------------------------------------------------ 5. cold path

  private void cold() throws Exception {
    stub.delay(0);
    // one new user
    stub.reset();
    timedGet(client, relayGet("tok-cold-single"));
    Map<String, Long> single = stub.counts();
    result("cold: a new user's first request made at the stub: %s", single);
    // 20 concurrent first requests of one new user
    stub.reset();
    List<CompletableFuture<HttpResponse<byte[]>>> burst = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      burst.add(client.sendAsync(relayGet("tok-cold-burst"), HttpResponse.BodyHandlers.ofByteArray()));
    }
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (CompletableFuture<HttpResponse<byte[]>> f : burst) {
      statuses.merge(f.get(30, TimeUnit.SECONDS).statusCode(), 1, Integer::sum);
    }
    result("cold: 20 concurrent first requests of one new user (statuses %s) made at the stub: %s", statuses, stub.counts());
    // steady state for the provisioning path too: new users, not measured, in passes of 300 until a pass made
    // the JIT compile for at most JIT_QUIET_MS (at most 60 s)
    var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    long warmStart = System.nanoTime();
    int warmUsers = 0;
    long compiledMs;
    do {
      long before = jit.getTotalCompilationTime();
      for (int i = 0; i < 300; i++) {
        timedGet(client, relayGet("tok-cold-warmup-" + warmUsers++));
      }
      compiledMs = jit.getTotalCompilationTime() - before;
    } while (compiledMs > JIT_QUIET_MS && System.nanoTime() - warmStart < TimeUnit.SECONDS.toNanos(60));
    log("cold warm-up: %d new users in %.1f s, the JIT compiled %d ms during the last 300",
        warmUsers, (System.nanoTime() - warmStart) / 1e9, compiledMs);
    // cold p50, interleaved with warm requests of a known user
    int perRound = 40;
    double[] coldP50 = new double[rounds];
    double[] warmP50 = new double[rounds];
    int user = 0;
    for (int r = 0; r < rounds; r++) {
      long[] c = new long[perRound];
      long[] w = new long[perRound];
      for (int i = 0; i < perRound; i++) {
        c[i] = timedGet(client, relayGet("tok-cold-" + r + "-" + user++));
        w[i] = timedGet(client, relayGet("tok-bench"));
      }
      Arrays.sort(c);
      Arrays.sort(w);
      coldP50[r] = pct(c, 0.5) / 1e3;
      warmP50[r] = pct(w, 0.5) / 1e3;
      log("cold round %d: cold p50 %.0f µs p90 %.0f µs, warm p50 %.0f µs", r, coldP50[r], pct(c, 0.9) / 1e3, warmP50[r]);
    }
    result("cold: first request of a new user p50 %.2f ms with a 0 ms stub (target ≤ 5), warm p50 %.2f ms; per round %s",
        median(coldP50) / 1e3, median(warmP50) / 1e3, fmt(coldP50, "%.0f"));
    coldGaps();
  }

  /**
   * Where a cold request's time goes: for a few new users, when each call reached the stub and was answered,
   * relative to the moment the client sent the request (one monotonic clock for both JVMs on this host).
   */
  private void coldGaps() throws Exception {
    stub.command("trace"); // drop what the rounds left
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      long t0 = System.nanoTime();
      client.send(relayGet("tok-cold-gaps-" + i), HttpResponse.BodyHandlers.ofByteArray());
      long t1 = System.nanoTime();
      StringBuilder line = new StringBuilder();
      for (String entry : stub.command("trace").split(";")) {
        if (entry.isEmpty()) {
          continue;
        }
        String[] f = entry.split(" ", 4);
        String what = f[3].startsWith("/api/v1/namespaces/jit-access/serviceaccounts/") ? "token" : f[2] + " "
            + f[3].replaceAll("^/apis/rbac.authorization.k8s.io/v1/", "").replaceAll("^/api/v1/namespaces/jit-access/", "");
        line.append(String.format(Locale.ROOT, "%s %.2f-%.2f, ", what,
            (Long.parseLong(f[0]) - t0) / 1e6, (Long.parseLong(f[1]) - t0) / 1e6));
      }
      lines.add(String.format(Locale.ROOT, "  cold gaps (ms from send): %sanswer at %.2f", line, (t1 - t0) / 1e6));
    }
    lines.forEach(l -> log("%s", l));
  }

  // ------------------------------------------------------------------ measuring

  private static Map<Long, Long> threadCpu() {
    Map<Long, Long> cpu = new HashMap<>();
    for (long id : THREADS.getAllThreadIds()) {
      long t = THREADS.getThreadCpuTime(id);
      if (t >= 0) {
        cpu.put(id, t);
      }
    }
    return cpu;
  }

  /** CPU ns between two snapshots of every thread not belonging to the client (the relay's and agent's). */
  private static long serverCpu(Map<Long, Long> before, Map<Long, Long> after) {
    return cpuWhere(before, after, false);
  }

  private static long clientCpu(Map<Long, Long> before, Map<Long, Long> after) {
    return cpuWhere(before, after, true);
  }

  private static long cpuWhere(Map<Long, Long> before, Map<Long, Long> after, boolean client) {
    long sum = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      ThreadInfo info = THREADS.getThreadInfo(e.getKey());
      if (info == null || isClientThread(info.getThreadName()) != client) {
        continue;
      }
      sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return sum;
  }

  /** Non-client CPU per request grouped by thread name with digits masked, largest first. */
  private static String breakdown(Map<Long, Long> before, Map<Long, Long> after, long requests) {
    Map<String, Long> groups = new HashMap<>();
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      ThreadInfo info = THREADS.getThreadInfo(e.getKey());
      if (info == null || isClientThread(info.getThreadName())) {
        continue;
      }
      groups.merge(info.getThreadName().replaceAll("[0-9]+", "N"), e.getValue() - before.getOrDefault(e.getKey(), 0L), Long::sum);
    }
    StringBuilder s = new StringBuilder();
    groups.entrySet().stream()
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> s.append(String.format(Locale.ROOT, "%s=%.0f ", e.getKey(), e.getValue() / 1e3 / requests)));
    return s.toString().trim();
  }

  private static boolean isClientThread(String name) {
    return name.startsWith("HttpClient-") || name.startsWith("bench-") || name.equals("main");
  }

  /** Live-object histogram (a full GC first) through the DiagnosticCommand MBean: class → bytes. */
  private static Map<String, Long> histogram() {
    try {
      String text =
          (String)
              ManagementFactory.getPlatformMBeanServer()
                  .invoke(
                      new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
                      "gcClassHistogram",
                      new Object[] {new String[0]},
                      new String[] {String[].class.getName()});
      Map<String, Long> bytes = new HashMap<>();
      for (String line : text.split("\n")) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 4 && f[0].endsWith(":")) {
          bytes.put(f[3], Long.parseLong(f[2]));
        }
      }
      return bytes;
    } catch (javax.management.JMException e) {
      throw new IllegalStateException("no class histogram", e);
    }
  }

  private static long liveBytes(Map<String, Long> histogram) {
    long total = 0;
    for (long bytes : histogram.values()) {
      total += bytes;
    }
    return total;
  }

  /** The classes whose live bytes grew most between two histograms, as KiB per unit. */
  private static String growth(Map<String, Long> before, Map<String, Long> after, int units) {
    long total = 0;
    for (Map.Entry<String, Long> e : after.entrySet()) {
      total += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    for (Map.Entry<String, Long> e : before.entrySet()) {
      if (!after.containsKey(e.getKey())) {
        total -= e.getValue();
      }
    }
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "(all classes %.2f) ", total / 1024.0 / units));
    after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(30)
        .forEach(e -> s.append(String.format(Locale.ROOT, "%s=%.2f ", e.getKey(), e.getValue() / 1024.0 / units)));
    return s.toString().trim();
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return MEMORY.getHeapMemoryUsage().getUsed();
  }

  private static long pct(long[] sorted, double p) {
    return sorted[Math.max(0, (int) Math.ceil(p * sorted.length) - 1)];
  }

  private static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static String fmt(double[] values, String format) {
    StringBuilder s = new StringBuilder("[");
    for (double v : values) {
      s.append(s.length() > 1 ? " " : "").append(String.format(Locale.ROOT, format, v));
    }
    return s.append(']').toString();
  }

  private static String loadAverage() {
    return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }

  private static void log(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
  }

  private void result(String format, Object... args) {
    String line = String.format(Locale.ROOT, format, args) + " [load " + loadAverage() + "]";
    System.out.println("RESULT " + line);
    report.add(line);
  }

  /** The stub apiserver child process and its stdin/stdout control protocol. */
  private static final class Stub {
    final Process process;
    final int port;
    private final BufferedReader out;
    private final PrintWriter in;

    private Stub(Process process) throws IOException {
      this.process = process;
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      String first = out.readLine();
      if (first == null || !first.startsWith("port ")) {
        throw new IllegalStateException("the stub did not start: " + first);
      }
      this.port = Integer.parseInt(first.substring(5));
    }

    static Stub start(Path chain, Path key) throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb =
          new ProcessBuilder(
              java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
              StubApiServer.class.getName(), chain.toString(), key.toString());
      pb.redirectError(ProcessBuilder.Redirect.INHERIT);
      return new Stub(pb.start());
    }

    synchronized String command(String line) {
      in.println(line);
      try {
        String answer = out.readLine();
        if (answer == null) {
          throw new IllegalStateException("the stub died");
        }
        return answer;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void delay(int millis) {
      command("delay " + millis);
    }

    void reset() {
      command("reset");
    }

    Map<String, Long> counts() {
      Map<String, Long> counts = new TreeMap<>();
      for (String entry : command("counts").split(";")) {
        if (!entry.isEmpty()) {
          int eq = entry.lastIndexOf('=');
          counts.put(entry.substring(0, eq), Long.parseLong(entry.substring(eq + 1)));
        }
      }
      return counts;
    }

    /** The stub process's user + system CPU time from /proc (10 ms resolution), in nanoseconds. */
    long cpuNanos() {
      try {
        String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields 14 and 15 of stat(5) (utime, stime) are at 11 and 12 after the command name
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    long count(String key) {
      return counts().getOrDefault(key, 0L);
    }
  }
}
