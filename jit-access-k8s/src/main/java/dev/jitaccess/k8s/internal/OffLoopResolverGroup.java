package dev.jitaccess.k8s.internal;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * Resolves the server's host name for a connection on a caller's event loop without blocking that loop: an IP
 * address is parsed in place (no lookup, no other thread), a name is looked up with the JDK's resolver (as
 * Netty's default resolver does, but there on the connection's own loop) on one of the forwarder's own threads,
 * and the connect goes on on the connection's loop once the address is known.
 *
 * <p>Thread-safe.
 */
final class OffLoopResolverGroup extends AddressResolverGroup<InetSocketAddress> {
  private final EventExecutorGroup lookups;

  /**
   * @param lookups where blocking look-ups run: the forwarder's own event loops
   */
  OffLoopResolverGroup(EventExecutorGroup lookups) {
    this.lookups = lookups;
  }

  @Override
  protected AddressResolver<InetSocketAddress> newResolver(EventExecutor loop) {
    return new OffLoopNameResolver(loop, lookups).asAddressResolver();
  }

  /** A blocking look-up. */
  @FunctionalInterface
  private interface Lookup<T> {
    T run() throws UnknownHostException;
  }

  private static final class OffLoopNameResolver extends InetNameResolver {
    private final EventExecutorGroup lookups;

    OffLoopNameResolver(EventExecutor loop, EventExecutorGroup lookups) {
      super(loop);
      this.lookups = lookups;
    }

    @Override
    protected void doResolve(String host, Promise<InetAddress> promise) {
      InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
      if (literal != null) {
        promise.setSuccess(literal);
      } else {
        offLoop(promise, () -> InetAddress.getByName(host));
      }
    }

    @Override
    protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
      InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
      if (literal != null) {
        promise.setSuccess(List.of(literal));
      } else {
        offLoop(promise, () -> Arrays.asList(InetAddress.getAllByName(host)));
      }
    }

    private <T> void offLoop(Promise<T> promise, Lookup<T> lookup) {
      try {
        lookups.execute(
            () -> {
              try {
                promise.trySuccess(lookup.run());
              } catch (UnknownHostException | RuntimeException e) {
                promise.tryFailure(e);
              }
            });
      } catch (RejectedExecutionException e) { // the forwarder is closing
        promise.tryFailure(e);
      }
    }
  }
}
