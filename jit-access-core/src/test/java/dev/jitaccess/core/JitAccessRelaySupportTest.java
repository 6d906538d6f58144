package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Grant;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** What the relay uses: one signature per grant, its own audit events, revocation listeners. */
final class JitAccessRelaySupportTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final RecordingSink sink = new RecordingSink();
  private final JitAccess jit = Fixtures.engine(clock, new Tokens(), new Policy(), sink).build();

  @Test
  void aGrantIsSignedOnceWhileItLives() {
    Grant grant = jit.authorize(ALICE_TOKEN, "prod");

    String first = jit.signGrant(grant);
    assertThat(jit.signGrant(grant)).isSameAs(first);

    clock.advance(jit.grantTtl().plusSeconds(1));
    Grant next = jit.authorize(ALICE_TOKEN, "prod");
    assertThat(next.id()).isNotEqualTo(grant.id());
    assertThat(jit.signGrant(next)).isNotEqualTo(first);
  }

  @Test
  void aDifferentGrantWithTheSameIdIsSignedAfresh() {
    Grant grant = jit.authorize(ALICE_TOKEN, "prod");
    String first = jit.signGrant(grant);
    Grant forged =
        new Grant(grant.id(), grant.subject(), "staging", grant.permissions(), grant.issuedAt(), grant.expiresAt());

    assertThat(jit.grantVerifier("staging").verify(jit.signGrant(forged)).cluster()).isEqualTo("staging");
    assertThat(jit.grantVerifier("prod").verify(first).cluster()).isEqualTo("prod");
  }

  @Test
  void relayEventsReachTheSinks() {
    AuditEvent event = new AuditEvent(clock.instant(), AuditEvent.Type.REQUEST, "alice", "prod", "g1", "GET /api");

    assertThat(jit.audit(event)).isTrue();
    assertThat(sink.events).contains(event);
  }

  @Test
  void revocationListenersHearEveryRevokeAndAFailingOneDoesNotStopTheOthers() {
    List<String> heard = new CopyOnWriteArrayList<>();
    jit.addRevocationListener((subject, cluster) -> {
      throw new IllegalStateException("listener down");
    });
    jit.addRevocationListener((subject, cluster) -> heard.add(subject + "@" + cluster));

    jit.revoke("alice");
    jit.revoke("bob", "prod");

    assertThat(heard).containsExactly("alice@null", "bob@prod");
  }

  @Test
  void signedGrantCacheEndsWithTheGrant() {
    Grant grant = jit.authorize(ALICE_TOKEN, "prod");
    String first = jit.signGrant(grant);
    clock.advance(Duration.ofMinutes(6));

    assertThat(jit.signGrant(grant)).isNotSameAs(first);
  }
}
