package dev.jitaccess.core;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.testkit.MutableInstantSource;
import java.net.URI;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class OidcIdentityProviderTest {
  private static final String ISSUER = "https://idp.example.com/realms/corp";
  private static final String CLIENT = "jit-portal";
  private static final Instant T0 = Instant.parse("2030-01-01T10:00:00Z");
  private static final JWK RSA = Forge.jwk(Forge.rsaKeyPair());
  private static final JWK EC = Forge.jwk(Forge.ecKeyPair());
  private static final String JWKS = new JWKSet(List.of(RSA.toPublicJWK(), EC.toPublicJWK())).toString();

  @RegisterExtension
  static final WireMockExtension IDP = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

  private final MutableInstantSource clock = MutableInstantSource.at(T0);

  private OidcIdentityProvider remote(String usernameClaim, String groupsClaim) {
    IDP.stubFor(get("/jwks").willReturn(aResponse().withHeader("Content-Type", "application/json").withBody(JWKS)));
    return OidcIdentityProvider.builder()
        .issuer(ISSUER)
        .audience(CLIENT)
        .jwksUri(URI.create(IDP.baseUrl() + "/jwks"))
        .usernameClaim(usernameClaim)
        .groupsClaim(groupsClaim)
        .clock(clock)
        .build();
  }

  private OidcIdentityProvider fixed() {
    return OidcIdentityProvider.builder().issuer(ISSUER).audience(CLIENT).jwkSet(JWKS).clock(clock).build();
  }

  private static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(List.of(CLIENT, "account"))
        .subject("0f6c1e1a")
        .issueTime(Date.from(T0))
        .expirationTime(Date.from(T0.plusSeconds(300)))
        .claim("email", "alice@example.com")
        .claim("groups", List.of("devs"));
  }

  private static String sign(JWK key, JWTClaimsSet claims) {
    return sign(key, claims, h -> h);
  }

  private static String sign(JWK key, JWTClaimsSet claims, UnaryOperator<JWSHeader.Builder> header) {
    JWSAlgorithm alg = key.getKeyType().getValue().equals("RSA") ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256;
    JWSHeader.Builder builder = new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).keyID(key.getKeyID());
    return Forge.sign(Forge.signer(key), header.apply(builder).build(), claims.toJSONObject());
  }

  private static void assertRefused(OidcIdentityProvider provider, String token, String reason) {
    assertThatThrownBy(() -> provider.authenticate(token))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageStartingWith("OIDC token rejected: ")
        .hasMessageContaining(reason)
        .satisfies(e -> Forge.assertNoTokenMaterial(e, token));
  }

  @Test
  void validRs256AndEs256TokensWithCustomClaimsAuthenticate() {
    OidcIdentityProvider provider = remote("email", "roles");
    JWTClaimsSet claims = claims().claim("roles", List.of("admins", "devs")).build();

    Subject expected = Subject.of("alice@example.com", "admins", "devs");
    assertThat(provider.authenticate(sign(RSA, claims))).isEqualTo(expected);
    assertThat(provider.authenticate(sign(EC, claims))).isEqualTo(expected);
    assertThat(provider.id()).isEqualTo("oidc");
    IDP.verify(1, getRequestedFor(urlEqualTo("/jwks")));
  }

  @Test
  void staticJwkSetWithDefaultClaimsAuthenticates() {
    assertThat(fixed().authenticate(sign(EC, claims().build()))).isEqualTo(Subject.of("0f6c1e1a", "devs"));
  }

  @Test
  void wrongIssuerOrAudienceIsRefused() {
    assertRefused(fixed(), sign(RSA, claims().issuer(ISSUER + "/").build()), "not by the trusted issuer");
    assertRefused(fixed(), sign(RSA, claims().audience("another-client").build()), "not for 'jit-portal'");
  }

  @Test
  void expiredOrNotYetValidTokenIsRefused() {
    String token = sign(RSA, claims().build());
    clock.set(T0.plusSeconds(300 + 60));
    assertRefused(fixed(), token, "expired");

    clock.set(T0);
    assertRefused(fixed(), sign(RSA, claims().notBeforeTime(Date.from(T0.plusSeconds(61))).build()), "not valid before");
    assertRefused(fixed(), sign(RSA, claims().issueTime(Date.from(T0.plusSeconds(61))).build()), "issued in the future");
  }

  @Test
  void missingUsernameOrWronglyTypedGroupsAreRefused() {
    assertRefused(remote("preferred_username", "groups"), sign(RSA, claims().build()), "no preferred_username claim");
    assertRefused(fixed(), sign(RSA, claims().claim("groups", "devs").build()), "groups claim must be a list of strings");
    assertRefused(remote("email", "groups"), sign(RSA, claims().claim("email", List.of("a")).build()), "email claim must be a string");
  }

  @Test
  void unknownKidStormCausesAtMostTwoJwksFetches() {
    OidcIdentityProvider provider = remote("sub", "groups");

    for (int i = 0; i < 50; i++) {
      String token = sign(RSA, claims().build(), h -> h.keyID(UUID.randomUUID().toString()));
      assertThatThrownBy(() -> provider.authenticate(token))
          .isInstanceOf(AuthenticationException.class)
          .hasMessageContaining("is not in the JWKS");
    }

    assertThat(IDP.findAll(getRequestedFor(urlEqualTo("/jwks")))).hasSizeBetween(1, 2);
  }

  @Test
  void unreachableJwksIsAProviderFailureNotAnAuthenticationFailure() {
    IDP.stubFor(get("/jwks").willReturn(aResponse().withStatus(500)));
    OidcIdentityProvider provider =
        OidcIdentityProvider.builder().issuer(ISSUER).audience(CLIENT).jwksUri(URI.create(IDP.baseUrl() + "/jwks")).clock(clock).build();

    assertThatThrownBy(() -> provider.authenticate(sign(RSA, claims().build())))
        .isInstanceOf(JitAccessException.class)
        .isNotInstanceOf(AuthenticationException.class)
        .hasMessageContaining("could not load the keys");
  }

  @Test
  void hmacTokensAndHmacConfigurationAreRefused() throws Exception {
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(RSA.getKeyID()).build();
    byte[] publicKeyBytes = RSA.toRSAKey().toPublicKey().getEncoded();
    String token = Forge.sign(new MACSigner(publicKeyBytes), header, claims().build().toJSONObject());

    assertRefused(fixed(), token, "signed with 'HS256'");
    assertThatThrownBy(() -> OidcIdentityProvider.builder().allowedAlgorithms("RS256", "HS256"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HMAC and none are never allowed");
    assertThatThrownBy(() -> OidcIdentityProvider.builder().allowedAlgorithms("none"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void algorithmOutsideTheAllowListIsRefused() {
    OidcIdentityProvider rsaOnly =
        OidcIdentityProvider.builder().issuer(ISSUER).audience(CLIENT).jwkSet(JWKS).allowedAlgorithms("RS256").clock(clock).build();

    assertThat(rsaOnly.authenticate(sign(RSA, claims().build())).id()).isEqualTo("0f6c1e1a");
    assertRefused(rsaOnly, sign(EC, claims().build()), "signed with 'ES256' but only [RS256]");
  }

  @Test
  void engineTokenTypesAreNotOidcTokens() {
    String token = sign(RSA, claims().build(), h -> h.type(new JOSEObjectType("jit-session+jwt")));

    assertRefused(fixed(), token, "typ is 'jit-session+jwt'");
  }

  @Test
  void builderRequiresIssuerAudienceAndKeys() {
    assertThatThrownBy(() -> OidcIdentityProvider.builder().audience(CLIENT).jwkSet(JWKS).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("issuer must be set");
    assertThatThrownBy(() -> OidcIdentityProvider.builder().jwkSet(JWKS).jwksUri(URI.create("https://idp/jwks")))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> OidcIdentityProvider.builder().jwksUri(URI.create("file:///etc/jwks")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https");
    assertThat(Map.of("k", OidcIdentityProvider.DEFAULT_USERNAME_CLAIM)).containsEntry("k", "sub");
  }

  @Test
  void rsaKeysUnder2048BitsAreTreatedAsAbsentEveryTime() throws Exception {
    java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("RSA");
    generator.initialize(1024);
    java.security.KeyPair weakPair = generator.generateKeyPair();
    JWK weak = Forge.jwk(weakPair);
    OidcIdentityProvider provider =
        OidcIdentityProvider.builder()
            .issuer(ISSUER)
            .audience(CLIENT)
            .jwkSet(new JWKSet(List.of(weak.toPublicJWK(), EC.toPublicJWK())).toString())
            .clock(clock)
            .build();
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT).keyID(weak.getKeyID()).build();
    String token =
        Forge.sign(
            new com.nimbusds.jose.crypto.RSASSASigner(
                weakPair.getPrivate(), java.util.Set.of(com.nimbusds.jose.crypto.opts.AllowWeakRSAKey.getInstance())),
            header,
            claims().build().toJSONObject());

    for (int attempt = 0; attempt < 2; attempt++) { // the second time from the per-key cache
      assertThatThrownBy(() -> provider.authenticate(token))
          .isInstanceOf(AuthenticationException.class)
          .hasMessageContaining("is not in the JWKS");
    }
    assertThat(provider.authenticate(sign(EC, claims().build())).id()).isEqualTo("0f6c1e1a");
  }
}
