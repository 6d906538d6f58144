package dev.jitaccess.relay;

import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.api.spi.ClusterForwarder;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.relay.internal.AgentConnector;
import dev.jitaccess.relay.internal.AgentSettings;
import dev.jitaccess.relay.internal.GrantCheck;
import dev.jitaccess.relay.internal.HeartbeatSettings;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * The agent that runs inside a cluster: it dials out to the relay's tunnel listener over TLS (optionally
 * through an HTTP CONNECT proxy), authenticates with its agent credential and then serves the relay's
 * requests over HTTP/2: for each one it verifies the signed grant, provisions the grant's ServiceAccount
 * through the {@link AccountProvisioner}, forwards the request with that account's token through the
 * {@link ClusterForwarder} and streams the answer back. Revocations close the subject's open streams at once;
 * a grant's expiry closes them too.
 *
 * <p>The agent reconnects forever, with capped exponential backoff and jitter ({@value
 * #DEFAULT_BACKOFF_INITIAL_MILLIS} ms doubling up to {@value #DEFAULT_BACKOFF_MAX_SECONDS} s). When the tunnel
 * drops, in-flight requests fail and nothing is replayed.
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

  private final AgentConnector connector;
  private final @Nullable ExecutorService ownedExecutor;
  private boolean started;

  private RelayAgent(AgentConnector connector, @Nullable ExecutorService ownedExecutor) {
    this.connector = connector;
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
   * Starts dialing the relay in the background; returns at once.
   *
   * @return this agent
   * @throws IllegalStateException if it was started before
   */
  public synchronized RelayAgent start() {
    if (started) {
      throw new IllegalStateException("the agent was already started");
    }
    started = true;
    connector.start();
    return this;
  }

  /**
   * Whether the tunnel to the relay is established now.
   *
   * @return true while connected
   */
  public boolean isConnected() {
    return connector.isConnected();
  }

  /** Closes the tunnel (failing in-flight requests) and stops reconnecting; never throws. */
  @Override
  public void close() {
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
      return grantCheck(verifier::verify);
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
      ExecutorService owned = executor == null ? newWorkerPool() : null;
      AgentSettings settings =
          new AgentSettings(
              uri.getHost(),
              uri.getPort() < 0 ? 443 : uri.getPort(),
              proxy == null ? null : InetSocketAddress.createUnresolved(proxy.getHost(), proxy.getPort()),
              sslContext(),
              credentialSupplier,
              check,
              accountProvisioner,
              clusterForwarder,
              executor != null ? executor : Objects.requireNonNull(owned),
              clock != null ? clock : InstantSource.system(),
              heartbeat != null ? heartbeat : HeartbeatSettings.DEFAULT,
              backoffInitial != null ? backoffInitial : Duration.ofMillis(DEFAULT_BACKOFF_INITIAL_MILLIS),
              backoffMax != null ? backoffMax : Duration.ofSeconds(DEFAULT_BACKOFF_MAX_SECONDS),
              Duration.ofHours(24));
      return new RelayAgent(new AgentConnector(settings), owned);
    }

    private static <T> T require(@Nullable T value, String name) {
      if (value == null) {
        throw new IllegalStateException(name + " must be set before build()");
      }
      return value;
    }

    private SslContext sslContext() {
      SslContextBuilder tls =
          SslContextBuilder.forClient()
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
