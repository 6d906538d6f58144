package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.nimbusds.jose.JOSEObjectType;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.TokenIssuer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * SECURITY.md 9-15 for agent credentials ({@link JitAccess#issueAgentCredential}): {@link AgentCredentialVerifier}
 * on a counting live key source, and the engine's own {@link JitAccess#agentCredentialVerifier()}, which the
 * relay's tunnel side calls.
 */
final class AgentCredentialHostileTokenTest extends HostileTokenContract {
  private static final String ISSUER = "https://jit.example.com";

  private final JitAccess engine =
      JitAccess.builder().clock(clock).issuer(ISSUER).signingKey(TRUSTED_PAIR).policyProvider(policy).build();
  private final AtomicInteger keyLookups = new AtomicInteger();
  private final AgentCredentialVerifier verifier =
      AgentCredentialVerifier.builder()
          .keySource(
              () -> {
                keyLookups.incrementAndGet();
                return jwks(engine.publicJwks());
              })
          .issuer(ISSUER)
          .clock(clock)
          .build();

  @Override
  String kind() {
    return "agent credential";
  }

  @Override
  JOSEObjectType type() {
    return new JOSEObjectType(TokenIssuer.AGENT_TYPE);
  }

  /** What the engine really issues, read back. */
  @Override
  Map<String, Object> honestClaims() {
    return Forge.claims(engine.issueAgentCredential(CLUSTER, Duration.ofMinutes(5)));
  }

  @Override
  List<String> requiredClaims() {
    return List.of("iss", "aud", "exp", "iat", "sub", "nbf", "jti", KeyRing.CLUSTER_CLAIM);
  }

  @Override
  String issuer() {
    return ISSUER;
  }

  @Override
  String audience() {
    return KeyRing.AGENT_AUDIENCE;
  }

  @Override
  Object verify(@Nullable String token) {
    return verifier.verify(token);
  }

  @Override
  int keyLookups() {
    return keyLookups.get();
  }

  @Override
  void assertRefusedElsewhere(String token) {
    Throwable thrown = catchThrowable(() -> engine.agentCredentialVerifier().verify(token));

    assertThat(thrown).as("engine.agentCredentialVerifier()").isInstanceOf(AuthenticationException.class);
    Forge.assertNoTokenMaterial(thrown, token);
  }

  @Override
  void assertAcceptedElsewhere(String token) {
    assertThat(engine.agentCredentialVerifier().verify(token)).isEqualTo(CLUSTER);
  }

  @Test
  void theHonestTokenIsWhatTheEngineIssues() {
    String issued = engine.issueAgentCredential(CLUSTER, Duration.ofMinutes(5));

    assertThat(Forge.header(issued).getKeyID()).isEqualTo(TRUSTED.getKeyID());
    assertThat(Forge.header(issued).getType()).isEqualTo(type());
    assertThat(verifier.verify(issued)).isEqualTo(CLUSTER);
  }

  @Test
  void clusterClaimOfTheWrongJsonTypeIsRefused() {
    assertRefused(resigned(c -> c.put(KeyRing.CLUSTER_CLAIM, 7L)), "cluster claim must be a string but was a number");
    assertRefused(resigned(c -> c.put(KeyRing.CLUSTER_CLAIM, List.of(CLUSTER))), "cluster claim must be a string");
  }
}
