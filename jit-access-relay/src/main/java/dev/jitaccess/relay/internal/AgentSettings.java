package dev.jitaccess.relay.internal;

import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.api.spi.ClusterForwarder;
import dev.jitaccess.api.spi.RevocationStore;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Everything an {@link AgentConnector} needs, validated by {@code RelayAgent.Builder}.
 *
 * @param relayHost the relay's host name (also the TLS server name that is verified)
 * @param relayPort the relay's tunnel port
 * @param proxy an HTTP CONNECT proxy, or null
 * @param sslContext the client TLS context trusting the relay
 * @param credential supplies the agent credential for each connection attempt
 * @param grantCheck verifies signed grants
 * @param provisioner provisions ServiceAccounts
 * @param forwarder forwards to kube-apiserver
 * @param executor where blocking work runs
 * @param clock the agent's clock
 * @param heartbeat tunnel heartbeat timings
 * @param backoffInitial the first reconnect delay
 * @param backoffMax the reconnect delay cap
 * @param tombstoneRetention how long a revocation is remembered
 * @param revocationStore where tombstones are kept across restarts
 * @param transports the I/O transport and TLS implementation ({@code sslContext} was built for it)
 * @param ioThreads the event loop threads, at least 1
 * @param tunnelConnections how many tunnels to hold: 0 for as many as the relay advertises (capped at {@link
 *     TunnelProtocol#MAX_TUNNEL_CONNECTIONS}, 1 when it advertises nothing), else exactly that many
 */
public record AgentSettings(
    String relayHost,
    int relayPort,
    @Nullable InetSocketAddress proxy,
    SslContext sslContext,
    Supplier<String> credential,
    GrantCheck grantCheck,
    AccountProvisioner provisioner,
    ClusterForwarder forwarder,
    Executor executor,
    InstantSource clock,
    HeartbeatSettings heartbeat,
    Duration backoffInitial,
    Duration backoffMax,
    Duration tombstoneRetention,
    RevocationStore revocationStore,
    Transports transports,
    int ioThreads,
    int tunnelConnections) {

  /** Checks what the builder cannot get wrong by type. */
  public AgentSettings {
    if (ioThreads < 1) {
      throw new IllegalArgumentException("ioThreads must be at least 1 but was " + ioThreads);
    }
    if (tunnelConnections < 0 || tunnelConnections > TunnelProtocol.MAX_TUNNEL_CONNECTIONS) {
      throw new IllegalArgumentException(
          "tunnelConnections must be 0 to " + TunnelProtocol.MAX_TUNNEL_CONNECTIONS + " but was " + tunnelConnections);
    }
  }
}
