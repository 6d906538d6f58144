package dev.jitaccess.relay.internal;

/**
 * The wire contract between relay and agent.
 *
 * <p>The agent dials the relay's tunnel listener over TLS and sends an HTTP/1.1 request
 * {@code GET /_jit/connect} with {@code Authorization: Bearer <agent credential>}, {@code Connection: Upgrade}
 * and {@code Upgrade: jit-tunnel/1}. The relay verifies the credential, files the connection under the cluster
 * id <em>from the verified credential</em>, and answers {@code 101 Switching Protocols}. From then on the
 * connection speaks HTTP/2 with the relay as the client and the agent as the server: each user request is one
 * HTTP/2 stream whose {@code :method} and {@code :path} are the Kubernetes request (path without the
 * {@code /clusters/<id>} prefix), whose headers are the cleaned user headers plus {@link #GRANT_HEADER}
 * carrying the signed grant, and whose response is kube-apiserver's answer. Control messages from relay to
 * agent are HTTP/2 requests to paths under {@code /_jit/}.
 *
 * <p>The {@code 101} carries {@link #SLOTS_HEADER}{@code : <n>}, the number of event loops the relay serves
 * tunnels and user connections on. An agent opens that many tunnels (at most {@link #MAX_TUNNEL_CONNECTIONS}) so
 * that each loop holds one and the relay can send every user request through the tunnel on the loop of the
 * user's connection. A relay without the header (older) is served by one tunnel.
 */
public final class TunnelProtocol {
  /** The path the agent asks for to open a tunnel. */
  public static final String CONNECT_PATH = "/_jit/connect";

  /** The {@code Upgrade} token of the tunnel. */
  public static final String UPGRADE_TOKEN = "jit-tunnel/1";

  /**
   * Handshake response header (relay to agent, on the {@code 101}): the relay's event loop count, a positive
   * decimal integer; the agent opens that many tunnels.
   */
  public static final String SLOTS_HEADER = "jit-tunnel-slots";

  /** The most tunnel connections one agent opens to a relay, whatever the relay advertises. */
  public static final int MAX_TUNNEL_CONNECTIONS = 8;

  /** The request header that carries the signed grant (compact JWS) over the tunnel. */
  public static final String GRANT_HEADER = "jit-grant";

  /** The request header that carries the relay's request id over the tunnel, for correlated audit. */
  public static final String REQUEST_ID_HEADER = "jit-request-id";

  /**
   * Control: revoke a subject's grants ({@code POST}, form {@code subject=<id>&cluster=<id or empty>&id=<message
   * id>}). The relay sends one message to every tunnel of the cluster with the same message id; an agent acts on
   * the first copy it receives and answers the others alike.
   */
  public static final String REVOKE_PATH = "/_jit/revoke";

  private TunnelProtocol() {}
}
