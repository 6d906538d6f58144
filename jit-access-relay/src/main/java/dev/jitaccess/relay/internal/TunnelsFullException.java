package dev.jitaccess.relay.internal;

import dev.jitaccess.api.RelayException;

/**
 * Every live tunnel of a cluster carries as many streams as its agent allows ({@code MAX_CONCURRENT_STREAMS}):
 * the request is refused at the relay, with a retry hint, rather than sent into a stream the agent would refuse.
 */
public final class TunnelsFullException extends RelayException {
  private static final long serialVersionUID = 1L;

  /**
   * A refusal.
   *
   * @param cluster the cluster id
   * @param tunnels how many live tunnels it has
   * @param maxStreams the most concurrent streams the agent allows on one tunnel
   */
  public TunnelsFullException(String cluster, int tunnels, int maxStreams) {
    super(
        "the agent of cluster " + cluster + " is serving its limit of " + maxStreams + " concurrent requests on "
            + (tunnels == 1 ? "its tunnel" : "each of its " + tunnels + " tunnels")
            + "; close some watches or try again later (more relay event loops or agent replicas add tunnels)");
  }
}
