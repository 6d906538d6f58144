package dev.jitaccess.relay.internal;

/**
 * Headers of the tunnel wire contract beyond {@link TunnelProtocol}.
 *
 * <p>HTTP/2 has no {@code Connection}/{@code Upgrade}, so protocol upgrades (exec, attach, port-forward) travel
 * as follows: the relay's user side removes the user's {@code Connection: Upgrade} and {@code Upgrade: <p>}
 * headers and sets {@link #UPGRADE_HEADER}{@code : <p>} on the stream instead, without ending the stream. The
 * agent forwards with {@code Connection: Upgrade} and {@code Upgrade: <p>}. Only when kube-apiserver answered
 * {@code 101} with a matching {@code Upgrade} (the forwarder's {@code ForwardResponse.upgraded()} is present)
 * does the agent answer {@code :status 200} with {@link #UPGRADED_HEADER}{@code : <p>}; from then on the DATA
 * frames of the stream are the raw bytes in both directions. Any other answer is passed back with its real
 * status and body, and the relay must not start a byte pipe.
 */
public final class TunnelHeaders {
  /** Request header (relay to agent): the protocol the user asked to upgrade to. */
  public static final String UPGRADE_HEADER = "jit-upgrade";

  /** Response header (agent to relay): the upgrade happened; DATA frames are now raw bytes both ways. */
  public static final String UPGRADED_HEADER = "jit-upgraded";

  private TunnelHeaders() {}
}
