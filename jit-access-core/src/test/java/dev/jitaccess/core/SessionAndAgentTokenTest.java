package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.TokenIssuer;
import dev.jitaccess.testkit.MutableInstantSource;
import java.security.KeyPair;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

final class SessionAndAgentTokenTest {
  private static final String ISSUER = "https://jit.example.com";
  private static final Instant T0 = Instant.parse("2030-01-01T10:00:00Z");
  private static final KeyPair EC_PAIR = Forge.ecKeyPair();
  private static final JWK EC_JWK = Forge.jwk(EC_PAIR);

  private final MutableInstantSource clock = MutableInstantSource.at(T0);
  private final KeyRing ring = KeyRing.of(ISSUER, "jit-access-relay", clock, EC_PAIR);
  private final Subject alice = Subject.of("alice@example.com", "devs");

  private SessionTokenIdentityProvider sessions() {
    return SessionTokenIdentityProvider.builder().jwks(ring.publicJwks()).issuer(ISSUER).clock(clock).build();
  }

  private AgentCredentialVerifier agents() {
    return AgentCredentialVerifier.builder().jwks(ring.publicJwks()).issuer(ISSUER).clock(clock).build();
  }

  private static void assertRefused(ThrowingCall call, String token, String reason) {
    assertThatThrownBy(() -> call.run(token))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining(reason)
        .satisfies(e -> Forge.assertNoTokenMaterial(e, token));
  }

  @FunctionalInterface
  private interface ThrowingCall {
    Object run(String token);
  }

  @Test
  void sessionTokenYieldsItsSubject() {
    String token = ring.signSessionToken(alice, "s-1", T0, T0.plusSeconds(8 * 3600));

    assertThat(sessions().authenticate(token)).isEqualTo(alice);
    assertThat(sessions().id()).isEqualTo("session-token");
  }

  @Test
  void revokedSessionTokenIsRefused() {
    Map<String, Instant> revokedBefore = new ConcurrentHashMap<>();
    SessionTokenIdentityProvider provider =
        SessionTokenIdentityProvider.builder()
            .jwks(ring.publicJwks())
            .issuer(ISSUER)
            .clock(clock)
            .revocationCheck((id, issuedAt) -> revokedBefore.containsKey(id) && !issuedAt.isAfter(revokedBefore.get(id)))
            .build();
    String old = ring.signSessionToken(alice, "s-1", T0, T0.plusSeconds(3600));
    assertThat(provider.authenticate(old)).isEqualTo(alice);

    clock.advance(java.time.Duration.ofMinutes(1));
    revokedBefore.put(alice.id(), clock.instant());
    clock.advance(java.time.Duration.ofMinutes(1));
    String fresh = ring.signSessionToken(alice, "s-2", clock.instant(), clock.instant().plusSeconds(3600));

    assertThatThrownBy(() -> provider.authenticate(old))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("session token was revoked");
    assertThat(provider.authenticate(fresh)).isEqualTo(alice);
  }

  @Test
  void failingRevocationCheckFailsClosed() {
    SessionTokenIdentityProvider provider =
        SessionTokenIdentityProvider.builder()
            .jwks(ring.publicJwks())
            .issuer(ISSUER)
            .clock(clock)
            .revocationCheck((id, at) -> {
              throw new IllegalStateException("store down");
            })
            .build();
    String token = ring.signSessionToken(alice, "s-1", T0, T0.plusSeconds(3600));

    assertThatThrownBy(() -> provider.authenticate(token))
        .isInstanceOf(JitAccessException.class)
        .isNotInstanceOf(AuthenticationException.class)
        .hasMessageContaining("revocation check failed");
  }

  @Test
  void grantOrAgentCredentialIsNotASessionToken() {
    Grant grant = new Grant("g-1", alice, "prod-a", List.of(Permission.clusterWide("view")), T0, T0.plusSeconds(300));

    assertRefused(sessions()::authenticate, ring.signGrant(grant), "typ is 'jit-grant+jwt'");
    assertRefused(sessions()::authenticate, ring.signAgentCredential("prod-a", "a-1", T0, T0.plusSeconds(300)), "typ");
  }

  @Test
  void sessionTokenForAnotherAudienceOrExpiredIsRefused() {
    KeyRing otherAudience = KeyRing.of(ISSUER, "some-other-relay", clock, EC_PAIR);
    String token = ring.signSessionToken(alice, "s-1", T0, T0.plusSeconds(600));

    assertRefused(sessions()::authenticate, otherAudience.signSessionToken(alice, "s-1", T0, T0.plusSeconds(600)), "not for 'jit-access-relay'");
    clock.advance(java.time.Duration.ofSeconds(660));
    assertRefused(sessions()::authenticate, token, "expired");
  }

  @Test
  void sessionProviderSeesRotationThroughTheLiveKeySource() {
    SessionTokenIdentityProvider live =
        SessionTokenIdentityProvider.builder().keySource(ring::publicKeys).issuer(ISSUER).clock(clock).build();
    SessionTokenIdentityProvider snapshot = sessions();
    ring.rotate();

    String token = ring.signSessionToken(alice, "s-1", T0, T0.plusSeconds(600));

    assertThat(live.authenticate(token)).isEqualTo(alice);
    assertRefused(snapshot::authenticate, token, "not in the JWKS");
  }

  @Test
  void agentCredentialYieldsItsCluster() {
    String credential = ring.signAgentCredential("a", "a-1", T0, T0.plusSeconds(3600));

    assertThat(agents().verify(credential)).isEqualTo("a");
    AgentCredentialVerifier live =
        AgentCredentialVerifier.builder().keySource(ring::publicKeys).issuer(ISSUER).clock(clock).build();
    assertThat(live.verify(credential)).isEqualTo("a");
  }

  @Test
  void tamperedClusterClaimIsRefused() {
    String credential = ring.signAgentCredential("a", "a-1", T0, T0.plusSeconds(3600));
    Map<String, Object> claims = Forge.claims(credential);
    claims.put(KeyRing.CLUSTER_CLAIM, "b");
    JWSHeader header =
        new JWSHeader.Builder(JWSAlgorithm.ES256)
            .type(new JOSEObjectType(TokenIssuer.AGENT_TYPE))
            .keyID(EC_JWK.getKeyID())
            .build();
    String resignedWithRealKey = Forge.sign(Forge.signer(EC_JWK), header, claims);
    String editedPayload =
        credential.split("\\.")[0] + "." + Forge.b64(com.nimbusds.jose.util.JSONObjectUtils.toJSONString(claims)) + "." + credential.split("\\.")[2];

    assertRefused(agents()::verify, resignedWithRealKey, "sub does not match its cluster claim 'b'");
    assertRefused(agents()::verify, editedPayload, "signature is invalid");
  }

  @Test
  void agentCredentialWithAnInvalidClusterIdIsRefused() {
    Map<String, Object> claims = Forge.claims(ring.signAgentCredential("a", "a-1", T0, T0.plusSeconds(3600)));
    claims.put(KeyRing.CLUSTER_CLAIM, "../B");
    claims.put("sub", "agent:../B");
    JWSHeader header =
        new JWSHeader.Builder(JWSAlgorithm.ES256)
            .type(new JOSEObjectType(TokenIssuer.AGENT_TYPE))
            .keyID(EC_JWK.getKeyID())
            .build();

    assertRefused(agents()::verify, Forge.sign(Forge.signer(EC_JWK), header, claims), "not a cluster id");
  }

  @Test
  void grantOrSessionTokenIsNotAnAgentCredential() {
    Grant grant = new Grant("g-1", alice, "a", List.of(Permission.clusterWide("view")), T0, T0.plusSeconds(300));

    assertRefused(agents()::verify, ring.signGrant(grant), "typ is 'jit-grant+jwt'");
    assertRefused(agents()::verify, ring.signSessionToken(Subject.of("agent:a"), "s", T0, T0.plusSeconds(60)), "typ");
  }

  @Test
  void buildersRequireIssuerAndKeys() {
    assertThatThrownBy(() -> SessionTokenIdentityProvider.builder().jwks(ring.publicJwks()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("issuer");
    assertThatThrownBy(() -> AgentCredentialVerifier.builder().issuer(ISSUER).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("jwks");
    assertThat(Set.of(SessionTokenIdentityProvider.DEFAULT_AUDIENCE)).containsExactly("jit-access-relay");
  }
}
