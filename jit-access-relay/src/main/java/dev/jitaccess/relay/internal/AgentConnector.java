package dev.jitaccess.relay.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the agent's tunnels to the relay up. The first connection dials (through the proxy if any) and performs
 * the handshake; the relay's {@code 101} tells how many event loops it has ({@link TunnelProtocol#SLOTS_HEADER}),
 * and the connector then opens as many connections in all ({@link AgentSettings#tunnelConnections()} overrides
 * this), so that each relay loop holds one of them and user requests never cross loops in the relay. Each
 * connection dials again after any failure or drop, after its own capped exponential backoff with jitter. All
 * connections run on the agent's event loops and share one {@link AgentContext}: grants, accounts, tombstones
 * and open streams are agent-wide. Nothing is replayed: streams of a dropped tunnel fail, their forwarder
 * responses are closed.
 *
 * <p>Thread-safe.
 */
public final class AgentConnector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentConnector.class);
  /** How long {@link #close()} waits for each tunnel connection to end before it stops the event loops. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

  private final AgentSettings settings;
  private final AgentContext context;
  // All connections share these loops; a connection's streams all run on its one loop (the default of 1 thread).
  private final EventLoopGroup group;
  private final List<Connection> connections = new CopyOnWriteArrayList<>();
  /** Set once the connection count has been decided (after the first {@code 101}). */
  private final AtomicBoolean sized = new AtomicBoolean();
  private volatile boolean closed;
  private volatile boolean warnedUnauthorized;

  /**
   * Creates a connector; nothing happens before {@link #start()}.
   *
   * @param settings the validated settings
   */
  public AgentConnector(AgentSettings settings) {
    this.settings = settings;
    this.group = settings.transports().newGroup(settings.ioThreads(), "jit-agent-io");
    this.context =
        new AgentContext(
            settings.grantCheck(),
            new AgentAccounts(settings.provisioner(), settings.clock()),
            settings.forwarder(),
            new AgentGrants(settings.clock(), settings.tombstoneRetention(), settings.revocationStore()),
            settings.executor(),
            settings.clock());
  }

  /**
   * Loads the durable revocation tombstones into memory; call before {@link #start()}. Blocks on the store.
   *
   * @return how many tombstones were loaded
   * @throws dev.jitaccess.api.JitAccessException if the store failed
   */
  public int loadRevocations() {
    return context.grants().load();
  }

  /** Dials the relay now, and again whenever a tunnel is lost, until {@link #close()}. */
  public void start() {
    log.info("Agent uses {} to reach the relay {}", settings.transports().describe(), settings.relayHost());
    addConnection();
  }

  private void addConnection() {
    Connection connection = new Connection(connections.size() + 1);
    connections.add(connection);
    try {
      group.execute(connection::connect);
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  /**
   * Whether at least one tunnel is established now.
   *
   * @return true while at least one tunnel is up (after its {@code 101}, until it drops)
   */
  public boolean isConnected() {
    for (Connection connection : connections) {
      if (connection.isConnected()) {
        return true;
      }
    }
    return false;
  }

  /**
   * How many tunnels are established now.
   *
   * @return the count, 0 to the number of connections
   */
  public int connectedCount() {
    int count = 0;
    for (Connection connection : connections) {
      if (connection.isConnected()) {
        count++;
      }
    }
    return count;
  }

  /**
   * How many tunnel connections the agent maintains (established or dialing).
   *
   * @return 1 until the relay's first answer, then the decided count
   */
  public int connectionCount() {
    return connections.size();
  }

  /** After the first {@code 101}: decides how many connections to hold and starts the others. */
  private void established(int advertised) {
    if (!sized.compareAndSet(false, true)) {
      return;
    }
    int wanted = settings.tunnelConnections();
    int target =
        wanted > 0 ? wanted : Math.min(Math.max(advertised, 1), TunnelProtocol.MAX_TUNNEL_CONNECTIONS);
    String why;
    if (wanted > 0) {
      why = "as configured";
    } else if (advertised > 0) {
      why = "the relay has " + advertised + " event loop(s)";
    } else {
      why = "the relay does not advertise its event loops";
    }
    log.info(
        "Agent holds {} tunnel connection(s) to relay {}:{} ({})", target, settings.relayHost(), settings.relayPort(), why);
    for (int i = 1; i < target && !closed; i++) {
      addConnection();
    }
  }

  /**
   * The transport and TLS implementation this connector uses.
   *
   * @return the settings' choice
   */
  public Transports transports() {
    return settings.transports();
  }

  /**
   * The first tunnel connection or its current attempt.
   *
   * @return the channel, or null before the first attempt
   */
  public @Nullable Channel channel() {
    return connections.isEmpty() ? null : connections.get(0).tunnel;
  }

  /**
   * Every tunnel connection or current attempt, in the order they were added.
   *
   * @return a snapshot; a connection that has not dialed yet is left out
   */
  public List<Channel> channels() {
    List<Channel> channels = new ArrayList<>(connections.size());
    for (Connection connection : connections) {
      Channel tunnel = connection.tunnel;
      if (tunnel != null) {
        channels.add(tunnel);
      }
    }
    return channels;
  }

  /**
   * Closes every tunnel and stops reconnecting. Each tunnel sends GOAWAY and ends its connection at once (the
   * server codec does not wait for open streams), so the relay fails the requests still in flight and routes no
   * new one here. The closes run on the tunnels' event loops and are awaited before the loops stop: stopping
   * them first raced with the close and could leave a connection open with nobody reading it.
   */
  @Override
  public void close() {
    closed = true;
    List<ChannelFuture> closing = new ArrayList<>();
    for (Connection connection : connections) {
      Channel current = connection.tunnel;
      if (current != null) {
        closing.add(current.close());
      }
    }
    for (ChannelFuture future : closing) {
      future.awaitUninterruptibly(CLOSE_WAIT.toMillis());
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /**
   * The proxy's address resolved now (each attempt, so a changed address is picked up), or null if there is
   * no proxy or its name does not resolve. The connector's resolver is a no-op with a proxy (the relay's name
   * goes unresolved in the {@code CONNECT}), so the proxy's own address must be resolved here.
   */
  private @Nullable InetSocketAddress resolvedProxy() {
    InetSocketAddress configured = settings.proxy();
    if (configured == null) {
      return null;
    }
    InetSocketAddress resolved = new InetSocketAddress(configured.getHostString(), configured.getPort());
    if (resolved.isUnresolved()) {
      log.debug("Could not resolve the proxy {}; retrying with backoff", configured.getHostString());
      return null;
    }
    return resolved;
  }

  /** One tunnel connection: its current channel, whether it is established, and its own reconnect backoff. */
  private final class Connection {
    private final int number;
    private final Backoff backoff;
    private volatile @Nullable Channel tunnel;
    private volatile boolean connected;

    Connection(int number) {
      this.number = number;
      this.backoff =
          new Backoff(
              settings.backoffInitial(), settings.backoffMax(), () -> ThreadLocalRandom.current().nextDouble());
    }

    boolean isConnected() {
      Channel current = tunnel;
      return connected && current != null && current.isActive();
    }

    void connect() {
      if (closed) {
        return;
      }
      String credential = settings.credential().get();
      InetSocketAddress proxy = resolvedProxy();
      if (settings.proxy() != null && proxy == null) {
        attemptEnded(new AtomicBoolean());
        return;
      }
      Bootstrap bootstrap =
          new Bootstrap()
              .group(group)
              .channel(settings.transports().socketChannel())
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      if (proxy != null) {
                        ch.pipeline().addLast("proxy", new HttpProxyHandler(proxy));
                      }
                      ch.pipeline()
                          .addLast(
                              "tls",
                              settings.sslContext().newHandler(ch.alloc(), settings.relayHost(), settings.relayPort()))
                          .addLast("flush", Flushes.consolidating())
                          .addLast("http1", new HttpClientCodec(new HttpDecoderConfig(), false, false))
                          .addLast(
                              "handshake",
                              new AgentHandshakeHandler(
                                  settings, context, credential, (status, slots) -> answered(ch, status, slots)))
                          .addLast("errors", new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                              log.debug("Tunnel to {} failed: {}", settings.relayHost(), cause.toString());
                              ctx.close();
                            }
                          });
                    }
                  });
      InetSocketAddress target;
      if (proxy != null) {
        // The proxy resolves the relay's name; CONNECT carries it unresolved.
        bootstrap.resolver(NoopAddressResolverGroup.INSTANCE);
        target = InetSocketAddress.createUnresolved(settings.relayHost(), settings.relayPort());
      } else {
        target = new InetSocketAddress(settings.relayHost(), settings.relayPort());
      }
      AtomicBoolean ended = new AtomicBoolean();
      ChannelFuture future = bootstrap.connect(target);
      tunnel = future.channel();
      future.addListener(
          f -> {
            if (!f.isSuccess()) {
              log.debug("Could not reach the relay {}: {}", settings.relayHost(), f.cause().toString());
              attemptEnded(ended);
            }
          });
      future.channel().closeFuture().addListener(f -> attemptEnded(ended));
    }

    private void answered(Channel channel, int status, int slots) {
      if (status == 101) {
        connected = true;
        warnedUnauthorized = false;
        backoff.reset();
        log.info(
            "Tunnel {} to relay {}:{} established", number, settings.relayHost(), settings.relayPort());
        established(slots);
      } else if (status == 401 && !warnedUnauthorized) {
        warnedUnauthorized = true;
        log.warn("The relay {} refused the agent credential (401); retrying with backoff", settings.relayHost());
      } else {
        log.debug("The relay {} answered {} to the tunnel request on {}", settings.relayHost(), status, channel.id());
      }
    }

    private void attemptEnded(AtomicBoolean ended) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      if (connected) {
        log.info("Tunnel {} to relay {} lost; reconnecting", number, settings.relayHost());
      }
      connected = false;
      if (closed) {
        return;
      }
      Duration delay = backoff.next();
      try {
        group.schedule(this::connect, delay.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // shutting down
      }
    }
  }
}
