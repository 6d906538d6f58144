package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.internal.TokenIssuer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * SECURITY.md 9-15 for session tokens ({@link JitAccess#issueSessionToken}): {@link SessionTokenIdentityProvider}
 * on a counting live key source, and the engine that issued the token, which routes it by its {@code typ}. A
 * refused token must never reach the revocation check.
 */
final class SessionTokenHostileTokenTest extends HostileTokenContract {
  private static final String ISSUER = "https://jit.example.com";
  private static final Subject ALICE = Subject.of("alice@example.com", "devs");

  private final JitAccess engine =
      JitAccess.builder()
          .clock(clock)
          .issuer(ISSUER)
          .signingKey(TRUSTED_PAIR)
          .policyProvider(policy)
          .auditSink(sink)
          .build();
  private final AtomicInteger keyLookups = new AtomicInteger();
  private final AtomicInteger revocationChecks = new AtomicInteger();
  private final SessionTokenIdentityProvider provider =
      SessionTokenIdentityProvider.builder()
          .keySource(
              () -> {
                keyLookups.incrementAndGet();
                return jwks(engine.publicJwks());
              })
          .issuer(ISSUER)
          .clock(clock)
          .revocationCheck(
              (id, issuedAt) -> {
                revocationChecks.incrementAndGet();
                return false;
              })
          .build();

  @Override
  String kind() {
    return "session token";
  }

  @Override
  JOSEObjectType type() {
    return new JOSEObjectType(TokenIssuer.SESSION_TYPE);
  }

  /** What the engine really issues, read back. */
  @Override
  Map<String, Object> honestClaims() {
    return Forge.claims(engine.issueSessionToken(ALICE, Duration.ofMinutes(5)));
  }

  @Override
  List<String> requiredClaims() {
    return List.of("iss", "aud", "exp", "iat", "sub", "nbf", "jti");
  }

  @Override
  String issuer() {
    return ISSUER;
  }

  @Override
  String audience() {
    return SessionTokenIdentityProvider.DEFAULT_AUDIENCE;
  }

  @Override
  Object verify(@Nullable String token) {
    int before = revocationChecks.get();
    try {
      return provider.authenticate(token);
    } catch (AuthenticationException e) {
      assertThat(revocationChecks).as("revocation checks asked about a refused token").hasValue(before);
      throw e;
    }
  }

  @Override
  int keyLookups() {
    return keyLookups.get();
  }

  @Override
  void assertRefusedElsewhere(String token) {
    assertTheEngineRefuses(engine, token);
  }

  @Override
  void assertAcceptedElsewhere(String token) {
    assertTheEngineAccepts(engine, token);
    assertThat(engine.authorize(token, CLUSTER).subject()).isEqualTo(ALICE);
  }

  @Test
  void theHonestTokenIsWhatTheEngineIssues() {
    String issued = engine.issueSessionToken(ALICE, Duration.ofMinutes(5));

    assertThat(Forge.header(issued).getKeyID()).isEqualTo(TRUSTED.getKeyID());
    assertThat(Forge.header(issued).getType()).isEqualTo(type());
    assertThat(provider.authenticate(issued)).isEqualTo(ALICE);
  }

  @Test
  void groupsOfTheWrongJsonTypeAreRefused() {
    assertRefused(resigned(c -> c.put("groups", "devs")), "groups claim must be a list of strings");
    assertRefused(resigned(c -> c.put("groups", List.of("devs", 7L))), "groups claim must be a list of strings");
  }
}
