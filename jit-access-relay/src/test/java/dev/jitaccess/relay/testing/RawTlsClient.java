package dev.jitaccess.relay.testing;

import dev.jitaccess.testkit.TestCertificates;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A TLS socket that sends bytes exactly as given (no client-side normalisation of paths or headers), speaking
 * HTTP/1.1 by ALPN.
 */
public final class RawTlsClient implements AutoCloseable {

  private final SSLSocket socket;

  /**
   * Connects and completes the handshake.
   *
   * @param certs the CA to trust
   * @param port the relay's port
   */
  public RawTlsClient(TestCertificates certs, int port) throws IOException {
    this(certs, port, 0);
  }

  /**
   * Connects with a fixed socket receive buffer (no autotuning), for tests that measure what is buffered on the
   * way to a client that does not read.
   *
   * @param certs the CA to trust
   * @param port the relay's port
   * @param receiveBuffer the SO_RCVBUF in bytes; 0 for the system default
   */
  public RawTlsClient(TestCertificates certs, int port, int receiveBuffer) throws IOException {
    java.net.Socket plain = new java.net.Socket();
    if (receiveBuffer > 0) {
      plain.setReceiveBufferSize(receiveBuffer);
    }
    plain.connect(new java.net.InetSocketAddress("localhost", port), 5_000);
    socket = (SSLSocket) certs.clientContext().getSocketFactory().createSocket(plain, "localhost", port, true);
    SSLParameters params = socket.getSSLParameters();
    params.setApplicationProtocols(new String[] {"http/1.1"});
    params.setEndpointIdentificationAlgorithm("HTTPS");
    socket.setSSLParameters(params);
    socket.setSoTimeout(10_000);
    socket.startHandshake();
  }

  /** Sends raw text (ISO-8859-1 bytes, so control and high bytes pass unchanged). */
  public RawTlsClient send(String raw) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  /**
   * Reads until the server closes the connection.
   *
   * @return everything received
   * @throws AssertionError if the server keeps the connection open for 10 s
   */
  public String readUntilClosed() throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[8192];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        all.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the relay did not close the connection; received: " + all.toString(StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      // a reset after the answer counts as closed
    }
    return all.toString(StandardCharsets.ISO_8859_1);
  }

  /**
   * Reads until the received text contains the marker.
   *
   * @param marker the text to wait for
   * @return everything received so far
   */
  public String readUntil(String marker, StringBuilder sofar) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[8192];
    while (!sofar.toString().contains(marker)) {
      int n = in.read(buf);
      if (n < 0) {
        throw new AssertionError("closed before '" + marker + "'; received: " + sofar);
      }
      sofar.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
    }
    return sofar.toString();
  }

  /** The raw input, for tests that read at their own pace. */
  public InputStream input() throws IOException {
    return socket.getInputStream();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
