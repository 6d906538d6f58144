package dev.jitaccess.k8s;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A one-connection HTTP/1.1 test server that follows a script: it reads the request head, hands it and the
 * raw streams to the script, and records failures. Every blocking read has a 10 s socket timeout, so a
 * broken feature fails the test instead of hanging it.
 */
final class ScriptedServer implements AutoCloseable {
  interface Script {
    void run(String requestHead, InputStream in, OutputStream out) throws Exception;
  }

  private final ServerSocket server;
  private final CompletableFuture<String> head = new CompletableFuture<>();
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  ScriptedServer(Script script) throws IOException {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    Thread thread =
        new Thread(
            () -> {
              try (Socket socket = server.accept()) {
                socket.setSoTimeout(10_000);
                InputStream in = new BufferedInputStream(socket.getInputStream());
                String requestHead = readHead(in);
                head.complete(requestHead);
                script.run(requestHead, in, socket.getOutputStream());
                done.complete(null);
              } catch (Throwable t) {
                head.completeExceptionally(t);
                done.completeExceptionally(t);
              }
            },
            "scripted-server");
    thread.setDaemon(true);
    thread.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** The request head as received, CRLFs included. */
  String requestHead() throws Exception {
    return head.get(10, TimeUnit.SECONDS);
  }

  /** Waits until the script finished; rethrows what it threw. */
  void awaitScript() throws Exception {
    done.get(10, TimeUnit.SECONDS);
  }

  /** Reads until the peer closes the connection; fails with a timeout if it never does. */
  static void expectClosedByClient(InputStream in) throws IOException {
    while (in.read() >= 0) {
      // drain
    }
  }

  static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("client closed before the end of the request head");
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
