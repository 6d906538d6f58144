package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.relay.InMemoryRevocationStore;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

final class AgentGrantsTest {
  private static final Instant T = Instant.parse("2025-06-01T10:00:00.400Z");
  private static final Duration RETENTION = Duration.ofHours(1);

  private final AtomicReference<Instant> now = new AtomicReference<>(T);
  private final InstantSource clock = now::get;

  private static Grant issuedAt(Instant issuedAt) {
    return new Grant(
        "g", Subject.of("alice"), "a", List.of(Permission.clusterWide("view")), issuedAt, issuedAt.plusSeconds(300));
  }

  @Test
  void sameSecondAsTheRevocationIsRefusedTheNextSecondIsNot() {
    AgentGrants grants = new AgentGrants(clock, RETENTION, new InMemoryRevocationStore(clock));

    grants.revoke("alice", null);

    assertThat(grants.isRevoked(issuedAt(T.minusSeconds(30)))).isTrue();
    assertThat(grants.isRevoked(issuedAt(Instant.parse("2025-06-01T10:00:00Z")))).isTrue();
    assertThat(grants.isRevoked(issuedAt(Instant.parse("2025-06-01T10:00:00.900Z")))).isTrue();
    assertThat(grants.isRevoked(issuedAt(Instant.parse("2025-06-01T10:00:01Z")))).isFalse();
  }

  @Test
  void aLaterRevocationWinsAndAnEarlierOneLoadedAfterItDoesNotMoveItBack() {
    InMemoryRevocationStore store = new InMemoryRevocationStore(clock);
    store.record("alice", T.minusSeconds(60), T.plus(RETENTION));
    AgentGrants grants = new AgentGrants(clock, RETENTION, store);
    now.set(T.plusSeconds(10));
    AgentGrants.Tombstone tombstone = grants.revoke("alice", null);

    assertThat(grants.load()).isEqualTo(1);

    assertThat(tombstone.revokedAt()).isEqualTo(T.plusSeconds(10));
    assertThat(grants.isRevoked(issuedAt(T.plusSeconds(5)))).isTrue();
  }

  @Test
  void persistedTombstonesAreLoadedByANewInstanceAndKeptForTheRetention() {
    InMemoryRevocationStore store = new InMemoryRevocationStore(clock);
    AgentGrants before = new AgentGrants(clock, RETENTION, store);
    before.persist("alice", before.revoke("alice", null));

    AgentGrants after = new AgentGrants(clock, RETENTION, store);
    assertThat(after.isRevoked(issuedAt(T.minusSeconds(1)))).isFalse();
    after.load();

    assertThat(after.isRevoked(issuedAt(T.minusSeconds(1)))).isTrue();
    assertThat(store.load()).containsExactly(Map.entry("alice", T));
    now.set(T.plus(RETENTION).plusSeconds(1));
    assertThat(store.load()).isEmpty();
  }

  @Test
  void theEnginesLaterRevocationTimeIsTakenSoALaggingAgentStillRefusesWhatWasIssuedBeforeIt() {
    AgentGrants grants = new AgentGrants(clock, RETENTION, new InMemoryRevocationStore(clock));

    // The agent's clock is 30 s behind the engine's, which revoked at T + 30 s.
    AgentGrants.Tombstone tombstone = grants.revoke("alice", T.plusSeconds(30));

    assertThat(tombstone.revokedAt()).isEqualTo(T.plusSeconds(30));
    assertThat(tombstone.keepUntil()).isEqualTo(T.plusSeconds(30).plus(RETENTION));
    assertThat(grants.isRevoked(issuedAt(T.plusSeconds(20)))).as("issued 10 s before the revocation").isTrue();
    assertThat(grants.isRevoked(issuedAt(T.plusSeconds(31)))).as("issued after it").isFalse();
  }

  @Test
  void anEngineTimeEarlierThanTheAgentsNowDoesNotShortenTheRevocation() {
    AgentGrants grants = new AgentGrants(clock, RETENTION, new InMemoryRevocationStore(clock));

    AgentGrants.Tombstone tombstone = grants.revoke("alice", T.minusSeconds(30));

    assertThat(tombstone.revokedAt()).isEqualTo(T);
    assertThat(grants.isRevoked(issuedAt(T.minusSeconds(10)))).isTrue();
  }
}
