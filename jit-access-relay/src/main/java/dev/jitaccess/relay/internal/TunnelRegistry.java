package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.Future;

/**
 * Where the user side of the relay finds a cluster's agent. The tunnel side implements it.
 *
 * <p>Thread-safe.
 */
public interface TunnelRegistry {

  /**
   * Whether an agent for the cluster is connected now.
   *
   * @param cluster a cluster id
   * @return true when at least one live tunnel is filed under it
   */
  boolean isConnected(String cluster);

  /**
   * Opens a new HTTP/2 stream to one of the cluster's agents (spreading load over its tunnels).
   *
   * @param cluster the cluster id
   * @param handler the handler to install on the new stream channel
   * @return a future that fails with a {@code RelayException} when no agent is connected
   */
  Future<Http2StreamChannel> openStream(String cluster, ChannelHandler handler);

  /**
   * Tells the agents to close a subject's open streams and refuse its grants issued until {@code revokedAt} on
   * the clock of the engine that issued them, or until an agent's own now when that is later (or when no time is
   * given): grants carry the engine's times, so an agent whose clock lags must not judge them by its own.
   *
   * @param subjectId the subject
   * @param cluster one cluster, or {@code null} for every connected cluster
   * @param revokedAt the revocation's time on the engine's clock, or {@code null} for each agent's now
   */
  void revoke(
      String subjectId,
      @org.jspecify.annotations.Nullable String cluster,
      java.time.@org.jspecify.annotations.Nullable Instant revokedAt);

  /**
   * {@link #revoke(String, String, java.time.Instant)} judged on each agent's own clock.
   *
   * @param subjectId the subject
   * @param cluster one cluster, or {@code null} for every connected cluster
   */
  default void revoke(String subjectId, @org.jspecify.annotations.Nullable String cluster) {
    revoke(subjectId, cluster, null);
  }
}
