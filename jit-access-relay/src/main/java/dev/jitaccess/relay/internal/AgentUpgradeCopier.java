package dev.jitaccess.relay.internal;

import dev.jitaccess.api.UpgradedConnection;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/** Copies the relay's DATA frames of an upgraded stream to kube-apiserver, on the executor. */
final class AgentUpgradeCopier {
  private AgentUpgradeCopier() {}

  static void start(Channel stream, InputStream fromRelay, UpgradedConnection upgraded, Executor executor) {
    try {
      executor.execute(() -> copy(stream, fromRelay, upgraded));
    } catch (RejectedExecutionException e) {
      stream.close();
    }
  }

  private static void copy(Channel stream, InputStream fromRelay, UpgradedConnection upgraded) {
    byte[] buffer = new byte[AgentResponsePump.CHUNK_SIZE];
    try {
      OutputStream toServer = upgraded.toServer();
      int n;
      while ((n = fromRelay.read(buffer)) != -1) {
        toServer.write(buffer, 0, n);
        toServer.flush();
      }
    } catch (IOException e) {
      stream.close();
    }
  }
}
