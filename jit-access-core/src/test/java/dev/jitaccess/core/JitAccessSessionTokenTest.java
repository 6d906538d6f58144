package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE;
import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The engine accepts its own session tokens and agent credentials, following revocation and rotation. */
final class JitAccessSessionTokenTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Tokens tokens = new Tokens();
  private final JitAccess jit = Fixtures.engine(clock, tokens, new Policy(), new RecordingSink()).build();

  @Test
  void sessionTokenIsAcceptedWithoutAskingTheIdentityProvider() {
    String session = jit.issueSessionToken(ALICE);

    Grant grant = jit.authorize(session, "prod");

    assertThat(grant.subject()).isEqualTo(ALICE);
    assertThat(tokens.calls).hasValue(0);
  }

  @Test
  void sessionTokensWorkWithNoIdentityProviderConfigured() {
    JitAccess bare = JitAccess.builder().clock(clock).policyProvider(new Policy()).build();

    assertThat(bare.authorize(bare.issueSessionToken(ALICE), "prod").subject().id()).isEqualTo("alice");
    assertThatThrownBy(() -> bare.authorize("opaque", "prod"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("no identity provider configured");
  }

  @Test
  void revokingTheSubjectRejectsSessionTokensIssuedBefore() {
    String before = jit.issueSessionToken(ALICE);
    jit.authorize(before, "prod");

    jit.revoke("alice");
    clock.advance(Duration.ofSeconds(1));
    String after = jit.issueSessionToken(ALICE);

    assertThatThrownBy(() -> jit.authorize(before, "prod"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("revoked");
    assertThat(jit.authorize(after, "prod").subject().id()).isEqualTo("alice");
  }

  @Test
  void sessionTokenFromAnotherEngineIsRefused() {
    JitAccess other = Fixtures.engine(clock, new Tokens(), new Policy(), new RecordingSink()).build();

    assertThatThrownBy(() -> jit.authorize(other.issueSessionToken(ALICE), "prod"))
        .isInstanceOf(AuthenticationException.class);
  }

  @Test
  void expiredSessionTokenIsRefused() {
    String session = jit.issueSessionToken(ALICE, Duration.ofMinutes(10));
    clock.advance(Duration.ofMinutes(12));

    assertThatThrownBy(() -> jit.authorize(session, "prod")).isInstanceOf(AuthenticationException.class);
  }

  @Test
  void agentCredentialVerifierFollowsRotation() {
    String credential = jit.issueAgentCredential("prod", Duration.ofHours(1));
    jit.rotateSigningKey();
    String fresh = jit.issueAgentCredential("staging", Duration.ofHours(1));

    assertThat(jit.agentCredentialVerifier().verify(credential)).isEqualTo("prod");
    assertThat(jit.agentCredentialVerifier().verify(fresh)).isEqualTo("staging");
  }

  @Test
  void signedGrantRoundTripsExactlyOnAClockWithNanoseconds() {
    clock.advance(Duration.ofNanos(123_456_789));
    Grant grant = jit.authorize(jit.issueSessionToken(ALICE), "prod");

    assertThat(grant.issuedAt().getNano()).isZero();
    assertThat(grant.expiresAt()).isBeforeOrEqualTo(clock.instant().plus(jit.grantTtl()));
    assertThat(jit.grantVerifier("prod").verify(jit.signGrant(grant))).isEqualTo(grant);
  }

  @Test
  void grantVerifierChecksTheAudience() {
    Grant grant = jit.authorize(jit.issueSessionToken(ALICE), "prod");
    String jws = jit.signGrant(grant);

    assertThat(jit.grantVerifier("prod").verify(jws)).isEqualTo(grant);
    assertThatThrownBy(() -> jit.grantVerifier("staging").verify(jws)).isInstanceOf(AuthenticationException.class);
  }
}
