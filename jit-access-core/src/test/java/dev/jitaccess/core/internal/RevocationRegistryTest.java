package dev.jitaccess.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

final class RevocationRegistryTest {
  private final RevocationRegistry registry = new RevocationRegistry();
  private final Instant revokedAt = Instant.parse("2026-01-01T10:00:00.500Z");

  @Test
  void credentialsIssuedBeforeAFullRevocationAreRevoked() {
    registry.revokeSubject("alice", revokedAt);
    assertThat(registry.isRevoked("alice", Instant.parse("2026-01-01T09:00:00Z"))).isTrue();
    assertThat(registry.isRevoked("bob", Instant.parse("2026-01-01T09:00:00Z"))).isFalse();
  }

  @Test
  void credentialsIssuedInTheSameSecondCountAsRevokedAndLaterOnesDoNot() {
    registry.revokeSubject("alice", revokedAt);
    // JWT iat has whole seconds: 10:00:00 may have been issued before or after 10:00:00.500
    assertThat(registry.isRevoked("alice", Instant.parse("2026-01-01T10:00:00Z"))).isTrue();
    assertThat(registry.isRevoked("alice", Instant.parse("2026-01-01T10:00:01Z"))).isFalse();
  }

  @Test
  void anEarlierRevocationDoesNotOverrideALaterOne() {
    registry.revokeSubject("alice", revokedAt);
    registry.revokeSubject("alice", revokedAt.minusSeconds(3600));
    assertThat(registry.isRevoked("alice", revokedAt.minusSeconds(1))).isTrue();
  }

  @Test
  void revokedSinceSeesOnlyRevocationsAfterTheSequenceWasRead() {
    long before = registry.sequence();
    registry.revokeCluster("alice", "prod");
    assertThat(registry.revokedSince("alice", "prod", before)).isTrue();
    assertThat(registry.revokedSince("alice", "staging", before)).isFalse();
    assertThat(registry.revokedSince("alice", "prod", registry.sequence())).isFalse();
    long now = registry.sequence();
    registry.revokeSubject("alice", revokedAt);
    assertThat(registry.revokedSince("alice", "staging", now)).isTrue();
  }
}
