package dev.jitaccess.k8s.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandle;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.nio.channels.ClosedChannelException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 pools on callers' event loops: a request sent from a thread of a Netty event loop (Netty 4.2's
 * {@link IoEventLoop}, not one of the forwarder's own) whose transport is NIO, or epoll with its native library
 * loaded, goes over a connection bound to that loop, from a pool of its own created on first use; its head and
 * body signals then arrive on the caller's loop without a thread hand-off. Any other thread, and a loop of
 * another transport, gets the forwarder's own pool.
 *
 * <p>Such a loop is borrowed: nothing here shuts it down or blocks on it (host names are looked up off it, see
 * {@link OffLoopResolverGroup}). A loop that is shutting down gets no new stream; once it terminated, its pool is
 * dropped and what the loop left open is closed (see {@link Http2Pool#loopTerminated}).
 *
 * <p>Thread-safe.
 */
final class CallerLoopPools {
  private static final Logger log = LoggerFactory.getLogger(CallerLoopPools.class);
  private static final Supplier<Throwable> LOOP_SHUT_DOWN = ClosedChannelException::new;

  private final Http2Pool own;
  private final Bootstrap template;
  private final Function<Bootstrap, Http2Pool> poolOf;
  private final OffLoopResolverGroup resolvers;
  /** A pool per caller's loop; {@link #own} for a loop whose transport cannot host our socket. */
  private final Map<EventLoop, Http2Pool> pools = new ConcurrentHashMap<>();
  private volatile @Nullable Supplier<Throwable> closedBy;

  /**
   * @param own the pool on the forwarder's own loops
   * @param template options and remote address, without channel type
   * @param poolOf makes a pool from a bootstrap bound to a loop
   * @param resolvers resolves host names off the callers' loops; closed by {@link #close}
   */
  CallerLoopPools(
      Http2Pool own, Bootstrap template, Function<Bootstrap, Http2Pool> poolOf, OffLoopResolverGroup resolvers) {
    this.own = own;
    this.template = template;
    this.poolOf = poolOf;
    this.resolvers = resolvers;
  }

  /** The pool for a request sent now from the calling thread. */
  Http2Pool forThisThread() {
    EventExecutor current = ThreadExecutorMap.currentExecutor();
    if (!(current instanceof IoEventLoop loop) || own.isOn(loop.parent()) || !loop.inEventLoop()) {
      return own;
    }
    Http2Pool mine = pools.get(loop);
    if (mine != null) {
      if (loop.isShuttingDown()) { // no new stream there; its pool closes for good once the loop terminated
        pools.remove(loop, mine);
        return own;
      }
      return mine;
    }
    if (loop.isShuttingDown()) {
      return own;
    }
    Http2Pool created = newPool(loop);
    mine = pools.putIfAbsent(loop, created);
    if (mine != null) {
      return mine;
    }
    loop.terminationFuture()
        .addListener(
            f -> {
              pools.remove(loop, created);
              if (created != own) {
                created.loopTerminated(LOOP_SHUT_DOWN);
              }
            });
    Supplier<Throwable> reason = closedBy;
    if (reason != null) { // close() may have missed it
      created.close(reason);
    }
    return created;
  }

  /** A pool bound to {@code loop}, or the own pool if its transport cannot host our socket. */
  private Http2Pool newPool(IoEventLoop loop) {
    try {
      Class<? extends Channel> type = socketTypeFor(loop);
      if (type == null) {
        log.debug(
            "HTTP/2 requests from event loop {} use the forwarder's own threads: its transport is neither NIO nor"
                + " epoll",
            loop);
        return own;
      }
      return poolOf.apply(template.clone(loop).channel(type).resolver(resolvers));
    } catch (RuntimeException e) { // never fail a request for an optimisation
      log.warn("HTTP/2 requests from event loop {} use the forwarder's own threads: {}", loop, e.toString());
      return own;
    }
  }

  private static @Nullable Class<? extends Channel> socketTypeFor(IoEventLoop loop) {
    if (loop.isCompatible(NioIoHandle.class)) {
      return NioSocketChannel.class;
    }
    try {
      if (Epoll.isAvailable() && loop.isCompatible(EpollIoHandle.class)) {
        return EpollSocketChannel.class;
      }
    } catch (LinkageError e) { // epoll's classes left out of the class path
      log.debug("No epoll for HTTP/2 connections: {}", e.toString());
    }
    return null;
  }

  /** The open connections of {@code loop}'s own pool; -1 if it has none. */
  int connections(EventLoop loop) {
    Http2Pool p = pools.get(loop);
    return p == null || p == own ? -1 : p.connections();
  }

  /**
   * Closes the connections of every pool on a caller's loop (never the loop itself) and fails later callers
   * with an exception of {@code reason}. Never blocks. Idempotent.
   */
  void close(Supplier<Throwable> reason) {
    closedBy = reason;
    for (Http2Pool p : pools.values()) {
      if (p != own) {
        p.close(reason);
      }
    }
    pools.clear();
    resolvers.close();
  }
}
