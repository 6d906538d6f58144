package dev.jitaccess.relay.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.function.Supplier;

/**
 * The one place that picks the relay's I/O transport and TLS implementation: epoll and OpenSSL (Netty's
 * BoringSSL build) when their native libraries are on the class path and load, else NIO and the JDK's TLS.
 * Every event loop group, channel class and {@code SslContext} of the relay and the agent comes from here.
 *
 * <p>Immutable and thread-safe.
 *
 * @param epoll true for epoll, false for NIO
 * @param openSsl true for {@link SslProvider#OPENSSL}, false for {@link SslProvider#JDK}
 */
public record Transports(boolean epoll, boolean openSsl) {

  /** NIO and the JDK's TLS: available everywhere. */
  public static final Transports JDK = new Transports(false, false);

  /**
   * The relay's default event-loop count: half the available processors, at least one. The relay runs inside a
   * host application and its loops do little work per request (TLS, HTTP/2 framing, a cache lookup), so a
   * loop per processor mostly adds wake-ups: on two processors shared with the agent, the stub and the client,
   * one loop served 8-27 % more requests per second than two, at 11-23 % less CPU per request and no worse
   * latency (docs/benchmarks.md).
   *
   * @param processors the available processors
   * @return the default loop count
   */
  public static int defaultIoThreads(int processors) {
    return Math.max(1, processors / 2);
  }

  /**
   * The transports to use.
   *
   * @param nativeTransport true to use epoll and OpenSSL where their native libraries load (each falls back on
   *     its own), false for NIO and the JDK's TLS
   * @return the choice
   */
  public static Transports select(boolean nativeTransport) {
    if (!nativeTransport) {
      return JDK;
    }
    return new Transports(epollAvailable(), openSslAvailable());
  }

  /**
   * Whether epoll's native library loads on this machine.
   *
   * @return true if epoll can be used
   */
  public static boolean epollAvailable() {
    try {
      return Epoll.isAvailable();
    } catch (LinkageError e) {
      return false; // the classes jar was excluded by the host application
    }
  }

  /**
   * Whether Netty's OpenSSL (BoringSSL) native library loads on this machine.
   *
   * @return true if OpenSSL can be used
   */
  public static boolean openSslAvailable() {
    try {
      return OpenSsl.isAvailable();
    } catch (LinkageError e) {
      return false;
    }
  }

  /**
   * Why the native pieces are not used, for logs and skipped tests.
   *
   * @return the causes Netty reports, or "available"
   */
  public static String nativeUnavailabilityCause() {
    StringBuilder why = new StringBuilder();
    if (!epollAvailable()) {
      why.append("epoll: ").append(cause(Epoll::unavailabilityCause));
    }
    if (!openSslAvailable()) {
      if (why.length() > 0) {
        why.append("; ");
      }
      why.append("OpenSSL: ").append(cause(OpenSsl::unavailabilityCause));
    }
    return why.length() == 0 ? "available" : why.toString();
  }

  private static String cause(Supplier<Throwable> netty) {
    try {
      Throwable t = netty.get();
      return t == null ? "unknown" : t.toString();
    } catch (LinkageError e) {
      return "Netty's classes for it are not on the class path (" + e + ")";
    }
  }

  /**
   * The TLS implementation for every {@code SslContext}.
   *
   * @return {@link SslProvider#OPENSSL} or {@link SslProvider#JDK}
   */
  public SslProvider sslProvider() {
    return openSsl ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  /**
   * The factory of the event loops' I/O handlers.
   *
   * @return epoll's or NIO's
   */
  public IoHandlerFactory ioHandlerFactory() {
    return epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
  }

  /**
   * A new event loop group of this transport.
   *
   * @param threads how many loop threads, at least 1
   * @param threadNamePrefix the threads' names before {@code -<n>}
   * @return the group; the caller shuts it down
   */
  public EventLoopGroup newGroup(int threads, String threadNamePrefix) {
    if (threads < 1) {
      throw new IllegalArgumentException("an event loop group needs at least 1 thread but was given " + threads);
    }
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadNamePrefix), ioHandlerFactory());
  }

  /**
   * The listening channel class.
   *
   * @return epoll's or NIO's
   */
  public Class<? extends ServerChannel> serverChannel() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /**
   * The connecting channel class.
   *
   * @return epoll's or NIO's
   */
  public Class<? extends SocketChannel> socketChannel() {
    return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  /**
   * For the log: the transport and TLS implementation.
   *
   * @return e.g. {@code "epoll, TLS by OpenSSL (BoringSSL)"}
   */
  public String describe() {
    String tls = openSsl ? "TLS by " + OpenSsl.versionString() : "TLS by the JDK";
    return (epoll ? "epoll" : "NIO") + ", " + tls;
  }
}
