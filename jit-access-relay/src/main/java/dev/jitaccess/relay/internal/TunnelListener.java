package dev.jitaccess.relay.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's TLS listener that agents dial out to. Each connection must open with {@code GET
 * /_jit/connect} ({@link TunnelProtocol}); once the agent credential is verified the connection turns into
 * an HTTP/2 tunnel (the relay as client) filed in {@link #registry()} under the verified cluster id.
 *
 * <p>The {@code 101} advertises the worker group's event loop count ({@link TunnelProtocol#SLOTS_HEADER}), and
 * agents open one tunnel per loop. Netty deals accepted connections to the loops round robin, so an agent's
 * tunnels, dialed back to back, usually land on distinct loops. <b>Known limitation:</b> not always: a user
 * connection or another agent's tunnel accepted in between shifts the rotation, and two tunnels of one cluster
 * may share a loop while another loop holds none. Both are kept (they still add capacity); requests accepted on
 * the loop without a tunnel then cross to another loop, as with a single tunnel, until that agent reconnects.
 *
 * <p>Lifecycle: construct, {@link #start}, {@link #close}. Thread-safe after start.
 */
public final class TunnelListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TunnelListener.class);

  /** Largest HTTP/1 header section of a connect request: the 16 KiB credential cap plus a little. */
  static final int MAX_CONNECT_HEADER_SIZE = 20 * 1024;

  private final DefaultTunnelRegistry registry = new DefaultTunnelRegistry();
  /** Every open agent connection, handshaking or tunnel, so close() ends them also on shared event loops. */
  private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
  private final HeartbeatSettings heartbeat;
  private final Duration handshakeTimeout;
  /** Groups this listener created and shuts down (none when it runs on its server's groups). */
  private @Nullable EventLoopGroup ownedBossGroup;
  private @Nullable EventLoopGroup ownedWorkerGroup;
  private @Nullable ThreadPoolExecutor verifier;
  private @Nullable Channel serverChannel;
  private volatile boolean closed;
  private boolean advertiseSlots = true;

  /** A listener with the default heartbeat (PING every 10 s, dead after 30 s) and a 10 s handshake limit. */
  public TunnelListener() {
    this(HeartbeatSettings.DEFAULT, Duration.ofSeconds(10));
  }

  /**
   * A listener with the given timings.
   *
   * @param heartbeat the tunnel heartbeat
   * @param handshakeTimeout how long an agent has from connecting until its tunnel is established
   */
  public TunnelListener(HeartbeatSettings heartbeat, Duration handshakeTimeout) {
    this.heartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
    if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
      throw new IllegalArgumentException("handshakeTimeout must be positive but was " + handshakeTimeout);
    }
    this.handshakeTimeout = handshakeTimeout;
  }

  /**
   * Tests: whether the {@code 101} advertises the event loop count (default true); false behaves like a relay
   * from before {@link TunnelProtocol#SLOTS_HEADER}. Call before {@code start}.
   *
   * @param advertise false to leave the header out
   * @return this listener
   */
  public synchronized TunnelListener advertiseSlots(boolean advertise) {
    this.advertiseSlots = advertise;
    return this;
  }

  /**
   * Binds the listener on event loops of its own (epoll and one loop per core where available, else NIO),
   * which {@link #close()} shuts down.
   *
   * @param bindAddress where to listen; port 0 picks a free port
   * @param sslContext the server TLS context (TLS 1.2/1.3)
   * @param engine verifies agent credentials and receives audit events
   * @return this listener
   * @throws IllegalStateException if it was already started
   * @throws dev.jitaccess.api.RelayException if the address cannot be bound
   */
  public synchronized TunnelListener start(
      InetSocketAddress bindAddress, SslContext sslContext, AccessEngine engine) {
    if (serverChannel != null || closed) {
      throw new IllegalStateException("the tunnel listener was already started");
    }
    Transports transports = Transports.select(true);
    ownedBossGroup = transports.newGroup(1, "jit-tunnel-boss");
    ownedWorkerGroup =
        transports.newGroup(
            Transports.defaultIoThreads(Runtime.getRuntime().availableProcessors()), "jit-tunnel-io");
    return start(bindAddress, sslContext, engine, transports, ownedBossGroup, ownedWorkerGroup);
  }

  /**
   * Binds the listener on the given event loops (shared with the relay's user side), which {@link #close()}
   * leaves running.
   *
   * @param bindAddress where to listen; port 0 picks a free port
   * @param sslContext the server TLS context (TLS 1.2/1.3)
   * @param engine verifies agent credentials and receives audit events
   * @param transports the transport the groups were made for
   * @param bossGroup accepts connections
   * @param workerGroup serves them
   * @return this listener
   * @throws IllegalStateException if it was already started
   * @throws dev.jitaccess.api.RelayException if the address cannot be bound
   */
  public synchronized TunnelListener start(
      InetSocketAddress bindAddress,
      SslContext sslContext,
      AccessEngine engine,
      Transports transports,
      EventLoopGroup bossGroup,
      EventLoopGroup workerGroup) {
    if (serverChannel != null || closed) {
      throw new IllegalStateException("the tunnel listener was already started");
    }
    Objects.requireNonNull(sslContext, "sslContext");
    Objects.requireNonNull(engine, "engine");
    verifier = newVerifierPool();
    ThreadPoolExecutor verifierPool = verifier;
    int slots = advertiseSlots ? loopCount(workerGroup) : 0;
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(bossGroup, workerGroup)
            .channel(transports.serverChannel())
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    connections.add(ch);
                    ch.closeFuture().addListener(f -> connections.remove(ch));
                    if (closed) {
                      ch.close();
                      return;
                    }
                    HttpDecoderConfig limits =
                        new HttpDecoderConfig()
                            .setMaxInitialLineLength(1024)
                            .setMaxHeaderSize(MAX_CONNECT_HEADER_SIZE)
                            .setMaxChunkSize(1024);
                    ch.pipeline()
                        .addLast("tls", sslContext.newHandler(ch.alloc()))
                        .addLast("flush", Flushes.consolidating())
                        .addLast("http1", new HttpServerCodec(limits))
                        .addLast(
                            "connect",
                            new TunnelConnectHandler(
                                engine, registry, verifierPool, heartbeat, handshakeTimeout, slots));
                  }
                });
    try {
      serverChannel = bootstrap.bind(bindAddress).syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      close();
      throw new dev.jitaccess.api.RelayException(
          "could not bind the tunnel listener to " + bindAddress + ": " + e.getMessage(), e);
    }
    log.info("Tunnel listener on {}", serverChannel.localAddress());
    return this;
  }

  private static int loopCount(EventLoopGroup group) {
    int count = 0;
    for (EventExecutor ignored : group) {
      count++;
    }
    return Math.max(1, count);
  }

  private static ThreadPoolExecutor newVerifierPool() {
    AtomicInteger count = new AtomicInteger();
    // Credential checks may block (key lookup): off the event loop, bounded so a connect flood is refused.
    return new ThreadPoolExecutor(
        1,
        4,
        30,
        TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(256),
        r -> {
          Thread t = new Thread(r, "jit-tunnel-verify-" + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * The registry of this listener's tunnels (the same instance before and after start).
   *
   * @return the registry
   */
  public DefaultTunnelRegistry registry() {
    return registry;
  }

  /**
   * The bound port.
   *
   * @return the port
   * @throws IllegalStateException if not started
   */
  public synchronized int port() {
    if (serverChannel == null) {
      throw new IllegalStateException("the tunnel listener is not started");
    }
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Stops listening and closes every tunnel; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (serverChannel != null) {
      serverChannel.close().syncUninterruptibly();
    }
    for (Channel connection : connections) {
      connection.close().awaitUninterruptibly();
    }
    if (ownedWorkerGroup != null) {
      ownedWorkerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (ownedBossGroup != null) {
      ownedBossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (verifier != null) {
      verifier.shutdownNow();
    }
  }
}
