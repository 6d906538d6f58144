package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.RevocationStore;
import dev.jitaccess.relay.internal.TunnelProtocol;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SECURITY 31 and 32: revocation tombstones survive an agent restart; revokes are durable before acknowledged. */
final class RelayAgentRevocationTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final TunnelFixture fixture = new TunnelFixture();

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  /** Records what was stored; can be made to block or fail. */
  static final class RecordingStore implements RevocationStore {
    final InMemoryRevocationStore delegate;
    final List<String> records = new CopyOnWriteArrayList<>();
    volatile CountDownLatch gate = new CountDownLatch(0);
    volatile boolean failing;
    volatile boolean failLoad;

    RecordingStore(TunnelFakes.MutableClock clock) {
      delegate = new InMemoryRevocationStore(clock);
    }

    @Override
    public void record(String subjectId, Instant revokedAt, Instant keepUntil) {
      try {
        gate.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (failing) {
        throw new ProvisioningException("store down", 503, true, null);
      }
      delegate.record(subjectId, revokedAt, keepUntil);
      records.add(subjectId + "@" + revokedAt);
    }

    @Override
    public Map<String, Instant> load() {
      if (failLoad) {
        throw new ProvisioningException("store unreachable", 0, true, null);
      }
      return delegate.load();
    }
  }

  private RelayAgent agentWith(RevocationStore store) {
    RelayAgent agent = fixture.closeLater(fixture.agentBuilder("cred-a").revocationStore(store).build());
    agent.start();
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    return agent;
  }

  private TunnelTestClient request(String grant) {
    return TunnelTestClient.simple(fixture.registry(), "a", "/api", grant);
  }

  /** A revoke message sent over the tunnel, as the relay does, so that the agent's answer can be read. */
  private TunnelTestClient revokeMessage(String subject) {
    byte[] body = ("subject=" + subject + "&cluster=a").getBytes(StandardCharsets.UTF_8);
    Http2Headers headers =
        new DefaultHttp2Headers()
            .method("POST")
            .path(TunnelProtocol.REVOKE_PATH)
            .scheme("https")
            .authority("jit-agent")
            .set("content-type", "application/x-www-form-urlencoded")
            .setInt("content-length", body.length);
    return TunnelTestClient.send(fixture.registry(), "a", headers, body, true);
  }

  /** A grant for alice issued at an exact instant. */
  private String grantIssuedAt(String id, Instant issuedAt) {
    fixture.grants.grants.put(
        "jws-" + id,
        new Grant(
            id,
            Subject.of("alice"),
            "a",
            List.of(Permission.clusterWide("view")),
            issuedAt,
            issuedAt.plus(Duration.ofMinutes(10))));
    return "jws-" + id;
  }

  @Test
  void restartedAgentWithEmptyMemoryStillRefusesTheRevokedGrantAndAcceptsALaterOne() throws Exception {
    RecordingStore store = new RecordingStore(fixture.clock);
    RelayAgent first = agentWith(store);
    String old = fixture.grant("g1", "alice", Duration.ofMinutes(5));
    assertThat(request(old).status(WAIT)).isEqualTo("200");
    Instant revokedAt = fixture.clock.instant();

    assertThat(revokeMessage("alice").status(WAIT)).isEqualTo("200");
    assertThat(store.records).containsExactly("alice@" + revokedAt);
    first.close();
    await().atMost(WAIT).until(() -> !fixture.registry().isConnected("a"));

    agentWith(store); // a new agent: nothing in memory, the same store
    assertThat(request(old).status(WAIT)).isEqualTo("403");
    String sameSecond = grantIssuedAt("g2", revokedAt.plusMillis(999));
    assertThat(request(sameSecond).status(WAIT)).isEqualTo("403");
    String nextSecond = grantIssuedAt("g3", revokedAt.plusSeconds(1));
    assertThat(request(nextSecond).status(WAIT)).isEqualTo("200");
    assertThat(fixture.forwarder.calls).hasSize(2);
  }

  @Test
  void revokeIsAcknowledgedOnlyAfterTheTombstoneIsStoredButRefusesAtOnce() throws Exception {
    RecordingStore store = new RecordingStore(fixture.clock);
    agentWith(store);
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
    store.gate = new CountDownLatch(1);

    TunnelTestClient revoke = revokeMessage("alice");

    await().atMost(WAIT).until(() -> request(grant).status(WAIT).equals("403"));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !revoke.headers.isDone());
    assertThat(store.records).isEmpty();
    store.gate.countDown();
    assertThat(revoke.status(WAIT)).isEqualTo("200");
    assertThat(store.records).hasSize(1);
    assertThat(fixture.forwarder.calls).isEmpty();
  }

  @Test
  void aRevokeThatCannotBeStoredIsNotAcknowledgedButStillRefusesAndRemovesTheAccount() throws Exception {
    RecordingStore store = new RecordingStore(fixture.clock);
    agentWith(store);
    String grant = fixture.grant("g1", "alice", Duration.ofMinutes(5));
    store.failing = true;

    assertThat(revokeMessage("alice").status(WAIT)).isEqualTo("503");

    assertThat(request(grant).status(WAIT)).isEqualTo("403");
    await().atMost(WAIT).until(() -> fixture.provisioner.removed.contains("alice"));
  }

  @Test
  void duplicateAndLateMessagesAreIdempotentAndALateOldGrantIsRefused() throws Exception {
    RecordingStore store = new RecordingStore(fixture.clock);
    agentWith(store);
    Instant revokedAt = fixture.clock.instant();

    assertThat(revokeMessage("alice").status(WAIT)).isEqualTo("200");
    assertThat(revokeMessage("alice").status(WAIT)).isEqualTo("200");
    // A grant issued before the revocation arrives only now (reordered): refused.
    String late = grantIssuedAt("late", revokedAt.minusSeconds(5));

    assertThat(request(late).status(WAIT)).isEqualTo("403");
    assertThat(store.load()).containsExactly(Map.entry("alice", revokedAt));
    assertThat(store.records).hasSize(2);
  }

  @Test
  void anAgentThatCannotLoadItsTombstonesDoesNotServe() {
    RecordingStore store = new RecordingStore(fixture.clock);
    store.failLoad = true;
    RelayAgent agent = fixture.closeLater(fixture.agentBuilder("cred-a").revocationStore(store).build());

    assertThatThrownBy(agent::start)
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("revocation tombstones")
        .hasMessageContaining("store unreachable");
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !fixture.registry().isConnected("a"));
  }
}
