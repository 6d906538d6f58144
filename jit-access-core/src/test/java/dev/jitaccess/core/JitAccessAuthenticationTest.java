package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE;
import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.ProviderException;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

final class JitAccessAuthenticationTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Tokens tokens = new Tokens();
  private final Policy policy = new Policy();
  private final RecordingSink sink = new RecordingSink();
  private final JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();

  @Test
  void secondAuthorizeWithTheSameTokenDoesNotCallTheIdentityProvider() {
    jit.authorize(ALICE_TOKEN, "prod");
    jit.authorize(ALICE_TOKEN, "prod");
    jit.authorize(ALICE_TOKEN, "staging");
    assertThat(tokens.calls).hasValue(1);
  }

  @Test
  void oneTokenAlternatingBetweenClustersGetsEachClustersOwnGrant() {
    var prod = jit.authorize(ALICE_TOKEN, "prod");
    var staging = jit.authorize(ALICE_TOKEN, "staging");
    assertThat(staging.cluster()).isEqualTo("staging");
    assertThat(staging.id()).isNotEqualTo(prod.id());
    assertThat(jit.authorize(ALICE_TOKEN, new String("prod"))).isEqualTo(prod);
    assertThat(jit.authorize(ALICE_TOKEN, "staging")).isEqualTo(staging);
    assertThat(jit.authorize(ALICE_TOKEN, "dev").cluster()).isEqualTo("dev");
    assertThat(policy.calls).hasValue(3);
  }

  @Test
  void concurrentMissesOnOneTokenAuthenticateOnce() throws Exception {
    int callers = 16;
    java.util.concurrent.CountDownLatch calling = new java.util.concurrent.CountDownLatch(callers);
    AtomicInteger calls = new AtomicInteger();
    JitAccess slow =
        JitAccess.builder()
            .clock(clock)
            .policyProvider(policy)
            .identityProvider(
                t -> {
                  calls.incrementAndGet();
                  try {
                    calling.await(30, java.util.concurrent.TimeUnit.SECONDS); // until every caller arrived
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  return ALICE;
                })
            .build();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
    try {
      java.util.List<java.util.concurrent.Future<?>> results = new java.util.ArrayList<>();
      for (int i = 0; i < callers; i++) {
        results.add(
            pool.submit(
                () -> {
                  calling.countDown();
                  return slow.authorize(ALICE_TOKEN, "prod");
                }));
      }
      for (java.util.concurrent.Future<?> f : results) {
        f.get(30, java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(calls).hasValue(1);
  }

  @Test
  void opaqueTokenIsTrustedForSixtySecondsOnly() {
    jit.authorize(ALICE_TOKEN, "prod");
    clock.advance(Duration.ofSeconds(60).minusNanos(1));
    jit.authorize(ALICE_TOKEN, "prod");
    assertThat(tokens.calls).hasValue(1);

    clock.advance(Duration.ofNanos(1));
    jit.authorize(ALICE_TOKEN, "prod");
    assertThat(tokens.calls).hasValue(2);
  }

  @Test
  void jwtIsTrustedUntilItsExpiryAndReAuthenticatedAfter() {
    Instant exp = START.plus(Duration.ofMinutes(3));
    String jwt =
        new PlainJWT(new JWTClaimsSet.Builder().subject("alice").expirationTime(Date.from(exp)).build())
            .serialize();
    tokens.known.put(jwt, ALICE);

    jit.authorize(jwt, "prod");
    clock.set(exp.minusNanos(1));
    jit.authorize(jwt, "prod");
    assertThat(tokens.calls).hasValue(1);

    clock.set(exp);
    jit.authorize(jwt, "prod");
    assertThat(tokens.calls).hasValue(2);
  }

  @Test
  void failedAuthenticationIsRethrownAuditedAndNotCached() {
    assertThatThrownBy(() -> jit.authorize("stolen-or-forged", "prod"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("unknown token");
    assertThatThrownBy(() -> jit.authorize("stolen-or-forged", "prod")).isInstanceOf(AuthenticationException.class);
    assertThat(tokens.calls).hasValue(2);
    assertThat(sink.ofType(AuditEvent.Type.AUTHENTICATION_FAILED))
        .hasSize(2)
        .allSatisfy(
            e -> {
              assertThat(e.subjectId()).isNull();
              assertThat(e.cluster()).isEqualTo("prod");
              assertThat(e.detail()).isEqualTo("unknown token");
              assertThat(e.attributes()).containsEntry("provider", "test-tokens").containsKey("tokenFingerprint");
            });
    assertThat(policy.calls).hasValue(0);
  }

  @Test
  void identityProviderRuntimeExceptionBecomesAuthenticationExceptionWithProviderCause() {
    JitAccess broken =
        JitAccess.builder()
            .clock(clock)
            .policyProvider(policy)
            .auditSink(sink)
            .identityProvider(
                t -> {
                  throw new IllegalStateException("JWKS endpoint unreachable");
                })
            .build();
    assertThatThrownBy(() -> broken.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("failed")
        .cause()
        .isInstanceOf(ProviderException.class)
        .hasCauseInstanceOf(IllegalStateException.class);
    assertThat(sink.ofType(AuditEvent.Type.AUTHENTICATION_FAILED)).hasSize(1);
    assertThat(policy.calls).hasValue(0);
  }

  @Test
  void identityProviderReturningNullIsAFailure() {
    JitAccess broken =
        JitAccess.builder().clock(clock).policyProvider(policy).identityProvider(t -> null).build();
    assertThatThrownBy(() -> broken.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOf(AuthenticationException.class)
        .hasCauseInstanceOf(ProviderException.class);
  }

  @Test
  void engineWithoutIdentityProviderAuthenticatesNoOne() {
    JitAccess none = JitAccess.builder().clock(clock).policyProvider(policy).build();
    assertThatThrownBy(() -> none.authorize(ALICE_TOKEN, "prod"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("no identity provider configured");
  }

  @Test
  void oversizedTokenIsRefusedBeforeTheIdentityProviderSeesIt() {
    String huge = "a".repeat(JitAccess.MAX_TOKEN_LENGTH + 1);
    assertThatThrownBy(() -> jit.authorize(huge, "prod"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("longer than");
    assertThat(tokens.calls).hasValue(0);
    assertThat(sink.ofType(AuditEvent.Type.AUTHENTICATION_FAILED)).hasSize(1);
  }

  @Test
  void fullRevokeForgetsCachedAuthentications() {
    jit.authorize(ALICE_TOKEN, "prod");
    jit.revoke("alice");
    jit.authorize(ALICE_TOKEN, "prod");
    assertThat(tokens.calls).hasValue(2);
  }

  @Test
  void noTokenAppearsInAnyAuditRecord() {
    AtomicInteger n = new AtomicInteger();
    JitAccess careless =
        JitAccess.builder()
            .clock(clock)
            .policyProvider(policy)
            .auditSink(sink)
            .identityProvider(
                t -> {
                  if (n.incrementAndGet() == 1) {
                    throw new AuthenticationException("token " + t + " has expired"); // a careless provider
                  }
                  return ALICE;
                })
            .build();
    String token = "eyJsecret.eyJpayload.c2lnbmF0dXJl";
    assertThatThrownBy(() -> careless.authorize(token, "prod")).isInstanceOf(AuthenticationException.class);
    careless.authorize(token, "prod");
    careless.revoke("alice");
    clock.advance(Duration.ofHours(1));
    careless.activeGrants();

    assertThat(sink.events).isNotEmpty();
    assertThat(sink.events).allSatisfy(e -> assertThat(e.toString()).doesNotContain(token));
    assertThat(sink.ofType(AuditEvent.Type.AUTHENTICATION_FAILED))
        .singleElement()
        .satisfies(e -> assertThat(e.detail()).isEqualTo("token <redacted> has expired"));
  }
}
