package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.UpgradedConnection;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** The socket of an upgraded connection, with the bytes the head parser had already buffered. */
final class SocketUpgradedConnection implements UpgradedConnection {
  private final String protocol;
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  SocketUpgradedConnection(String protocol, Socket socket, InputStream in, OutputStream out) {
    this.protocol = protocol;
    this.socket = socket;
    this.in = in;
    this.out = out;
  }

  @Override
  public String protocol() {
    return protocol;
  }

  @Override
  public InputStream fromServer() {
    return in;
  }

  @Override
  public OutputStream toServer() {
    return out;
  }

  @Override
  public void close() {
    UpgradeForwarder.closeQuietly(socket);
  }

  @Override
  public String toString() {
    return "UpgradedConnection[" + protocol + ", " + socket.getRemoteSocketAddress() + "]";
  }
}
