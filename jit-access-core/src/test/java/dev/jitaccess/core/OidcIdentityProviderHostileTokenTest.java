package dev.jitaccess.core;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeout;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AuthenticationException;
import java.net.URI;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SECURITY.md 9-15 for users' OIDC tokens: {@link OidcIdentityProvider} with a JWKS URL (so that every key
 * lookup that reaches the network is counted), alone and as the engine's identity provider.
 */
final class OidcIdentityProviderHostileTokenTest extends HostileTokenContract {
  private static final String ISSUER = "https://idp.example.com/realms/corp";
  private static final String CLIENT = "jit-portal";
  private static final KeyPair RSA_PAIR = Forge.rsaKeyPair();
  private static final JWK RSA = Forge.jwk(RSA_PAIR);
  private static final String JWKS = new JWKSet(List.of(TRUSTED.toPublicJWK(), RSA.toPublicJWK())).toString();

  @RegisterExtension
  static final WireMockExtension IDP = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

  private final OidcIdentityProvider provider =
      OidcIdentityProvider.builder()
          .issuer(ISSUER)
          .audience(CLIENT)
          .jwksUri(URI.create(IDP.baseUrl() + "/jwks"))
          .clock(clock)
          .build();
  private final JitAccess engine =
      JitAccess.builder().clock(clock).identityProvider(provider).policyProvider(policy).auditSink(sink).build();

  @BeforeEach
  void publishTheKeys() {
    IDP.stubFor(get("/jwks").willReturn(aResponse().withHeader("Content-Type", "application/json").withBody(JWKS)));
  }

  @Override
  String kind() {
    return "OIDC token";
  }

  @Override
  JOSEObjectType type() {
    return JOSEObjectType.JWT;
  }

  @Override
  Map<String, Object> honestClaims() {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", ISSUER);
    claims.put("aud", List.of(CLIENT, "account"));
    claims.put("sub", "0f6c1e1a");
    claims.put("iat", T0.getEpochSecond());
    claims.put("exp", T0.plusSeconds(300).getEpochSecond());
    claims.put("email", "alice@example.com");
    claims.put("groups", List.of("devs"));
    return claims;
  }

  @Override
  List<String> requiredClaims() {
    return List.of("iss", "aud", "exp", "iat", "sub");
  }

  @Override
  String issuer() {
    return ISSUER;
  }

  @Override
  String audience() {
    return CLIENT;
  }

  @Override
  Object verify(@Nullable String token) {
    return provider.authenticate(token);
  }

  @Override
  int keyLookups() {
    return IDP.findAll(getRequestedFor(urlEqualTo("/jwks"))).size();
  }

  @Override
  void assertRefusedElsewhere(String token) {
    assertTheEngineRefuses(engine, token);
  }

  @Override
  void assertAcceptedElsewhere(String token) {
    assertTheEngineAccepts(engine, token);
  }

  @Override
  List<PublicKey> publishedKeys() {
    return List.of(TRUSTED_PAIR.getPublic(), RSA_PAIR.getPublic());
  }

  @Override
  String publishedJwks() {
    return JWKS;
  }

  @Test
  void tokenEncryptedToThePublishedRsaKeyIsRefused() throws Exception {
    JWEObject jwe =
        new JWEObject(
            new JWEHeader.Builder(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM)
                .type(type())
                .keyID(RSA.getKeyID())
                .build(),
            new Payload(honestClaims()));
    jwe.encrypt(new RSAEncrypter(RSA.toRSAKey().toRSAPublicKey()));

    assertRefused(jwe.serialize(), "encrypted (JWE, 5 parts)");
    assertThat(keyLookups()).isZero();
  }

  @Test
  void closedNestingOfTenThousandLevelsUnderAOneMebibyteCapIsRefusedFastWithoutStackOverflow() {
    String payload =
        JSONObjectUtils.toJSONString(honestClaims())
            .replaceFirst("}$", ",\"deep\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}");
    String token = Forge.signRaw(Forge.signer(TRUSTED), header().build(), payload);
    OidcIdentityProvider generous =
        OidcIdentityProvider.builder()
            .issuer(ISSUER)
            .audience(CLIENT)
            .jwkSet(JWKS)
            .maxTokenSize(1024 * 1024)
            .clock(clock)
            .build();
    generous.authenticate(honest());

    Throwable thrown = assertTimeout(FAST, () -> catchThrowable(() -> generous.authenticate(token)));

    assertThat(thrown)
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("OIDC token rejected: its payload is not a JSON object: Invalid JSON object");
    Forge.assertNoTokenMaterial(thrown, token);
  }

  @Test
  void tokenOverAOneMebibyteCapIsRefusedBeforeAnyParsing() {
    OidcIdentityProvider generous =
        OidcIdentityProvider.builder()
            .issuer(ISSUER)
            .audience(CLIENT)
            .jwksUri(URI.create(IDP.baseUrl() + "/jwks"))
            .maxTokenSize(1024 * 1024)
            .clock(clock)
            .build();
    String[] parts = honest().split("\\.");
    int around = parts[0].length() + parts[2].length() + 2;
    String overCap = parts[0] + "." + "A".repeat(1024 * 1024 + 1 - around) + "." + parts[2];

    assertThat(overCap).hasSize(1024 * 1024 + 1);
    assertThat(catchThrowable(() -> generous.authenticate(overCap)))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("OIDC token rejected: it is larger than the limit of 1048576 bytes");
    assertThat(keyLookups()).isZero();
  }
}
