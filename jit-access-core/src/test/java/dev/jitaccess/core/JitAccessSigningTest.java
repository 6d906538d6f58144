package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE;
import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.jitaccess.api.Grant;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import org.junit.jupiter.api.Test;

final class JitAccessSigningTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final JitAccess jit =
      Fixtures.engine(clock, new Tokens(), new Policy(), new RecordingSink()).issuer("https://portal.example").build();

  @Test
  void signedGrantVerifiesAgainstThePublicJwks() throws Exception {
    Grant grant = jit.authorize(ALICE_TOKEN, "prod");
    SignedJWT jws = SignedJWT.parse(jit.signGrant(grant));

    assertThat(verify(jws, jit.publicJwks())).isTrue();
    assertThat(jws.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    assertThat(jws.getHeader().getType().getType()).isEqualTo("jit-grant+jwt");
    JWTClaimsSet claims = jws.getJWTClaimsSet();
    assertThat(claims.getIssuer()).isEqualTo("https://portal.example");
    assertThat(claims.getSubject()).isEqualTo("alice");
    assertThat(claims.getAudience()).containsExactly("prod");
    assertThat(claims.getJWTID()).isEqualTo(grant.id());
    assertThat(claims.getExpirationTime().toInstant()).isEqualTo(grant.expiresAt());
  }

  @Test
  void publicJwksHoldsNoPrivateKey() throws Exception {
    JWKSet set = JWKSet.parse(jit.publicJwks());
    assertThat(set.getKeys()).isNotEmpty().noneMatch(JWK::isPrivate);
    assertThat(jit.publicJwks()).doesNotContain("\"d\"");
  }

  @Test
  void grantSignedBeforeRotationStillVerifies() throws Exception {
    SignedJWT before = SignedJWT.parse(jit.signGrant(jit.authorize(ALICE_TOKEN, "prod")));
    jit.rotateSigningKey();
    SignedJWT after = SignedJWT.parse(jit.signGrant(jit.authorize(ALICE_TOKEN, "staging")));

    assertThat(after.getHeader().getKeyID()).isNotEqualTo(before.getHeader().getKeyID());
    assertThat(verify(before, jit.publicJwks())).isTrue();
    assertThat(verify(after, jit.publicJwks())).isTrue();
  }

  @Test
  void sessionTokenHasItsOwnTypeAudienceAndDefaultTtl() throws Exception {
    SignedJWT token = SignedJWT.parse(jit.issueSessionToken(ALICE));
    assertThat(verify(token, jit.publicJwks())).isTrue();
    assertThat(token.getHeader().getType().getType()).isEqualTo("jit-session+jwt");
    JWTClaimsSet claims = token.getJWTClaimsSet();
    assertThat(claims.getAudience()).containsExactly("jit-access-relay");
    assertThat(claims.getExpirationTime().toInstant()).isEqualTo(START.plus(Duration.ofHours(8)));
  }

  @Test
  void sessionTokenTtlIsCheckedAgainstTheMaximum() {
    assertThatThrownBy(() -> jit.issueSessionToken(ALICE, Duration.ofHours(9)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ttl must be at most maxSessionTokenTtl (PT8H) but was PT9H");
    assertThatThrownBy(() -> jit.issueSessionToken(ALICE, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    JitAccess longer = JitAccess.builder().clock(clock).maxSessionTokenTtl(Duration.ofHours(24)).build();
    assertThat(longer.issueSessionToken(ALICE, Duration.ofHours(9))).isNotBlank();
  }

  @Test
  void agentCredentialIsForExactlyOneCluster() throws Exception {
    SignedJWT credential = SignedJWT.parse(jit.issueAgentCredential("prod", Duration.ofHours(1)));
    assertThat(verify(credential, jit.publicJwks())).isTrue();
    assertThat(credential.getHeader().getType().getType()).isEqualTo("jit-agent+jwt");
    assertThat(credential.getJWTClaimsSet().getStringClaim("cluster")).isEqualTo("prod");
    assertThatThrownBy(() -> jit.issueAgentCredential("Prod/..", Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static boolean verify(SignedJWT jws, String jwks) throws Exception {
    JWK key = JWKSet.parse(jwks).getKeyByKeyId(jws.getHeader().getKeyID());
    return key != null && jws.verify(new ECDSAVerifier((ECKey) key));
  }
}
