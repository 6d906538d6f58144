package dev.jitaccess.relay;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.relay.TunnelFakes.FakeEngine;
import dev.jitaccess.relay.TunnelFakes.FakeForwarder;
import dev.jitaccess.relay.TunnelFakes.FakeGrantCheck;
import dev.jitaccess.relay.TunnelFakes.FakeProvisioner;
import dev.jitaccess.relay.TunnelFakes.MutableClock;
import dev.jitaccess.relay.internal.DefaultTunnelRegistry;
import dev.jitaccess.relay.internal.HeartbeatSettings;
import dev.jitaccess.relay.internal.Transports;
import dev.jitaccess.relay.internal.TunnelListener;
import dev.jitaccess.relay.testing.TunnelTestCertificates;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A relay tunnel listener and agents on loopback with fakes behind them. */
final class TunnelFixture implements AutoCloseable {
  static final TunnelTestCertificates CERTS = TunnelTestCertificates.create();

  final MutableClock clock = new MutableClock();
  final FakeEngine engine = new FakeEngine(clock);
  final FakeGrantCheck grants = new FakeGrantCheck();
  final FakeProvisioner provisioner = new FakeProvisioner(clock);
  final FakeForwarder forwarder = new FakeForwarder();
  final HeartbeatSettings heartbeat;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  TunnelListener listener;

  TunnelFixture() {
    this(HeartbeatSettings.DEFAULT);
  }

  TunnelFixture(HeartbeatSettings heartbeat) {
    this.heartbeat = heartbeat;
    startListener(0);
  }

  TunnelListener startListener(int port) {
    listener =
        new TunnelListener(heartbeat, Duration.ofSeconds(5))
            .start(new InetSocketAddress("127.0.0.1", port), CERTS.serverContext(), engine);
    closeables.add(listener);
    return listener;
  }

  /**
   * How many tunnels an agent with the default {@code tunnelConnections(0)} holds to this fixture's listener:
   * one per listener event loop (half the processors, at least one), at most 8.
   */
  static int tunnelsPerAgent() {
    return Math.min(Transports.defaultIoThreads(Runtime.getRuntime().availableProcessors()), 8);
  }

  /** Replaces the listener with one that leaves the slot count out of its {@code 101}, as an older relay. */
  TunnelListener startOlderListener() {
    listener.close();
    listener =
        new TunnelListener(heartbeat, Duration.ofSeconds(5))
            .advertiseSlots(false)
            .start(new InetSocketAddress("127.0.0.1", 0), CERTS.serverContext(), engine);
    closeables.add(listener);
    return listener;
  }

  DefaultTunnelRegistry registry() {
    return listener.registry();
  }

  RelayAgent startAgent(String credential) {
    RelayAgent agent = agentBuilder(credential).build();
    closeables.add(0, agent);
    return agent.start();
  }

  /** A builder for an agent like {@link #startAgent}'s, to add to; the agent it builds is not closed here. */
  RelayAgent.Builder agentBuilder(String credential) {
    return agentBuilder(credential, provisioner);
  }

  RelayAgent.Builder agentBuilder(String credential, dev.jitaccess.api.spi.AccountProvisioner accounts) {
    return agentBuilder(credential, accounts, forwarder);
  }

  /** An agent like {@link #startAgent}'s that forwards through {@code clusterForwarder}; closed here. */
  RelayAgent startAgent(String credential, dev.jitaccess.api.spi.ClusterForwarder clusterForwarder) {
    RelayAgent agent = agentBuilder(credential, provisioner, clusterForwarder).build();
    closeables.add(0, agent);
    return agent.start();
  }

  RelayAgent.Builder agentBuilder(
      String credential,
      dev.jitaccess.api.spi.AccountProvisioner accounts,
      dev.jitaccess.api.spi.ClusterForwarder clusterForwarder) {
    return RelayAgent.builder()
        .relayUri(URI.create("https://localhost:" + listener.port()))
        .credential(credential)
        .trustedCertificates(CERTS.ca())
        .provisioner(accounts)
        .forwarder(clusterForwarder)
        .clock(clock)
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
        .heartbeat(heartbeat.interval(), heartbeat.timeout())
            .grantCheck(grants);
  }

  /** Closes the given resource with the fixture, first. */
  <T extends AutoCloseable> T closeLater(T closeable) {
    closeables.add(0, closeable);
    return closeable;
  }

  RawTestAgent rawAgent(String sniHost, java.util.Map<String, String> headers) {
    RawTestAgent raw = new RawTestAgent(CERTS.clientContext(), sniHost, listener.port(), headers);
    closeables.add(0, raw);
    return raw;
  }

  /** Registers a grant whose signed form is {@code jws-<id>}; issued a second ago. */
  /** A grant that ended (or ends) at {@code expiresAt}, issued an hour before. */
  String grantEnding(String id, String subject, Instant expiresAt) {
    return grant(id, subject, expiresAt.minus(Duration.ofHours(1)), expiresAt);
  }

  String grant(String id, String subject, Duration ttl) {
    return grant(id, subject, clock.instant().minusSeconds(1), clock.instant().plus(ttl));
  }

  private String grant(String id, String subject, Instant issuedAt, Instant expiresAt) {
    Grant grant =
        new Grant(id, Subject.of(subject), "a", List.of(Permission.clusterWide("view")), issuedAt, expiresAt);
    grants.grants.put("jws-" + id, grant);
    return "jws-" + id;
  }

  @Override
  public void close() {
    for (AutoCloseable closeable : closeables) {
      try {
        closeable.close();
      } catch (Exception e) {
        throw new IllegalStateException("could not close " + closeable, e);
      }
    }
  }
}
