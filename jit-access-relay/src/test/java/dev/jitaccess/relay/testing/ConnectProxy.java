package dev.jitaccess.relay.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A tiny HTTP CONNECT proxy on loopback for tests, on plain blocking sockets: it records each {@code CONNECT}
 * request's target and when it came, then either answers with a configured refusal status or dials the target
 * (or a configured {@linkplain #redirectTo substitute}), answers {@code 200} and pipes bytes both ways,
 * keeping a copy of everything it piped in each direction.
 *
 * <p>Thread-safe. {@link #close()} closes the listener and every connection.
 */
public final class ConnectProxy implements AutoCloseable {
  private static final int MAX_HEAD = 8 * 1024;

  private final ServerSocket server;
  private final ExecutorService threads;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final List<String> targets = new CopyOnWriteArrayList<>();
  private final List<Long> connectNanos = new CopyOnWriteArrayList<>();
  private final ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
  private final ByteArrayOutputStream toClient = new ByteArrayOutputStream();
  private volatile int refusal;
  private volatile @Nullable InetSocketAddress redirect;

  private ConnectProxy(ServerSocket server) {
    this.server = server;
    AtomicInteger count = new AtomicInteger();
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "test-connect-proxy-" + count.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Starts a proxy on an ephemeral port of 127.0.0.1 that tunnels every {@code CONNECT}.
   *
   * @return the running proxy
   */
  public static ConnectProxy start() {
    try {
      ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      ConnectProxy proxy = new ConnectProxy(server);
      proxy.threads.execute(proxy::acceptLoop);
      return proxy;
    } catch (IOException e) {
      throw new IllegalStateException("could not start the test proxy", e);
    }
  }

  /**
   * The port the proxy listens on.
   *
   * @return the port
   */
  public int port() {
    return server.getLocalPort();
  }

  /**
   * From now on answers every {@code CONNECT} with this status and closes, or tunnels again for 0.
   *
   * @param status e.g. 407 or 502; 0 to tunnel
   */
  public void refuseWith(int status) {
    this.refusal = status;
  }

  /**
   * From now on dials this address whatever the {@code CONNECT} asked for (a proxy that hands the tunnel to
   * an impostor).
   *
   * @param address the substitute target
   */
  public void redirectTo(InetSocketAddress address) {
    this.redirect = address;
  }

  /**
   * The {@code host:port} of each {@code CONNECT} request so far, in order.
   *
   * @return a snapshot
   */
  public List<String> connectTargets() {
    return List.copyOf(targets);
  }

  /**
   * When each {@code CONNECT} request arrived ({@link System#nanoTime()}), in order.
   *
   * @return a snapshot
   */
  public List<Long> connectTimes() {
    return List.copyOf(connectNanos);
  }

  /**
   * Every byte clients sent after their {@code CONNECT} heads (all connections together).
   *
   * @return a copy
   */
  public byte[] bytesFromClients() {
    synchronized (fromClient) {
      return fromClient.toByteArray();
    }
  }

  /**
   * Every byte the targets sent back through tunnels (all connections together).
   *
   * @return a copy
   */
  public byte[] bytesToClients() {
    synchronized (toClient) {
      return toClient.toByteArray();
    }
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        sockets.add(client);
        threads.execute(() -> serve(client));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket client) {
    try (client) {
      InputStream in = client.getInputStream();
      OutputStream out = client.getOutputStream();
      String head = readHead(in);
      String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ");
      if (requestLine.length != 3 || !requestLine[0].equals("CONNECT")) {
        answer(out, "405 Method Not Allowed");
        return;
      }
      String target = requestLine[1];
      connectNanos.add(System.nanoTime());
      targets.add(target);
      int status = refusal;
      if (status == 407) {
        answer(out, "407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"");
        return;
      } else if (status != 0) {
        answer(out, status + " Refused");
        return;
      }
      try (Socket upstream = dial(target)) {
        sockets.add(upstream);
        out.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        threads.execute(() -> pipe(upstream, client, toClient));
        pipe(client, upstream, fromClient);
      } finally {
        sockets.remove(client);
      }
    } catch (IOException | RuntimeException e) {
      // the peer went away or sent garbage: the connection just ends
    }
  }

  private Socket dial(String target) throws IOException {
    InetSocketAddress substitute = redirect;
    if (substitute != null) {
      return new Socket(substitute.getAddress(), substitute.getPort());
    }
    int colon = target.lastIndexOf(':');
    String host = target.substring(0, colon).replace("[", "").replace("]", "");
    int port = Integer.parseInt(target.substring(colon + 1));
    IOException last = new IOException("no address for " + host);
    for (InetAddress address : InetAddress.getAllByName(host)) {
      try {
        return new Socket(address, port);
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  private static void answer(OutputStream out, String statusAndHeaders) throws IOException {
    out.write(
        ("HTTP/1.1 " + statusAndHeaders + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Reads up to and including the blank line, byte by byte so nothing after it is consumed. */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0 || head.length() > MAX_HEAD) {
        throw new IOException("no complete CONNECT head");
      }
      head.append((char) b);
    }
    return head.toString();
  }

  private static void pipe(Socket from, Socket to, ByteArrayOutputStream copy) {
    byte[] buffer = new byte[16 * 1024];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        synchronized (copy) {
          copy.write(buffer, 0, n);
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side closed
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
    threads.shutdownNow();
  }
}
