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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one tunnel from the agent to the relay up: dials (through the proxy if any), performs the handshake,
 * and after any failure or drop dials again after a capped exponential backoff with jitter. Nothing is
 * replayed: streams of a dropped tunnel fail, their forwarder responses are closed.
 *
 * <p>Thread-safe.
 */
public final class AgentConnector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentConnector.class);

  private final AgentSettings settings;
  private final AgentContext context;
  // One tunnel, one connection: all of its streams run on one event loop anyway (the default of 1 thread).
  private final EventLoopGroup group;
  private final Backoff backoff;
  private volatile boolean closed;
  private volatile @Nullable Channel tunnel;
  private volatile boolean connected;
  private boolean warnedUnauthorized;

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
    this.backoff =
        new Backoff(
            settings.backoffInitial(), settings.backoffMax(), () -> ThreadLocalRandom.current().nextDouble());
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

  /** Dials the relay now, and again whenever the tunnel is lost, until {@link #close()}. */
  public void start() {
    log.info("Agent uses {} to reach the relay {}", settings.transports().describe(), settings.relayHost());
    group.execute(this::connect);
  }

  /**
   * Whether the tunnel is established now.
   *
   * @return true after a {@code 101} until the connection drops
   */
  public boolean isConnected() {
    Channel current = tunnel;
    return connected && current != null && current.isActive();
  }

  private void connect() {
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
                            new AgentHandshakeHandler(settings, context, credential, status -> answered(ch, status)))
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

  private void answered(Channel channel, int status) {
    if (status == 101) {
      connected = true;
      warnedUnauthorized = false;
      backoff.reset();
      log.info("Tunnel to relay {}:{} established", settings.relayHost(), settings.relayPort());
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
      log.info("Tunnel to relay {} lost; reconnecting", settings.relayHost());
    }
    connected = false;
    if (closed) {
      return;
    }
    Duration delay = backoff.next();
    try {
      group.schedule(this::connect, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
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
   * The current tunnel connection or connection attempt.
   *
   * @return the channel, or null before the first attempt
   */
  public @Nullable Channel channel() {
    return tunnel;
  }

  /** Closes the tunnel and stops reconnecting. */
  @Override
  public void close() {
    closed = true;
    Channel current = tunnel;
    if (current != null) {
      current.close();
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
