package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

final class WarmAuthorizationsTest {
  private final MutableInstantSource clock = MutableInstantSource.at(Instant.parse("2030-01-01T00:00:00Z"));
  private final WarmAuthorizations warm = new WarmAuthorizations(clock, 100);

  private AccessEngine.Authorized authorized(String subject, String cluster, Duration ttl) {
    Grant grant =
        new Grant(
            "g-" + subject + "-" + cluster,
            Subject.of(subject),
            cluster,
            List.of(Permission.clusterWide("view")),
            clock.instant().minusSeconds(1),
            clock.instant().plus(ttl));
    return new AccessEngine.Authorized(grant, "jws");
  }

  @Test
  void answersARecentAuthorizationForTheSameTokenAndClusterOnly() {
    AccessEngine.Authorized a = authorized("alice", "c1", Duration.ofMinutes(5));
    warm.put("token-a", "c1", a, warm.generation());

    assertThat(warm.get("token-a", "c1")).isSameAs(a);
    assertThat(warm.get("token-a", "c2")).isNull();
    assertThat(warm.get("token-b", "c1")).isNull();
  }

  @Test
  void forgetsAnAnswerAfterTheTtl() {
    warm.put("token-a", "c1", authorized("alice", "c1", Duration.ofMinutes(5)), warm.generation());

    clock.advance(WarmAuthorizations.TTL.minusMillis(1));
    assertThat(warm.get("token-a", "c1")).isNotNull();
    clock.advance(Duration.ofMillis(1));
    assertThat(warm.get("token-a", "c1")).isNull();
  }

  @Test
  void neverServesAGrantPastItsExpiry() {
    warm.put("token-a", "c1", authorized("alice", "c1", Duration.ofMillis(300)), warm.generation());

    clock.advance(Duration.ofMillis(300));
    assertThat(warm.get("token-a", "c1")).isNull();
  }

  @Test
  void aRevocationDropsTheSubjectsAnswersAtOnce() {
    warm.put("token-a", "c1", authorized("alice", "c1", Duration.ofMinutes(5)), warm.generation());
    warm.put("token-a", "c2", authorized("alice", "c2", Duration.ofMinutes(5)), warm.generation());
    warm.put("token-b", "c1", authorized("bob", "c1", Duration.ofMinutes(5)), warm.generation());

    warm.revoked("alice", "c1");
    assertThat(warm.get("token-a", "c1")).isNull();
    assertThat(warm.get("token-a", "c2")).isNotNull();
    assertThat(warm.get("token-b", "c1")).isNotNull();

    warm.revoked("alice", null);
    assertThat(warm.get("token-a", "c2")).isNull();
    assertThat(warm.get("token-b", "c1")).isNotNull();
  }

  @Test
  void doesNotStoreAnAnswerFetchedWhileARevocationHappened() {
    long before = warm.generation();
    warm.revoked("alice", null); // lands between the engine's answer and the put

    warm.put("token-a", "c1", authorized("alice", "c1", Duration.ofMinutes(5)), before);
    assertThat(warm.get("token-a", "c1")).isNull();
  }
}
