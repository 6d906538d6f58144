package dev.jitaccess.k8s.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.SslHandler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/2 connections to one kube-apiserver. A caller {@linkplain #acquire() acquires} a stream slot on a
 * connection whose server SETTINGS arrived and that has fewer streams than the server's
 * MAX_CONCURRENT_STREAMS; when none has, one more connection is opened (one connect at a time; callers wait for
 * it without a thread). Connections are dropped on GOAWAY (their streams finish) and closed after {@link
 * #IDLE_NANOS} without streams.
 *
 * <p>The forwarder keeps one pool on its own event loops and one per caller's event loop (whose bootstrap is
 * bound to that loop); they share what they learn about the server's protocol.
 *
 * <p>Thread-safe: state is guarded by one lock, held only briefly; futures are completed outside it. Nothing
 * here blocks: it may run on a caller's event loop.
 */
final class Http2Pool {
  /** How long a connection without streams stays open. */
  static final long IDLE_NANOS = TimeUnit.MINUTES.toNanos(5);

  private final Bootstrap bootstrap;
  private final Function<Channel, SslHandler> tls;
  private final Supplier<Http2FrameCodec> codecs;
  private final Object lock = new Object();
  private final List<Http2Connection> connections = new ArrayList<>();
  /** Every connection that became ready and did not close yet, going away or not. */
  private final java.util.Set<Http2Connection> live = new java.util.HashSet<>();
  private final ArrayDeque<CompletableFuture<Http2Connection>> waiters = new ArrayDeque<>();
  private final AtomicReference<@Nullable NotHttp2Exception> notHttp2;
  private @Nullable Http2Connection connecting;
  private @Nullable Supplier<Throwable> closedBy;

  /**
   * @param bootstrap group, channel type and options, with the remote address set
   * @param tls makes the TLS handler of a new connection
   * @param codecs makes the HTTP/2 codec of a new connection
   * @param notHttp2 what a connection learnt when the server negotiated anything but {@code h2}; shared by the
   *     pools of one forwarder
   */
  Http2Pool(
      Bootstrap bootstrap,
      Function<Channel, SslHandler> tls,
      Supplier<Http2FrameCodec> codecs,
      AtomicReference<@Nullable NotHttp2Exception> notHttp2) {
    this.bootstrap = bootstrap;
    this.tls = tls;
    this.codecs = codecs;
    this.notHttp2 = notHttp2;
  }

  /** Whether the server may speak HTTP/2: false once a connection negotiated anything else. */
  boolean usable() {
    return notHttp2.get() == null;
  }

  /** Whether this pool's connections live on {@code group}'s loops. */
  boolean isOn(io.netty.channel.EventLoopGroup group) {
    return bootstrap.config().group() == group;
  }

  /** How many connections carry or may carry streams (not counting one being opened). */
  int connections() {
    synchronized (lock) {
      return connections.size();
    }
  }

  /**
   * A connection with one stream slot reserved for the caller, who must {@linkplain #release release} it
   * when the stream closes (or could not be opened). Fails with {@link NotHttp2Exception}, {@link
   * IllegalStateException} (closed) or the cause of a failed connect.
   */
  CompletableFuture<Http2Connection> acquire() {
    CompletableFuture<Http2Connection> waiter = new CompletableFuture<>();
    boolean connect = false;
    synchronized (lock) {
      Supplier<Throwable> refusal = closedBy;
      if (refusal != null) {
        return CompletableFuture.failedFuture(refusal.get());
      }
      NotHttp2Exception learnt = notHttp2.get();
      if (learnt != null) {
        return CompletableFuture.failedFuture(learnt);
      }
      for (Http2Connection c : connections) {
        if (c.hasCapacity()) {
          c.reserved++;
          return CompletableFuture.completedFuture(c);
        }
      }
      waiters.add(waiter);
      if (connecting == null) {
        connecting = new Http2Connection(this, codecs);
        connect = true;
      }
    }
    if (connect) {
      connect();
    }
    return waiter;
  }

  /** Gives back the slot of a stream that closed. */
  void release(Http2Connection c) {
    Map<CompletableFuture<Http2Connection>, Http2Connection> served;
    boolean closeIt = false;
    boolean idle = false;
    synchronized (lock) {
      c.reserved--;
      served = serveLocked(c);
      if (c.reserved == 0) {
        c.idleSince = System.nanoTime();
        closeIt = c.goingAway || closedBy != null;
        idle = !closeIt;
      }
    }
    complete(served);
    if (closeIt) {
      c.channel().close();
    } else if (idle) {
      scheduleIdleCheck(c);
    }
  }

  private void scheduleIdleCheck(Http2Connection c) {
    Channel channel = c.channel();
    if (!channel.isActive()) {
      return;
    }
    try {
      channel.eventLoop().schedule(() -> closeIfIdle(c), IDLE_NANOS, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      channel.close(); // the forwarder is shutting down
    }
  }

  /**
   * Closes all connections and fails the callers that wait, and later ones, with an exception of {@code
   * reason}: an {@link IllegalStateException} when the forwarder closes (it passes to the caller as it is),
   * anything else when the pool's event loop is shut down (the caller gets a RelayException). Idempotent: the
   * first reason stays. Never blocks; may run on any thread.
   *
   * @return the close futures of the connections it closed
   */
  List<ChannelFuture> close(Supplier<Throwable> reason) {
    List<Http2Connection> open;
    List<CompletableFuture<Http2Connection>> failed;
    Http2Connection pending;
    synchronized (lock) {
      if (closedBy == null) {
        closedBy = reason;
      }
      open = new ArrayList<>(live);
      connections.clear();
      failed = new ArrayList<>(waiters);
      waiters.clear();
      pending = connecting;
      connecting = null;
    }
    failed.forEach(w -> w.completeExceptionally(reason.get()));
    List<ChannelFuture> closing = new ArrayList<>();
    open.forEach(c -> closing.add(c.channel().close()));
    if (pending != null) {
      try {
        closing.add(pending.channel().close());
      } catch (IllegalStateException notYetConnected) {
        // the connect below fails on the closed group
      }
    }
    return closing;
  }

  /**
   * The pool's event loop terminated: fails waiting and later callers with an exception of {@code reason}, and
   * closes the sockets and fails the streams that the loop left open (see {@link Http2Connection#abandon()}).
   * Call only after the loop terminated.
   */
  void loopTerminated(Supplier<Throwable> reason) {
    List<Http2Connection> all;
    synchronized (lock) {
      all = new ArrayList<>(live);
      live.clear();
      if (connecting != null) {
        all.add(connecting);
      }
    }
    close(reason);
    all.forEach(Http2Connection::abandon);
  }

  // Events from the connections.

  void ready(Http2Connection c) {
    @Nullable Map<CompletableFuture<Http2Connection>, Http2Connection> served;
    boolean another;
    boolean idle;
    synchronized (lock) {
      if (connecting != c) { // closed meanwhile
        served = null;
        another = false;
        idle = false;
      } else {
        connecting = null;
        connections.add(c);
        live.add(c);
        c.idleSince = System.nanoTime();
        served = serveLocked(c);
        another = !waiters.isEmpty() && closedBy == null;
        if (another) {
          connecting = new Http2Connection(this, codecs);
        }
        idle = c.reserved == 0;
      }
    }
    if (served == null) {
      c.channel().close();
      return;
    }
    complete(served);
    if (idle) {
      scheduleIdleCheck(c);
    }
    if (another) {
      connect();
    }
  }

  void capacityChanged(Http2Connection c) {
    Map<CompletableFuture<Http2Connection>, Http2Connection> served;
    synchronized (lock) {
      served = serveLocked(c);
    }
    complete(served);
  }

  void goingAway(Http2Connection c) {
    boolean closeIt;
    synchronized (lock) {
      c.goingAway = true;
      connections.remove(c);
      closeIt = c.reserved == 0;
    }
    if (closeIt) {
      c.channel().close();
    }
  }

  void lost(Http2Connection c) {
    synchronized (lock) {
      c.goingAway = true;
      connections.remove(c);
      live.remove(c);
    }
  }

  void connectFailed(Http2Connection c, Throwable cause) {
    failWaiters(c, cause, false);
  }

  void notHttp2(Http2Connection c, NotHttp2Exception cause) {
    failWaiters(c, cause, true);
  }

  private void failWaiters(Http2Connection c, Throwable cause, boolean remember) {
    List<CompletableFuture<Http2Connection>> failed;
    synchronized (lock) {
      if (connecting != c) {
        return;
      }
      connecting = null;
      if (remember) {
        notHttp2.compareAndSet(null, (NotHttp2Exception) cause);
      }
      failed = new ArrayList<>(waiters);
      waiters.clear();
    }
    failed.forEach(w -> w.completeExceptionally(cause));
  }

  private void connect() {
    Http2Connection c;
    synchronized (lock) {
      c = connecting;
    }
    if (c == null) {
      return;
    }
    Http2Connection connection = c;
    ChannelFuture future;
    try {
      future =
          bootstrap
              .clone()
              .handler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline().addLast("tls", tls.apply(ch)).addLast("connection", connection);
                    }
                  })
              .connect();
    } catch (RuntimeException e) { // the group was shut down
      connectFailed(connection, e);
      return;
    }
    future.addListener(
        (ChannelFuture f) -> {
          if (!f.isSuccess()) {
            connectFailed(connection, f.cause());
          }
        });
  }

  private void closeIfIdle(Http2Connection c) {
    boolean closeIt;
    synchronized (lock) {
      closeIt = c.reserved == 0 && System.nanoTime() - c.idleSince >= IDLE_NANOS;
      if (closeIt) {
        c.goingAway = true;
        connections.remove(c);
      }
    }
    if (closeIt) {
      c.channel().close();
    }
  }

  /** Hands free slots of {@code c} to waiting callers; under the lock. */
  private Map<CompletableFuture<Http2Connection>, Http2Connection> serveLocked(Http2Connection c) {
    if (waiters.isEmpty() || !c.hasCapacity() || closedBy != null) {
      return Map.of();
    }
    Map<CompletableFuture<Http2Connection>, Http2Connection> served = new java.util.LinkedHashMap<>();
    while (!waiters.isEmpty() && c.hasCapacity()) {
      c.reserved++;
      served.put(waiters.poll(), c);
    }
    return served;
  }

  private void complete(Map<CompletableFuture<Http2Connection>, Http2Connection> served) {
    served.forEach(
        (waiter, c) -> {
          if (!waiter.complete(c)) {
            release(c);
          }
        });
  }
}
