package dev.jitaccess.relay;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.api.spi.ClusterForwarder;
import dev.jitaccess.api.spi.RevocationStore;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.relay.internal.AgentConnector;
import dev.jitaccess.relay.internal.AgentHousekeeping;
import dev.jitaccess.relay.internal.AgentSettings;
import dev.jitaccess.relay.internal.GrantCheck;
import dev.jitaccess.relay.internal.HeartbeatSettings;
import dev.jitaccess.relay.internal.Transports;
import dev.jitaccess.relay.internal.TunnelProtocol;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent that runs inside a cluster: it dials out to the relay's tunnel listener over TLS (optionally
 * through an HTTP CONNECT proxy), authenticates with its agent credential and then serves the relay's
 * requests over HTTP/2: for each one it verifies the signed grant, provisions the grant's ServiceAccount
 * through the {@link AccountProvisioner}, forwards the request with that account's token through the
 * {@link ClusterForwarder} and streams the answer back. Revocations close the subject's open streams at once;
 * a grant's expiry closes them too, with the clock skew its verification allows ({@link
 * dev.jitaccess.core.GrantVerifier#CLOCK_SKEW}). A revocation is judged on the engine's clock when the relay
 * sends its time (grants carry the engine's times), or on the agent's own when that is later.
 *
 * <p><b>Tunnels.</b> The agent holds one tunnel connection per relay event loop (the relay advertises its loop
 * count in the handshake; at most 8; see {@link Builder#tunnelConnections(int)}), so that the relay sends each
 * user request through the tunnel on the loop of the user's connection and no request crosses event loops in
 * the relay. All tunnels share the agent's grants, accounts, revocations and open streams.
 *
 * <p>The agent reconnects forever, each tunnel on its own, with capped exponential backoff and jitter ({@value
 * #DEFAULT_BACKOFF_INITIAL_MILLIS} ms doubling up to {@value #DEFAULT_BACKOFF_MAX_SECONDS} s). When the tunnel
 * drops, in-flight requests fail and nothing is replayed.
 *
 * <p><b>Revocations survive restarts.</b> Each revocation is refused in memory at once and written to the
 * {@linkplain Builder#revocationStore(RevocationStore) revocation store} before the relay is told it took
 * effect; {@link #start()} loads the store before the agent serves. With a durable store (jit-access-k8s's
 * {@code ConfigMapRevocationStore}) a restarted agent still refuses every grant issued in or before the
 * second of a revocation, until it has expired.
 *
 * <p><b>Housekeeping.</b> At start the agent asks the provisioner about its own privileges
 * ({@link AccountProvisioner#privilegeWarnings()}) and logs a WARN per excess privilege, or refuses to start
 * ({@link Builder#refuseOverprivileged(boolean)}); it runs {@link AccountProvisioner#sweepIdle()} at start and
 * then every {@linkplain Builder#sweepPeriod(Duration) sweep period} on a thread of its own.
 *
 * <p>Thread-safe. Create with {@link #builder()}, then {@link #start()}; {@link #close()} stops it.
 *
 * @since 0.1.0
 */
public final class RelayAgent implements AutoCloseable {
  /** The first reconnect delay, in milliseconds. */
  public static final long DEFAULT_BACKOFF_INITIAL_MILLIS = 500;

  /** The reconnect delay cap, in seconds. */
  public static final long DEFAULT_BACKOFF_MAX_SECONDS = 30;

  /** The default and longest time between idle sweeps: 5 minutes. */
  public static final Duration DEFAULT_SWEEP_PERIOD = Duration.ofMinutes(5);

  /**
   * How long a revocation is remembered by default: 24 hours, longer than any grant lives (the engine's
   * grants last minutes) plus clock skew.
   */
  public static final Duration DEFAULT_TOMBSTONE_RETENTION = Duration.ofHours(24);

  private static final Logger log = LoggerFactory.getLogger(RelayAgent.class);

  private final AgentConnector connector;
  private final AgentHousekeeping housekeeping;
  private final boolean refuseOverprivileged;
  private final @Nullable ExecutorService ownedExecutor;
  private boolean started;

  private RelayAgent(
      AgentConnector connector,
      AgentHousekeeping housekeeping,
      boolean refuseOverprivileged,
      @Nullable ExecutorService ownedExecutor) {
    this.connector = connector;
    this.housekeeping = housekeeping;
    this.refuseOverprivileged = refuseOverprivileged;
    this.ownedExecutor = ownedExecutor;
  }

  /**
   * A new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Checks the agent's own privileges, loads the revocation tombstones, starts the idle sweeper, and then
   * starts dialing the relay in the background. Blocks for the privilege check and the load (calls to the
   * cluster with durable implementations); the rest happens in the background. If this throws, the agent
   * does not serve: {@link #close()} it.
   *
   * @return this agent
   * @throws IllegalStateException if it was started before
   * @throws RelayException if the tombstones could not be loaded (serving without them could accept a
   *     revoked grant), or if {@linkplain Builder#refuseOverprivileged(boolean) refusing} and the agent
   *     holds excess privileges or could not check them
   */
  public synchronized RelayAgent start() {
    if (started) {
      throw new IllegalStateException("the agent was already started");
    }
    started = true;
    housekeeping.checkPrivileges(refuseOverprivileged);
    int loaded;
    try {
      loaded = connector.loadRevocations();
    } catch (RuntimeException e) {
      throw new RelayException(
          "The agent refuses to start: could not load the revocation tombstones (" + e.getMessage() + ")", e);
    }
    log.debug("Loaded {} revocation tombstone(s)", loaded);
    housekeeping.startSweeping();
    connector.start();
    return this;
  }

  /**
   * Whether a tunnel to the relay is established now.
   *
   * @return true while at least one of the agent's tunnels is connected
   */
  public boolean isConnected() {
    return connector.isConnected();
  }

  /** Tests: how many tunnels are established now. */
  int connectedTunnels() {
    return connector.connectedCount();
  }

  /** Tests: how many tunnel connections the agent maintains (1 until the relay first answered). */
  int tunnelConnectionCount() {
    return connector.connectionCount();
  }

  /** Tests: every tunnel connection or its current attempt. */
  List<Channel> tunnelChannels() {
    return connector.channels();
  }

  /** Tests: the transport and TLS implementation the agent uses. */
  Transports transports() {
    return connector.transports();
  }

  /** Tests: the first tunnel connection or its current attempt, null before the first. */
  @Nullable Channel tunnelChannel() {
    return connector.channel();
  }

  /**
   * Closes the tunnels and stops reconnecting; never throws. Each tunnel sends GOAWAY and ends at once, so
   * in-flight requests and open watches fail promptly at their users and the relay routes nothing new here.
   */
  @Override
  public void close() {
    housekeeping.close();
    connector.close();
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
  }

  /**
   * Builds a {@link RelayAgent}. Each property may be set once; required: {@link #relayUri}, {@link
   * #credential}, {@link #provisioner}, {@link #forwarder} and the grant verifier. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private @Nullable URI relayUri;
    private @Nullable Supplier<String> credential;
    private @Nullable List<X509Certificate> trusted;
    private @Nullable URI proxy;
    private @Nullable AccountProvisioner provisioner;
    private @Nullable ClusterForwarder forwarder;
    private @Nullable InstantSource clock;
    private @Nullable Executor executor;
    private @Nullable Duration backoffInitial;
    private @Nullable Duration backoffMax;
    private @Nullable HeartbeatSettings heartbeat;
    private @Nullable GrantCheck grantCheck;
    private @Nullable RevocationStore revocationStore;
    private @Nullable Duration tombstoneRetention;
    private @Nullable Duration sweepPeriod;
    private @Nullable Boolean refuseOverprivileged;
    private @Nullable ScheduledExecutorService sweepScheduler;
    private @Nullable Boolean nativeTransport;
    private @Nullable Integer ioThreads;
    private @Nullable Integer tunnelConnections;

    private Builder() {}

    private static void once(@Nullable Object current, String name) {
      if (current != null) {
        throw new IllegalStateException(name + " was already set");
      }
    }

    /**
     * The relay's tunnel listener, {@code https://host:port}.
     *
     * @param relayUri the URI; port 443 when absent
     * @return this builder
     * @throws IllegalArgumentException if it is not an https URI with a host
     * @throws IllegalStateException if already set
     */
    public Builder relayUri(URI relayUri) {
      Objects.requireNonNull(relayUri, "relayUri");
      once(this.relayUri, "relayUri");
      if (!"https".equalsIgnoreCase(relayUri.getScheme()) || relayUri.getHost() == null) {
        throw new IllegalArgumentException("relayUri must be https://host:port but was " + relayUri);
      }
      this.relayUri = relayUri;
      return this;
    }

    /**
     * The agent credential the engine issued for this cluster.
     *
     * @param credential the credential
     * @return this builder
     * @throws IllegalArgumentException if it is blank
     * @throws IllegalStateException if already set
     */
    public Builder credential(String credential) {
      Objects.requireNonNull(credential, "credential");
      if (credential.isBlank()) {
        throw new IllegalArgumentException("credential must not be blank");
      }
      return credential(() -> credential);
    }

    /**
     * Supplies the agent credential anew for each connection attempt (for rotated credentials).
     *
     * @param credential the supplier; called off the caller's thread, must not return null
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder credential(Supplier<String> credential) {
      Objects.requireNonNull(credential, "credential");
      once(this.credential, "credential");
      this.credential = credential;
      return this;
    }

    /**
     * The certificates to trust for the relay (default: the JDK trust store).
     *
     * @param certificates one or more CA or server certificates
     * @return this builder
     * @throws IllegalArgumentException if none is given
     * @throws IllegalStateException if already set
     */
    public Builder trustedCertificates(X509Certificate... certificates) {
      once(this.trusted, "trustedCertificates");
      if (certificates.length == 0) {
        throw new IllegalArgumentException("trustedCertificates needs at least one certificate");
      }
      this.trusted = List.of(certificates);
      return this;
    }

    /**
     * An HTTP CONNECT proxy to reach the relay through, {@code http://host:port}.
     *
     * @param proxy the proxy URI
     * @return this builder
     * @throws IllegalArgumentException if it is not an http URI with a host and port
     * @throws IllegalStateException if already set
     */
    public Builder proxy(URI proxy) {
      Objects.requireNonNull(proxy, "proxy");
      once(this.proxy, "proxy");
      if (!"http".equalsIgnoreCase(proxy.getScheme()) || proxy.getHost() == null || proxy.getPort() < 0) {
        throw new IllegalArgumentException("proxy must be http://host:port but was " + proxy);
      }
      this.proxy = proxy;
      return this;
    }

    /**
     * Provisions the ServiceAccount of each grant.
     *
     * @param provisioner the provisioner
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder provisioner(AccountProvisioner provisioner) {
      Objects.requireNonNull(provisioner, "provisioner");
      once(this.provisioner, "provisioner");
      this.provisioner = provisioner;
      return this;
    }

    /**
     * Forwards requests to kube-apiserver.
     *
     * @param forwarder the forwarder
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder forwarder(ClusterForwarder forwarder) {
      Objects.requireNonNull(forwarder, "forwarder");
      once(this.forwarder, "forwarder");
      this.forwarder = forwarder;
      return this;
    }

    /**
     * The clock for grant expiry and revocation (default {@link InstantSource#system()}).
     *
     * @param clock the clock
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder clock(InstantSource clock) {
      Objects.requireNonNull(clock, "clock");
      once(this.clock, "clock");
      this.clock = clock;
      return this;
    }

    /**
     * Where blocking work runs: provisioning, forwarding, reading response bodies (one task per open stream
     * while it waits for data). Default: an unbounded pool of daemon threads owned by the agent.
     *
     * @param executor the executor; the agent never shuts it down
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder executor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      once(this.executor, "executor");
      this.executor = executor;
      return this;
    }

    /**
     * The reconnect backoff: the first delay and the cap (default 500 ms and 30 s). Each delay is drawn
     * between half and all of the current step; the step doubles up to the cap.
     *
     * @param initial the first step, positive
     * @param max the cap, at least {@code initial}
     * @return this builder
     * @throws IllegalArgumentException for a non-positive initial step or a cap below it
     * @throws IllegalStateException if already set
     */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      Objects.requireNonNull(initial, "initial");
      Objects.requireNonNull(max, "max");
      once(this.backoffInitial, "reconnectBackoff");
      if (initial.isNegative() || initial.isZero()) {
        throw new IllegalArgumentException("reconnectBackoff initial must be positive but was " + initial);
      }
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "reconnectBackoff max must be at least " + initial + " but was " + max);
      }
      this.backoffInitial = initial;
      this.backoffMax = max;
      return this;
    }

    /**
     * The tunnel heartbeat (default: a PING after 10 s without writes, dead after 30 s without reads).
     *
     * @param interval write-idle time before a PING
     * @param timeout read-idle time before the tunnel is dropped and dialed again; longer than the interval
     * @return this builder
     * @throws IllegalArgumentException for non-positive values or a timeout not above the interval
     * @throws IllegalStateException if already set
     */
    public Builder heartbeat(Duration interval, Duration timeout) {
      once(this.heartbeat, "heartbeat");
      this.heartbeat = new HeartbeatSettings(interval, timeout);
      return this;
    }

    /**
     * How the agent checks each signed grant: a {@link GrantVerifier} for this agent's own cluster id, built
     * from the engine's public keys ({@code JitAccess.publicJwks()}) and issuer. Required. The verifier checks
     * the signature, the algorithm pinned per key, the issuer, the audience (this cluster only) and the
     * expiry with 60 s skew; the agent adds revocation.
     *
     * @param verifier the verifier
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder grantVerifier(GrantVerifier verifier) {
      Objects.requireNonNull(verifier, "grantVerifier");
      return grantCheck(
          new GrantCheck() {
            @Override
            public Grant verify(String jws) {
              return verifier.verify(jws);
            }

            @Override
            public @Nullable Grant verifyIfCached(String jws) {
              return verifier.verifyIfCached(jws);
            }
          });
    }

    /**
     * Where revocation tombstones are kept across restarts. Default: a new {@link InMemoryRevocationStore},
     * which a restart forgets; in a cluster use jit-access-k8s's {@code ConfigMapRevocationStore}.
     *
     * @param revocationStore the store; called off the event loop, may block
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder revocationStore(RevocationStore revocationStore) {
      Objects.requireNonNull(revocationStore, "revocationStore");
      once(this.revocationStore, "revocationStore");
      this.revocationStore = revocationStore;
      return this;
    }

    /**
     * How long a revocation is remembered (in memory and in the store): at least the longest lifetime of a
     * grant plus the 60 s clock skew. Default {@link #DEFAULT_TOMBSTONE_RETENTION 24 hours}.
     *
     * @param retention at least 2 minutes
     * @return this builder
     * @throws IllegalArgumentException if shorter than 2 minutes
     * @throws IllegalStateException if already set
     */
    public Builder tombstoneRetention(Duration retention) {
      Objects.requireNonNull(retention, "tombstoneRetention");
      once(this.tombstoneRetention, "tombstoneRetention");
      if (retention.compareTo(Duration.ofMinutes(2)) < 0) {
        throw new IllegalArgumentException("tombstoneRetention must be at least PT2M but was " + retention);
      }
      this.tombstoneRetention = retention;
      return this;
    }

    /**
     * Time between the end of one idle sweep ({@link AccountProvisioner#sweepIdle()}) and the start of the
     * next. Default and maximum {@link #DEFAULT_SWEEP_PERIOD 5 minutes}.
     *
     * @param period 1 second to 5 minutes
     * @return this builder
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if already set
     */
    public Builder sweepPeriod(Duration period) {
      Objects.requireNonNull(period, "sweepPeriod");
      once(this.sweepPeriod, "sweepPeriod");
      if (period.compareTo(Duration.ofSeconds(1)) < 0 || period.compareTo(DEFAULT_SWEEP_PERIOD) > 0) {
        throw new IllegalArgumentException("sweepPeriod must be PT1S to PT5M but was " + period);
      }
      this.sweepPeriod = period;
      return this;
    }

    /**
     * Whether {@link RelayAgent#start()} refuses to start when the provisioner reports that the agent holds
     * more privileges than it needs ({@link AccountProvisioner#privilegeWarnings()}), or cannot check them.
     * Default false: each finding is logged at WARN and the agent starts.
     *
     * @param refuse true to refuse
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder refuseOverprivileged(boolean refuse) {
      once(this.refuseOverprivileged, "refuseOverprivileged");
      this.refuseOverprivileged = refuse;
      return this;
    }

    /**
     * Whether to use epoll and OpenSSL (Netty's BoringSSL build) when their Netty native libraries
     * ({@code netty-transport-native-epoll}, {@code netty-tcnative-boringssl-static}) are on the class path and
     * load; each falls back on its own to NIO or the JDK's TLS where it does not. False: NIO and the JDK's TLS
     * always. Default true. The choice is logged at INFO when the agent starts. Host name verification of the
     * relay and the trusted certificates work the same with both.
     *
     * @param enabled true to use the native transport and TLS where available
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder nativeTransport(boolean enabled) {
      once(this.nativeTransport, "nativeTransport");
      this.nativeTransport = enabled;
      return this;
    }

    /**
     * How many event loop threads the agent uses. Default 1: all of a connection's streams run on one loop, the
     * agent's work on a loop is light (frames in and out), and blocking work runs on the {@linkplain
     * #executor(Executor) executor}; the agent's {@linkplain #tunnelConnections(int) tunnels} share the loops.
     *
     * @param threads the thread count, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     * @throws IllegalStateException if already set
     */
    public Builder ioThreads(int threads) {
      once(this.ioThreads, "ioThreads");
      if (threads < 1) {
        throw new IllegalArgumentException("ioThreads must be at least 1 but was " + threads);
      }
      this.ioThreads = threads;
      return this;
    }

    /**
     * How many tunnel connections the agent holds to the relay. Default 0: as many as the relay has event loops
     * (it advertises the count in the handshake), at most 8, and 1 with a relay that advertises
     * none (an older relay). The relay sends each user request through the tunnel on the event loop of the user's
     * connection, so with one tunnel per relay loop neither a request nor its answer crosses event loops in the
     * relay. {@code n} from 1 to 8 holds exactly {@code n}, whatever the relay advertises (1 is the behaviour of
     * earlier versions). Each connection reconnects on its own with the {@linkplain #reconnectBackoff(Duration,
     * Duration) backoff}; all share the agent's grants, accounts, revocations and open streams, and the agent is
     * {@linkplain RelayAgent#isConnected() connected} while at least one is up.
     *
     * @param connections 0 for the relay's count, or 1 to 8
     * @return this builder
     * @throws IllegalArgumentException if not 0 to 8
     * @throws IllegalStateException if already set
     */
    public Builder tunnelConnections(int connections) {
      once(this.tunnelConnections, "tunnelConnections");
      if (connections < 0 || connections > TunnelProtocol.MAX_TUNNEL_CONNECTIONS) {
        throw new IllegalArgumentException(
            "tunnelConnections must be 0 (as many as the relay has event loops) to "
                + TunnelProtocol.MAX_TUNNEL_CONNECTIONS
                + " but was "
                + connections);
      }
      this.tunnelConnections = connections;
      return this;
    }

    /** Tests: the scheduler the sweeps run on; the agent owns it and shuts it down. */
    Builder sweepScheduler(ScheduledExecutorService scheduler) {
      Objects.requireNonNull(scheduler, "sweepScheduler");
      once(this.sweepScheduler, "sweepScheduler");
      this.sweepScheduler = scheduler;
      return this;
    }

    /** Tests: a grant check instead of a {@link GrantVerifier}. */
    Builder grantCheck(GrantCheck grantCheck) {
      Objects.requireNonNull(grantCheck, "grantCheck");
      once(this.grantCheck, "grantCheck");
      this.grantCheck = grantCheck;
      return this;
    }

    /**
     * Builds the agent; the builder stays unchanged.
     *
     * @return a new agent, not yet started
     * @throws IllegalStateException if a required property is missing
     * @throws IllegalArgumentException if the trusted certificates cannot be used
     */
    public RelayAgent build() {
      URI uri = require(relayUri, "relayUri");
      Supplier<String> credentialSupplier = require(credential, "credential");
      AccountProvisioner accountProvisioner = require(provisioner, "provisioner");
      ClusterForwarder clusterForwarder = require(forwarder, "forwarder");
      GrantCheck check = require(grantCheck, "grantVerifier");
      InstantSource agentClock = clock != null ? clock : InstantSource.system();
      Transports transports = Transports.select(!Boolean.FALSE.equals(nativeTransport));
      SslContext tls = sslContext(transports);
      ExecutorService owned = executor == null ? newWorkerPool() : null;
      AgentSettings settings =
          new AgentSettings(
              uri.getHost(),
              uri.getPort() < 0 ? 443 : uri.getPort(),
              proxy == null ? null : InetSocketAddress.createUnresolved(proxy.getHost(), proxy.getPort()),
              tls,
              credentialSupplier,
              check,
              accountProvisioner,
              clusterForwarder,
              executor != null ? executor : Objects.requireNonNull(owned),
              agentClock,
              heartbeat != null ? heartbeat : HeartbeatSettings.DEFAULT,
              backoffInitial != null ? backoffInitial : Duration.ofMillis(DEFAULT_BACKOFF_INITIAL_MILLIS),
              backoffMax != null ? backoffMax : Duration.ofSeconds(DEFAULT_BACKOFF_MAX_SECONDS),
              tombstoneRetention != null ? tombstoneRetention : DEFAULT_TOMBSTONE_RETENTION,
              revocationStore != null ? revocationStore : new InMemoryRevocationStore(agentClock),
              transports,
              ioThreads != null ? ioThreads : 1,
              tunnelConnections != null ? tunnelConnections : 0);
      AgentHousekeeping housekeeping =
          new AgentHousekeeping(
              accountProvisioner,
              sweepPeriod != null ? sweepPeriod : DEFAULT_SWEEP_PERIOD,
              sweepScheduler != null ? sweepScheduler : newSweepScheduler());
      return new RelayAgent(
          new AgentConnector(settings), housekeeping, Boolean.TRUE.equals(refuseOverprivileged), owned);
    }

    private static <T> T require(@Nullable T value, String name) {
      if (value == null) {
        throw new IllegalStateException(name + " must be set before build()");
      }
      return value;
    }

    private SslContext sslContext(Transports transports) {
      SslContextBuilder tls =
          SslContextBuilder.forClient()
              .sslProvider(transports.sslProvider())
              .protocols("TLSv1.3", "TLSv1.2")
              .endpointIdentificationAlgorithm("HTTPS");
      if (trusted != null) {
        tls.trustManager(trusted);
      }
      try {
        return tls.build();
      } catch (SSLException e) {
        throw new IllegalArgumentException("could not set up TLS for the relay: " + e.getMessage(), e);
      }
    }

    private static ScheduledExecutorService newSweepScheduler() {
      return Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "jit-agent-sweeper");
            t.setDaemon(true);
            return t;
          });
    }

    private static ExecutorService newWorkerPool() {
      AtomicInteger count = new AtomicInteger();
      return Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "jit-agent-worker-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
          });
    }
  }
}
