package dev.jitaccess.relay;

import dev.jitaccess.api.RelayException;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.internal.AccessEngine;
import dev.jitaccess.relay.internal.AuditBatcher;
import dev.jitaccess.relay.internal.DefaultTunnelRegistry;
import dev.jitaccess.relay.internal.JitAccessEngine;
import dev.jitaccess.relay.internal.KubeconfigWriter;
import dev.jitaccess.relay.internal.SubjectLimiter;
import dev.jitaccess.relay.internal.TunnelListener;
import dev.jitaccess.relay.internal.TunnelRegistry;
import dev.jitaccess.relay.internal.Transports;
import dev.jitaccess.relay.internal.UserChannelInitializer;
import dev.jitaccess.relay.internal.UserSideConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay kubectl talks to: an HTTPS endpoint (HTTP/1.1 and HTTP/2) serving {@code /clusters/<cluster>/...}
 * as a Kubernetes API, which authenticates each request, authorizes it with the jit-access engine and forwards it
 * with a signed grant through the reverse tunnel of that cluster's agent.
 *
 * <p>Build one with {@link #builder()}, then {@link #start()} it; {@link #close()} stops it. Thread-safe.
 *
 * @since 0.1.0
 */
public final class RelayServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RelayServer.class);

  /** The default limit of a request head, 16 KiB. */
  public static final int DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

  /** The default limit of a request body, 3 MiB (as kube-apiserver). */
  public static final long DEFAULT_MAX_BODY_SIZE = 3L * 1024 * 1024;

  /** The default time a request head may take to arrive, 10 s. */
  public static final Duration DEFAULT_HEADER_READ_TIMEOUT = Duration.ofSeconds(10);

  /** The default time a connection or stream may see no traffic, 30 min (watches end sooner at the API). */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(30);

  /** The default time a request may wait for its authorization, 10 s. */
  public static final Duration DEFAULT_AUTHORIZATION_TIMEOUT = Duration.ofSeconds(10);

  /** The default of the most requests (watches, exec sessions included) one subject may have open at once, 200. */
  public static final int DEFAULT_MAX_CONCURRENT_REQUESTS_PER_SUBJECT = 200;

  /** Threads that run the (possibly blocking) authorization calls. */
  private static final int DEFAULT_AUTHORIZATION_THREADS = 8;

  /** Authorizations waiting for a thread; beyond this the relay answers 429. */
  private static final int DEFAULT_AUTHORIZATION_QUEUE = 1024;

  private final Builder config;
  private final Object lock = new Object();
  private final Transports transports;
  /** Accepts connections on both listeners: one thread. */
  private @Nullable EventLoopGroup bossGroup;
  /** Serves the user connections and the agent tunnels: {@code ioThreads} threads. */
  private @Nullable EventLoopGroup group;
  private @Nullable ExecutorService executor;
  private @Nullable AuditBatcher auditBatcher;
  private @Nullable Channel userChannel;
  private @Nullable TunnelListener tunnelListener;
  private @Nullable SslContext userTls;
  private @Nullable SslContext tunnelTls;
  private volatile boolean closed;

  private RelayServer(Builder builder) {
    this.config = builder.copy();
    this.transports = Transports.select(builder.nativeTransport);
  }

  /**
   * A new builder.
   *
   * @return a builder with the defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the user-side listener.
   *
   * @return this server
   * @throws IllegalStateException if already started or closed
   * @throws RelayException if the port cannot be bound
   */
  public RelayServer start() {
    synchronized (lock) {
      if (group != null || closed) {
        throw new IllegalStateException("the relay server was already started or closed");
      }
      bossGroup = transports.newGroup(1, "jit-relay-boss");
      group = transports.newGroup(config.ioThreads, "jit-relay-io");
      EventLoopGroup boss = bossGroup;
      EventLoopGroup loops = group;
      ExecutorService pool = newExecutor();
      executor = pool;
      try {
        TunnelRegistry registry = tunnelRegistry(boss, loops);
        if (config.jitAccess != null) {
          config.jitAccess.addRevocationListener(
              (subject, cluster) -> {
                if (!closed) {
                  registry.revoke(subject, cluster, config.jitAccess.clock().instant());
                }
              });
        }
        UserSideConfig userSide =
            new UserSideConfig(
                Objects.requireNonNull(config.accessEngine),
                registry,
                pool,
                config.maxHeaderSize,
                config.maxBodySize,
                config.headerReadTimeout,
                config.idleTimeout,
                new SubjectLimiter(config.maxConcurrentRequestsPerSubject),
                config.maxConcurrentStreams,
                newAuditBatcher(),
                config.authorizationTimeout);
        userChannel =
            new ServerBootstrap()
                .group(boss, loops)
                .channel(transports.serverChannel())
                .childHandler(new UserChannelInitializer(newUserSslContext(), userSide))
                .bind(config.bindAddress)
                .sync()
                .channel();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new RelayException("interrupted while binding " + config.bindAddress, e);
      } catch (RelayException e) {
        close();
        throw e;
      } catch (RuntimeException e) {
        close();
        throw new RelayException("cannot bind the relay's user listener to " + config.bindAddress, e);
      }
      log.info(
          "Relay user listener on {} ({}; {} I/O thread(s) shared with the tunnel listener)",
          userChannel.localAddress(),
          transports.describe(),
          config.ioThreads);
      return this;
    }
  }

  private TunnelRegistry tunnelRegistry(EventLoopGroup boss, EventLoopGroup loops) {
    if (config.tunnelRegistry != null) {
      return config.tunnelRegistry;
    }
    InetSocketAddress address =
        config.tunnelBindAddress != null
            ? config.tunnelBindAddress
            : new InetSocketAddress(config.bindAddress.getAddress(), 0);
    TunnelListener listener =
        new TunnelListener()
            .start(
                address, newTunnelSslContext(), Objects.requireNonNull(config.accessEngine), transports, boss, loops);
    tunnelListener = listener;
    return listener.registry();
  }

  private SslContext newTunnelSslContext() {
    try {
      tunnelTls =
          SslContextBuilder.forServer(config.key, config.chain)
              .sslProvider(transports.sslProvider())
              .protocols("TLSv1.3", "TLSv1.2")
              .build();
      return tunnelTls;
    } catch (SSLException | IllegalArgumentException e) {
      throw new RelayException("the relay's TLS key and certificate chain are not usable for the tunnel", e);
    }
  }

  private ExecutorService newExecutor() {
    AtomicInteger ids = new AtomicInteger();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            config.authorizationThreads,
            config.authorizationThreads,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(config.authorizationQueue),
            r -> {
              Thread t = new Thread(r, "jit-relay-auth-" + ids.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  private SslContext newUserSslContext() {
    try {
      userTls =
          SslContextBuilder.forServer(config.key, config.chain)
              .sslProvider(transports.sslProvider())
              .protocols("TLSv1.3", "TLSv1.2")
              .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
              .applicationProtocolConfig(
                  new ApplicationProtocolConfig(
                      ApplicationProtocolConfig.Protocol.ALPN,
                      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                      ApplicationProtocolNames.HTTP_2,
                      ApplicationProtocolNames.HTTP_1_1))
              .build();
      return userTls;
    } catch (SSLException | IllegalArgumentException e) {
      throw new RelayException("the relay's TLS key and certificate chain are not usable", e);
    }
  }

  /**
   * The user-side port.
   *
   * @return the bound port (useful with port 0)
   * @throws IllegalStateException if not started
   */
  public int port() {
    synchronized (lock) {
      Channel ch = userChannel;
      if (ch == null) {
        throw new IllegalStateException("the relay server is not started");
      }
      return ((InetSocketAddress) ch.localAddress()).getPort();
    }
  }

  /**
   * The tunnel-side port agents dial.
   *
   * @return the bound port
   * @throws IllegalStateException if not started, or if this relay uses an external tunnel registry
   */
  public int tunnelPort() {
    synchronized (lock) {
      if (userChannel == null) {
        throw new IllegalStateException("the relay server is not started");
      }
      TunnelListener listener = tunnelListener;
      if (listener == null) {
        throw new IllegalStateException("this relay uses an external tunnel registry and has no tunnel listener");
      }
      return listener.port();
    }
  }

  /**
   * A kubeconfig that points kubectl at this relay for one cluster.
   *
   * @param user the kubeconfig user name (a label, not an identity)
   * @param cluster the cluster id
   * @param bearerToken the token kubectl sends
   * @return the kubeconfig YAML
   * @throws IllegalArgumentException if the cluster id is invalid or a name is blank
   * @throws IllegalStateException if not started
   */
  public String kubeconfig(String user, String cluster, String bearerToken) {
    URI base = config.externalUrl != null ? config.externalUrl : URI.create("https://" + host() + ":" + port());
    return KubeconfigWriter.write(base, user, cluster, bearerToken, config.chain[config.chain.length - 1]);
  }

  private String host() {
    InetAddress address = config.bindAddress.getAddress();
    if (address == null || address.isAnyLocalAddress()) {
      return "localhost";
    }
    String literal = address.getHostAddress();
    return literal.contains(":") ? "[" + literal + "]" : literal;
  }

  /** Tests: the transport and TLS implementation this server uses. */
  Transports transports() {
    return transports;
  }

  /** Tests: the user side's listening channel, null unless started. */
  @Nullable Channel userListener() {
    synchronized (lock) {
      return userChannel;
    }
  }

  /** Tests: the user side's TLS context, null before start. */
  @Nullable SslContext userSslContext() {
    synchronized (lock) {
      return userTls;
    }
  }

  /** Tests: the built-in tunnel listener's registry, null before start or with an external tunnel registry. */
  @Nullable DefaultTunnelRegistry builtInTunnelRegistry() {
    synchronized (lock) {
      return tunnelListener == null ? null : tunnelListener.registry();
    }
  }

  /** Tests: the tunnel listener's TLS context, null before start or with an external tunnel registry. */
  @Nullable SslContext tunnelSslContext() {
    synchronized (lock) {
      return tunnelTls;
    }
  }

  /** Stops listening and closes every connection. Idempotent. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (userChannel != null) {
        userChannel.close().awaitUninterruptibly();
        userChannel = null;
      }
      if (tunnelListener != null) {
        tunnelListener.close();
        tunnelListener = null;
      }
      if (group != null) {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        group = null;
      }
      if (bossGroup != null) {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        bossGroup = null;
      }
      if (executor != null) {
        executor.shutdownNow();
        executor = null;
      }
      if (auditBatcher != null) {
        auditBatcher.close(); // after the loops stopped: records every request they audited
        auditBatcher = null;
      }
    }
  }

  private AuditBatcher newAuditBatcher() {
    AuditBatcher batcher = new AuditBatcher(Objects.requireNonNull(config.accessEngine));
    auditBatcher = batcher;
    return batcher;
  }

  /**
   * Configures a {@link RelayServer}. Not thread-safe; each property may be set once.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private InetSocketAddress bindAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private @Nullable InetSocketAddress tunnelBindAddress;
    private @Nullable PrivateKey key;
    private X509Certificate[] chain = new X509Certificate[0];
    private int maxHeaderSize = DEFAULT_MAX_HEADER_SIZE;
    private long maxBodySize = DEFAULT_MAX_BODY_SIZE;
    private Duration headerReadTimeout = DEFAULT_HEADER_READ_TIMEOUT;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Duration authorizationTimeout = DEFAULT_AUTHORIZATION_TIMEOUT;
    private int maxConcurrentRequestsPerSubject = DEFAULT_MAX_CONCURRENT_REQUESTS_PER_SUBJECT;
    private int maxConcurrentStreams = UserSideConfig.MAX_CONCURRENT_STREAMS;
    private int authorizationThreads = DEFAULT_AUTHORIZATION_THREADS;
    private int authorizationQueue = DEFAULT_AUTHORIZATION_QUEUE;
    private @Nullable URI externalUrl;
    private @Nullable AccessEngine accessEngine;
    private @Nullable JitAccess jitAccess;
    private @Nullable TunnelRegistry tunnelRegistry;
    private boolean nativeTransport = true;
    private int ioThreads = Transports.defaultIoThreads(Runtime.getRuntime().availableProcessors());

    private Builder() {}

    /**
     * Whether to use epoll and OpenSSL (Netty's BoringSSL build) when their Netty native libraries
     * ({@code netty-transport-native-epoll}, {@code netty-tcnative-boringssl-static}) are on the class path and
     * load; each falls back on its own to NIO or the JDK's TLS where it does not. False: NIO and the JDK's TLS
     * always. Default true. The choice is logged at INFO when the server starts.
     *
     * @param enabled true to use the native transport and TLS where available
     * @return this builder
     */
    public Builder nativeTransport(boolean enabled) {
      this.nativeTransport = enabled;
      return this;
    }

    /**
     * How many event loop threads serve the connections, user and agent tunnels alike (one more thread accepts
     * connections on both listeners). Default: half the available processors, at least one: the relay shares
     * its machine with the host application, and on two processors one loop served 8-27 % more requests per
     * second than two, at 11-23 % less CPU per request and no worse latency (docs/benchmarks.md). The loops never block:
     * authorization runs on a pool of its own. The tunnel handshake advertises this count, and agents open one
     * tunnel per loop (at most 8; {@code RelayAgent.Builder.tunnelConnections(int)}), so that each request goes
     * through the tunnel on its user connection's loop and never crosses loops.
     *
     * @param threads the thread count, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder ioThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("ioThreads must be at least 1 but was " + threads);
      }
      this.ioThreads = threads;
      return this;
    }

    /**
     * Where kubectl connects. Default: loopback, an ephemeral port.
     *
     * @param address the address; port 0 picks a free port
     * @return this builder
     * @throws NullPointerException if {@code address} is null
     */
    public Builder bindAddress(InetSocketAddress address) {
      this.bindAddress = Objects.requireNonNull(address, "bindAddress");
      return this;
    }

    /**
     * Where agents connect.
     *
     * @param address the address; port 0 picks a free port
     * @return this builder
     * @throws NullPointerException if {@code address} is null
     */
    public Builder tunnelBindAddress(InetSocketAddress address) {
      this.tunnelBindAddress = Objects.requireNonNull(address, "tunnelBindAddress");
      return this;
    }

    /**
     * The TLS key and certificate chain of both listeners. The last certificate of the chain is the trust anchor
     * put into kubeconfigs.
     *
     * @param key the private key
     * @param chain the certificate chain, leaf first
     * @return this builder
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the chain is empty
     */
    public Builder tls(PrivateKey key, X509Certificate... chain) {
      Objects.requireNonNull(chain, "chain");
      if (chain.length == 0) {
        throw new IllegalArgumentException("chain must hold at least the server certificate");
      }
      for (X509Certificate cert : chain) {
        Objects.requireNonNull(cert, "chain element");
      }
      this.key = Objects.requireNonNull(key, "key");
      this.chain = chain.clone();
      return this;
    }

    /**
     * The largest request head (request line and headers). Default 16 KiB; larger heads get 431.
     *
     * @param bytes the limit, 1 KiB to 1 MiB
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxHeaderSize(int bytes) {
      if (bytes < 1024 || bytes > 1024 * 1024) {
        throw new IllegalArgumentException("maxHeaderSize must be between 1024 and 1048576 but was " + bytes);
      }
      this.maxHeaderSize = bytes;
      return this;
    }

    /**
     * The largest request body. Default 3 MiB; larger bodies get 413.
     *
     * @param bytes the limit, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder maxBodySize(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxBodySize must be positive but was " + bytes);
      }
      this.maxBodySize = bytes;
      return this;
    }

    /**
     * How long a request head (and the TLS handshake) may take; slower connections are closed. Default 10 s.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder headerReadTimeout(Duration timeout) {
      this.headerReadTimeout = positive(timeout, "headerReadTimeout");
      return this;
    }

    /**
     * How long a connection or stream (a watch, an exec session) may carry no traffic either way before it is
     * closed. Default 30 min. This is not a body timeout: an active stream lives as long as it is active.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = positive(timeout, "idleTimeout");
      return this;
    }

    /**
     * The most requests one authenticated subject may have open at once, counted across all its connections and
     * both protocols; watches, {@code logs -f} and exec/attach/port-forward sessions count while they are open.
     * A request beyond the limit gets 429 with {@code Retry-After}; a slot is freed when its request ends, also
     * when the client resets it. Default {@value RelayServer#DEFAULT_MAX_CONCURRENT_REQUESTS_PER_SUBJECT}.
     *
     * @param limit the limit, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder maxConcurrentRequestsPerSubject(int limit) {
      if (limit <= 0) {
        throw new IllegalArgumentException("maxConcurrentRequestsPerSubject must be positive but was " + limit);
      }
      this.maxConcurrentRequestsPerSubject = limit;
      return this;
    }

    /** Tests: the HTTP/2 {@code SETTINGS_MAX_CONCURRENT_STREAMS} of user connections (default 250). */
    Builder maxConcurrentStreams(int streams) {
      if (streams <= 0) {
        throw new IllegalArgumentException("maxConcurrentStreams must be positive but was " + streams);
      }
      this.maxConcurrentStreams = streams;
      return this;
    }

    /**
     * How long a request may wait for its authorization (the identity provider and the policy, on a small pool
     * of threads that every user's first request shares) before the relay answers {@code 503} with {@code
     * Retry-After} and interrupts the call. A provider that hangs thus costs one pool thread at most (if it ignores
     * the interrupt) and never holds requests. Warm requests (a cached grant) never wait. Default {@link
     * RelayServer#DEFAULT_AUTHORIZATION_TIMEOUT}, 10 s.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder authorizationTimeout(Duration timeout) {
      this.authorizationTimeout = positive(timeout, "authorizationTimeout");
      return this;
    }

    /** Tests: the authorization pool's threads and queue (default 8 and 1024); a full queue answers 429. */
    Builder authorizationPool(int threads, int queueCapacity) {
      if (threads <= 0 || queueCapacity <= 0) {
        throw new IllegalArgumentException(
            "authorizationPool needs positive threads and queueCapacity but was " + threads + "/" + queueCapacity);
      }
      this.authorizationThreads = threads;
      this.authorizationQueue = queueCapacity;
      return this;
    }

    /**
     * The URL kubectl uses to reach the relay, for {@link RelayServer#kubeconfig}. Default
     * {@code https://<bind host or localhost>:<port>}.
     *
     * @param url an {@code https} URL without path
     * @return this builder
     * @throws IllegalArgumentException if it is not an https URL with a host and no path, query or fragment
     */
    public Builder externalUrl(URI url) {
      Objects.requireNonNull(url, "externalUrl");
      if (!"https".equals(url.getScheme())
          || url.getHost() == null
          || (url.getRawPath() != null && !url.getRawPath().isEmpty() && !url.getRawPath().equals("/"))
          || url.getRawQuery() != null
          || url.getRawFragment() != null) {
        throw new IllegalArgumentException("externalUrl must be https://host[:port] but was " + url);
      }
      this.externalUrl = URI.create("https://" + url.getRawAuthority());
      return this;
    }

    /**
     * The engine that authenticates, authorizes, signs grants, verifies agent credentials and records the
     * audit trail. Revocations in the engine are pushed to the connected agents, which close the subject's
     * open streams at once. Required.
     *
     * @param jitAccess the engine
     * @return this builder
     * @throws IllegalStateException if the engine was already set
     */
    public Builder jitAccess(JitAccess jitAccess) {
      if (accessEngine != null) {
        throw new IllegalStateException("jitAccess was already set");
      }
      this.jitAccess = Objects.requireNonNull(jitAccess, "jitAccess");
      this.accessEngine = new JitAccessEngine(jitAccess);
      return this;
    }

    /** Tests: an engine fake instead of {@link #jitAccess(JitAccess)}. */
    Builder accessEngine(AccessEngine engine) {
      this.accessEngine = Objects.requireNonNull(engine, "accessEngine");
      return this;
    }

    /** Tests and the merge: the registry of agent tunnels, instead of the built-in tunnel listener. */
    Builder tunnelRegistry(TunnelRegistry registry) {
      this.tunnelRegistry = Objects.requireNonNull(registry, "tunnelRegistry");
      return this;
    }

    /**
     * Builds the server (not started).
     *
     * @return the server
     * @throws IllegalStateException if TLS or the engine is missing
     */
    public RelayServer build() {
      if (key == null) {
        throw new IllegalStateException("tls(key, chain) must be set: the relay serves HTTPS only");
      }
      if (accessEngine == null) {
        throw new IllegalStateException("jitAccess(engine) must be set: the relay authorizes with it");
      }
      return new RelayServer(this);
    }

    private Builder copy() {
      Builder b = new Builder();
      b.bindAddress = bindAddress;
      b.tunnelBindAddress = tunnelBindAddress;
      b.key = key;
      b.chain = chain.clone();
      b.maxHeaderSize = maxHeaderSize;
      b.maxBodySize = maxBodySize;
      b.headerReadTimeout = headerReadTimeout;
      b.idleTimeout = idleTimeout;
      b.authorizationTimeout = authorizationTimeout;
      b.maxConcurrentRequestsPerSubject = maxConcurrentRequestsPerSubject;
      b.maxConcurrentStreams = maxConcurrentStreams;
      b.authorizationThreads = authorizationThreads;
      b.authorizationQueue = authorizationQueue;
      b.externalUrl = externalUrl;
      b.accessEngine = accessEngine;
      b.jitAccess = jitAccess;
      b.tunnelRegistry = tunnelRegistry;
      b.nativeTransport = nativeTransport;
      b.ioThreads = ioThreads;
      return b;
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive but was " + d);
      }
      return d;
    }
  }
}
