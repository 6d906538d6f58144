package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.UpgradedConnection;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.net.SocketFactory;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * Forwards upgrade requests (exec, attach, port-forward) on a socket of its own: OkHttp 4 cannot hand
 * over the connection after an arbitrary {@code 101}. It uses the {@code ApiClient}'s socket factory, TLS
 * socket factory (trust and client certificates), hostname verifier and timeouts, and offers only
 * {@code http/1.1} in ALPN. HTTP proxies and certificate pinning of the {@code ApiClient} are not applied
 * on this path.
 */
public final class UpgradeForwarder {
  private final ApiEndpoint endpoint;
  private final SocketFactory socketFactory;
  private final @Nullable SSLSocketFactory sslSocketFactory;
  private final HostnameVerifier hostnameVerifier;
  private final int connectTimeoutMillis;
  private final int readTimeoutMillis;

  /** Takes socket factories, hostname verifier and timeouts from the {@code ApiClient}'s client. */
  public UpgradeForwarder(OkHttpClient client, ApiEndpoint endpoint) {
    this.endpoint = endpoint;
    this.socketFactory = client.socketFactory();
    this.sslSocketFactory = endpoint.https() ? client.sslSocketFactory() : null;
    this.hostnameVerifier = client.hostnameVerifier();
    this.connectTimeoutMillis = client.connectTimeoutMillis();
    this.readTimeoutMillis = client.readTimeoutMillis();
  }

  /**
   * Sends a checked upgrade request on a new socket.
   *
   * @throws RelayException if the connection failed, the answer was malformed, or the server switched to
   *     another protocol; the socket is then closed
   */
  public ForwardResponse forward(GuardedRequest request, String bearerToken) {
    String upgrade = Objects.requireNonNull(request.upgrade(), "upgrade");
    Socket socket = null;
    try {
      socket = connect();
      OutputStream out = socket.getOutputStream();
      out.write(requestHead(request, upgrade, bearerToken));
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      Http1Parser parser = new Http1Parser(in);
      ResponseHead head = parser.readHead();
      if (head.status() == 101) {
        List<String> answered = head.values("Upgrade");
        boolean connectionUpgrade =
            HopByHop.connectionTokens(head.values("Connection")).contains("upgrade");
        if (answered.size() != 1 || !answered.get(0).equalsIgnoreCase(upgrade) || !connectionUpgrade) {
          throw new RelayException(
              "kube-apiserver switched protocols to "
                  + answered
                  + " but "
                  + upgrade
                  + " was asked for; the connection was closed");
        }
        socket.setSoTimeout(0); // an exec session may be idle for long; the caller owns idle timeouts
        SocketUpgradedConnection pipe = new SocketUpgradedConnection(answered.get(0), socket, in, out);
        socket = null; // owned by the pipe now
        return new BufferedForwardResponse(101, HopByHop.filterResponse(head.headers(), true), new byte[0], pipe);
      }
      if (head.status() < 200) {
        throw new RelayException(
            "kube-apiserver answered an upgrade with status " + head.status() + "; the connection was closed");
      }
      byte[] body = parser.readBody(head, request.method().equals("HEAD"));
      return new BufferedForwardResponse(
          head.status(), HopByHop.filterResponse(head.headers(), false), body, null);
    } catch (IOException e) {
      throw new RelayException(
          "upgrade to "
              + upgrade
              + " at kube-apiserver "
              + endpoint.hostHeader()
              + " failed: "
              + e.getClass().getSimpleName()
              + (e instanceof ProtocolException ? " (" + e.getMessage() + ")" : "")
              + "; the connection was closed",
          e);
    } finally {
      closeQuietly(socket);
    }
  }

  private Socket connect() throws IOException {
    Socket plain = socketFactory.createSocket();
    try {
      plain.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), connectTimeoutMillis);
      plain.setSoTimeout(readTimeoutMillis);
      plain.setTcpNoDelay(true);
      if (sslSocketFactory == null) {
        return plain;
      }
      SSLSocket tls =
          (SSLSocket) sslSocketFactory.createSocket(plain, endpoint.host(), endpoint.port(), true);
      SSLParameters parameters = tls.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"http/1.1"});
      tls.setSSLParameters(parameters);
      tls.startHandshake();
      if (!hostnameVerifier.verify(endpoint.host(), tls.getSession())) {
        closeQuietly(tls);
        throw new SSLPeerUnverifiedException(
            "certificate of kube-apiserver does not match host " + endpoint.host());
      }
      return tls;
    } catch (IOException | RuntimeException e) {
      closeQuietly(plain);
      throw e;
    }
  }

  private byte[] requestHead(GuardedRequest request, String upgrade, String bearerToken) {
    StringBuilder head = new StringBuilder(512);
    head.append(request.method()).append(' ').append(endpoint.prefix()).append(request.pathAndQuery());
    head.append(" HTTP/1.1\r\nHost: ").append(endpoint.hostHeader()).append("\r\n");
    head.append("Authorization: Bearer ").append(bearerToken).append("\r\n");
    for (Map.Entry<String, String> header : request.headers()) {
      head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
    }
    head.append("Connection: Upgrade\r\nUpgrade: ").append(upgrade).append("\r\n\r\n");
    // every character was checked to be visible ASCII, space or tab: no header can be injected
    return head.toString().getBytes(StandardCharsets.US_ASCII);
  }

  static void closeQuietly(@Nullable Socket socket) {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing left to do
      }
    }
  }

  /** An answer read whole (a refused upgrade), or the head of an upgraded connection. */
  private static final class BufferedForwardResponse implements ForwardResponse {
    private final int status;
    private final Map<String, List<String>> headers;
    private final InputStream body;
    private final @Nullable SocketUpgradedConnection pipe;

    BufferedForwardResponse(
        int status, Map<String, List<String>> headers, byte[] body, @Nullable SocketUpgradedConnection pipe) {
      this.status = status;
      this.headers = headers;
      this.body = new ByteArrayInputStream(body);
      this.pipe = pipe;
    }

    @Override
    public int status() {
      return status;
    }

    @Override
    public Map<String, List<String>> headers() {
      return headers;
    }

    @Override
    public InputStream body() {
      return body;
    }

    @Override
    public Optional<UpgradedConnection> upgraded() {
      return Optional.ofNullable(pipe);
    }

    @Override
    public void close() {
      if (pipe != null) {
        pipe.close();
      }
    }
  }
}
