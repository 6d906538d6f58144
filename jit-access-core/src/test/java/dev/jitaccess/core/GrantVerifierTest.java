package dev.jitaccess.core;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDHEncrypter;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.PlainJWT;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.TokenIssuer;
import dev.jitaccess.testkit.MutableInstantSource;
import java.net.URI;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class GrantVerifierTest {
  private static final String ISSUER = "https://jit.example.com";
  private static final Instant T0 = Instant.parse("2030-01-01T10:00:00Z");
  private static final KeyPair EC_PAIR = Forge.ecKeyPair();
  private static final JWK EC_JWK = Forge.jwk(EC_PAIR);

  private final MutableInstantSource clock = MutableInstantSource.at(T0);
  private final KeyRing ring = KeyRing.of(ISSUER, "jit-access-relay", clock, EC_PAIR);
  private final Grant grant =
      new Grant(
          "grant-1",
          Subject.of("alice@example.com", "devs", "oncall"),
          "prod-a",
          List.of(Permission.clusterWide("view"), Permission.inNamespace("edit", "team-a")),
          T0,
          T0.plus(Duration.ofMinutes(5)),
          "incident 42");

  private GrantVerifier verifier(String cluster) {
    return GrantVerifier.builder().jwks(ring.publicJwks()).issuer(ISSUER).cluster(cluster).clock(clock).build();
  }

  private GrantVerifier verifier() {
    return verifier("prod-a");
  }

  private static JWSHeader.Builder grantHeader() {
    return new JWSHeader.Builder(JWSAlgorithm.ES256)
        .type(new JOSEObjectType(TokenIssuer.GRANT_TYPE))
        .keyID(EC_JWK.getKeyID());
  }

  /** The honest grant's claims, edited, signed with the real key: only the claim check can refuse it. */
  private String resigned(Consumer<Map<String, Object>> edit) {
    Map<String, Object> claims = Forge.claims(ring.signGrant(grant));
    edit.accept(claims);
    return Forge.sign(Forge.signer(EC_JWK), grantHeader().build(), claims);
  }

  private static void assertRefused(GrantVerifier verifier, String token, String reason) {
    assertThatThrownBy(() -> verifier.verify(token))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageStartingWith("grant rejected: ")
        .hasMessageContaining(reason)
        .satisfies(e -> Forge.assertNoTokenMaterial(e, token));
  }

  private void assertRefused(String token, String reason) {
    assertRefused(verifier(), token, reason);
  }

  @Test
  void roundTripRebuildsTheGrant() {
    Grant verified = verifier().verify(ring.signGrant(grant));

    assertThat(verified).isEqualTo(grant);
  }

  @Test
  void rsaKeyRingGrantVerifiesWithRs256() {
    KeyRing rsaRing = KeyRing.of(ISSUER, "jit-access-relay", clock, Forge.rsaKeyPair());
    GrantVerifier rsaVerifier =
        GrantVerifier.builder().jwks(rsaRing.publicJwks()).issuer(ISSUER).cluster("prod-a").clock(clock).build();

    String token = rsaRing.signGrant(grant);

    assertThat(Forge.header(token).getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
    assertThat(rsaVerifier.verify(token)).isEqualTo(grant);
  }

  @Test
  void flippedCharacterInPayloadIsRefused() {
    assertRefused(Forge.flipMiddle(ring.signGrant(grant), 1), "");
  }

  @Test
  void flippedCharacterInSignatureIsRefused() {
    assertRefused(Forge.flipMiddle(ring.signGrant(grant), 2), "signature is invalid");
  }

  @Test
  void nonCanonicalSignatureEncodingIsRefused() {
    assertRefused(Forge.flipLastBit(ring.signGrant(grant), 2), "not canonical base64url");
  }

  @Test
  void grantForAnotherClusterIsRefused() {
    assertRefused(verifier("prod-b"), ring.signGrant(grant), "not for 'prod-b'");
  }

  @Test
  void grantIsAcceptedUntilExpiryPlusSkewAndRefusedFromThen() {
    String token = ring.signGrant(grant);

    clock.set(grant.expiresAt().plus(KeyRing.CLOCK_SKEW).minusSeconds(1));
    assertThat(verifier().verify(token)).isEqualTo(grant);

    clock.set(grant.expiresAt().plus(KeyRing.CLOCK_SKEW));
    assertRefused(token, "expired at " + grant.expiresAt());
  }

  @Test
  void unsignedAlgNoneTokenIsRefused() throws Exception {
    Map<String, Object> claims = Forge.claims(ring.signGrant(grant));
    String token =
        new PlainJWT(
                new com.nimbusds.jose.PlainHeader.Builder().type(new JOSEObjectType(TokenIssuer.GRANT_TYPE)).build(),
                com.nimbusds.jwt.JWTClaimsSet.parse(claims))
            .serialize();

    assertRefused(token, "unsigned (alg none)");
  }

  @Test
  void hs256SignedWithThePublicKeyBytesIsRefused() throws Exception {
    byte[] secret = EC_PAIR.getPublic().getEncoded();
    JWSHeader header =
        new JWSHeader.Builder(JWSAlgorithm.HS256)
            .type(new JOSEObjectType(TokenIssuer.GRANT_TYPE))
            .keyID(EC_JWK.getKeyID())
            .build();
    String token = Forge.sign(new MACSigner(secret), header, Forge.claims(ring.signGrant(grant)));

    assertRefused(token, "signed with 'HS256'");
  }

  @Test
  void algorithmIsPinnedToTheKeyType() {
    // RS256 naming the EC key's kid: no RSA key has that kid, so no key is selected at all.
    String token = ring.signGrant(grant);
    String[] parts = token.split("\\.");
    String header =
        Forge.b64("{\"alg\":\"RS256\",\"typ\":\"jit-grant+jwt\",\"kid\":\"" + EC_JWK.getKeyID() + "\"}");

    assertRefused(header + "." + parts[1] + "." + parts[2], "is not in the JWKS (or not for RS256)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "perms"})
  void missingRequiredClaimIsRefused(String claim) {
    assertRefused(resigned(claims -> claims.remove(claim)), "no " + claim + " claim");
  }

  static Stream<Arguments> wrongTypes() {
    return Stream.of(
        Arguments.of("exp", String.valueOf(T0.plusSeconds(300).getEpochSecond()), "exp claim must be a number"),
        Arguments.of("nbf", "soon", "nbf claim must be a number"),
        Arguments.of("iat", true, "iat claim must be a number"),
        Arguments.of("sub", 42L, "sub claim must be a string"),
        Arguments.of("jti", List.of("grant-1"), "jti claim must be a string"),
        Arguments.of("iss", Map.of("url", ISSUER), "iss claim must be a string"),
        Arguments.of("aud", 5L, "aud claim must be a string or a list of strings"),
        Arguments.of("perms", "view", "perms claim must be a list"),
        Arguments.of("perms", List.of("view"), "each permission must be an object"),
        Arguments.of("perms", List.of(Map.of("role", 5L)), "role must be a string"),
        Arguments.of("perms", List.of(Map.of("role", "view", "ns", List.of("a"))), "ns must be a string"),
        Arguments.of("perms", List.of(Map.of("role", "view", "verbs", "*")), "other than role and ns"),
        Arguments.of("perms", List.of(), "permissions must not be empty"),
        Arguments.of("groups", "devs", "groups claim must be a list of strings"),
        Arguments.of("groups", List.of("devs", 7L), "groups claim must be a list of strings"),
        Arguments.of("just", 5L, "just claim must be a string"));
  }

  @ParameterizedTest
  @MethodSource("wrongTypes")
  void claimOfTheWrongJsonTypeIsRefusedNeverTreatedAsAbsent(String claim, Object value, String reason) {
    assertRefused(resigned(claims -> claims.put(claim, value)), reason);
  }

  @ParameterizedTest
  @ValueSource(strings = {"exp", "sub", "groups", "just"})
  void claimThatIsJsonNullIsRefused(String claim) {
    String token = ring.signGrant(grant);
    String payload = Base64URL.from(token.split("\\.")[1]).decodeToString();
    String edited = payload.replaceFirst("\"" + claim + "\":(\"[^\"]*\"|\\d+|\\[[^\\]]*\\])", "\"" + claim + "\":null");
    assertThat(edited).isNotEqualTo(payload);

    assertRefused(Forge.signRaw(Forge.signer(EC_JWK), grantHeader().build(), edited), "");
  }

  @Test
  void notBeforeOrIssuedAtBeyondTheSkewIsRefused() {
    long limit = T0.plus(KeyRing.CLOCK_SKEW).getEpochSecond();

    assertThat(verifier().verify(resigned(c -> c.put("nbf", limit)))).isNotNull();
    assertRefused(resigned(c -> c.put("nbf", limit + 1)), "not valid before");
    assertRefused(resigned(c -> c.put("iat", limit + 1)), "issued in the future");
  }

  @Test
  void sessionTokenOrAgentCredentialIsNotAGrant() {
    String session = ring.signSessionToken(Subject.of("alice"), "s-1", T0, T0.plusSeconds(600));
    String agent = ring.signAgentCredential("prod-a", "a-1", T0, T0.plusSeconds(600));

    assertRefused(session, "typ is 'jit-session+jwt'");
    assertRefused(agent, "typ is 'jit-agent+jwt'");
  }

  @Test
  void grantWithoutTypOrKidIsRefused() {
    Map<String, Object> claims = Forge.claims(ring.signGrant(grant));
    String noTyp = Forge.sign(Forge.signer(EC_JWK), new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(EC_JWK.getKeyID()).build(), claims);
    String noKid =
        Forge.sign(
            Forge.signer(EC_JWK),
            new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(TokenIssuer.GRANT_TYPE)).build(),
            claims);

    assertRefused(noTyp, "no typ");
    assertRefused(noKid, "no kid");
  }

  @Test
  void grantFromAnotherIssuerIsRefused() {
    KeyRing impostor = KeyRing.of("https://evil.example.com", "jit-access-relay", clock, EC_PAIR);

    assertRefused(impostor.signGrant(grant), "issued by 'https://evil.example.com'");
  }

  @Test
  void keyFromAnEmbeddedJwkHeaderIsNeverUsed() {
    JWK attacker = Forge.jwk(Forge.ecKeyPair());
    for (String kid : List.of(attacker.getKeyID(), EC_JWK.getKeyID())) {
      JWSHeader header = grantHeader().keyID(kid).jwk(attacker.toPublicJWK()).build();
      String token = Forge.sign(Forge.signer(attacker), header, Forge.claims(ring.signGrant(grant)));

      assertRefused(token, "carries a key or key URL");
    }
  }

  @Test
  void jkuAndX5uHeadersAreNeverFetched() {
    JWK attacker = Forge.jwk(Forge.ecKeyPair());
    WireMockServer server = new WireMockServer(options().dynamicPort());
    server.start();
    try {
      server.stubFor(get("/jwks").willReturn(aResponse().withBody(new JWKSet(attacker.toPublicJWK()).toString())));
      URI url = URI.create(server.baseUrl() + "/jwks");
      Map<String, Object> claims = Forge.claims(ring.signGrant(grant));

      String jku = Forge.sign(Forge.signer(attacker), grantHeader().keyID(attacker.getKeyID()).jwkURL(url).build(), claims);
      String x5u = Forge.sign(Forge.signer(attacker), grantHeader().keyID(attacker.getKeyID()).x509CertURL(url).build(), claims);

      assertRefused(jku, "carries a key or key URL");
      assertRefused(x5u, "carries a key or key URL");
      assertThat(server.getAllServeEvents()).isEmpty();
    } finally {
      server.stop();
    }
  }

  @Test
  void encryptedJweTokenIsRefused() throws JOSEException, java.text.ParseException {
    ECKey publicKey = (ECKey) JWKSet.parse(ring.publicJwks()).getKeys().get(0);
    JWEObject jwe =
        new JWEObject(
            new JWEHeader.Builder(JWEAlgorithm.ECDH_ES, EncryptionMethod.A128GCM)
                .type(new JOSEObjectType(TokenIssuer.GRANT_TYPE))
                .keyID(publicKey.getKeyID())
                .build(),
            new Payload(Forge.claims(ring.signGrant(grant))));
    jwe.encrypt(new ECDHEncrypter(publicKey));

    assertRefused(jwe.serialize(), "encrypted (JWE");
  }

  @Test
  void oneMebibyteTokenIsRefusedBeforeAnyParsing() {
    AtomicInteger keyLookups = new AtomicInteger();
    GrantVerifier counting = liveVerifier(countingKeys(keyLookups));
    String huge = "e".repeat(512 * 1024) + "." + "e".repeat(512 * 1024 - 4) + ".e";

    assertRefused(counting, huge, "larger than the limit of 16384 bytes");
    assertThat(keyLookups).hasValue(0);
  }

  @Test
  void claimNestedTenThousandLevelsIsRefusedWithoutStackOverflow() {
    String nested = "[".repeat(10_000) + "]".repeat(10_000);
    String payload = "{\"iss\":\"" + ISSUER + "\",\"deep\":" + nested + "}";
    String token = Forge.signRaw(Forge.signer(EC_JWK), grantHeader().build(), payload);
    GrantVerifier generous =
        GrantVerifier.builder()
            .jwks(ring.publicJwks())
            .issuer(ISSUER)
            .cluster("prod-a")
            .clock(clock)
            .maxTokenSize(1024 * 1024)
            .build();

    assertRefused(token, "larger than the limit");
    assertRefused(generous, token, "payload is not a JSON object");
  }

  @Test
  void headerNestedTenThousandLevelsIsRefusedWithoutStackOverflow() {
    String header = Forge.b64("{\"alg\":\"ES256\",\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}");
    String token = header + "." + Forge.b64("{}") + ".c2ln";
    GrantVerifier generous =
        GrantVerifier.builder().jwks(ring.publicJwks()).issuer(ISSUER).cluster("prod-a").maxTokenSize(1 << 20).build();

    assertRefused(generous, token, "header is not a valid JOSE header");
  }

  static Stream<Arguments> malformed() {
    String header = Forge.b64("{\"alg\":\"ES256\",\"typ\":\"jit-grant+jwt\",\"kid\":\"k\"}");
    String nonUtf8 = Base64URL.encode(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xff, (byte) 0xfe, '"', '}'}).toString();
    return Stream.of(
        Arguments.of("", "empty"),
        Arguments.of(header + ".e30", "3 dot-separated parts"),
        Arguments.of(header + ".e30.c2ln.c2ln", "3 dot-separated parts"),
        Arguments.of(header + ".e30.c2ln.", "3 dot-separated parts"),
        Arguments.of(header + ".e3=.c2ln", "not base64url"),
        Arguments.of(header + ".e30 .c2ln", "not base64url"),
        Arguments.of(header + ".é30.c2ln", "not base64url"),
        Arguments.of(header + ".e30.c", "signature is not canonical base64url"),
        Arguments.of(nonUtf8 + ".e30.c2ln", "header is not valid UTF-8"),
        Arguments.of(header + "." + nonUtf8 + ".c2ln", "payload is not valid UTF-8"),
        Arguments.of(Forge.b64("not json") + ".e30.c2ln", "header is not a valid JOSE header"));
  }

  @ParameterizedTest
  @MethodSource("malformed")
  void malformedTokenIsRefused(String token, String reason) {
    assertRefused(token, reason);
  }

  @Test
  void unknownKidIsRefused() {
    String token = Forge.sign(Forge.signer(EC_JWK), grantHeader().keyID("no-such-key").build(), Forge.claims(ring.signGrant(grant)));

    assertRefused(token, "key id 'no-such-key' is not in the JWKS");
  }

  @Test
  void rotationIsSeenThroughTheLiveKeySourceAndOldGrantsVerifyUntilTheyExpire() {
    GrantVerifier snapshot = verifier();
    GrantVerifier live = liveVerifier(ring::publicKeys);
    String oldToken = ring.signGrant(grant);
    String oldKid = Forge.header(oldToken).getKeyID();

    ring.rotate();
    Grant fresh =
        new Grant("grant-2", grant.subject(), "prod-a", grant.permissions(), T0, T0.plus(Duration.ofMinutes(10)));
    String newToken = ring.signGrant(fresh);

    assertThat(live.verify(oldToken)).isEqualTo(grant);
    assertThat(live.verify(newToken)).isEqualTo(fresh);
    assertRefused(snapshot, newToken, "is not in the JWKS");

    clock.set(grant.expiresAt().plus(KeyRing.CLOCK_SKEW));
    assertThat(ring.publicJwks()).doesNotContain(oldKid);
    assertThat(live.verify(newToken)).isEqualTo(fresh);
    assertRefused(live, oldToken, "");
    assertRefused(liveVerifier(ring::publicKeys), oldToken, "is not in the JWKS");
  }

  @Test
  void repeatedVerificationChecksTheSignatureOnceAndExpiryEveryTime() {
    AtomicInteger keyLookups = new AtomicInteger();
    GrantVerifier counting = liveVerifier(countingKeys(keyLookups));
    String token = ring.signGrant(grant);

    assertThat(counting.verify(token)).isEqualTo(grant);
    assertThat(counting.verify(token)).isEqualTo(grant);
    assertThat(keyLookups).hasValue(1);

    clock.set(grant.expiresAt().plus(KeyRing.CLOCK_SKEW));
    assertRefused(counting, token, "expired");
  }

  @Test
  void verifyIfCachedAnswersOnlyForAGrantAlreadyVerifiedAndNeverChecksASignature() {
    AtomicInteger keyLookups = new AtomicInteger();
    GrantVerifier counting = liveVerifier(countingKeys(keyLookups));
    String token = ring.signGrant(grant);

    assertThat(counting.verifyIfCached(token)).isNull();
    assertThat(counting.verifyIfCached(Forge.flipMiddle(token, 2))).isNull();
    assertThat(counting.verifyIfCached(null)).isNull();
    assertThat(keyLookups).hasValue(0);

    counting.verify(token);
    assertThat(counting.verifyIfCached(token)).isEqualTo(grant);
    assertThat(counting.verifyIfCached(Forge.flipMiddle(token, 2))).isNull();
    assertThat(keyLookups).hasValue(1);

    clock.set(grant.expiresAt().plus(KeyRing.CLOCK_SKEW).minusNanos(1));
    assertThat(counting.verifyIfCached(token)).isEqualTo(grant);
    clock.set(grant.expiresAt().plus(KeyRing.CLOCK_SKEW));
    assertThat(counting.verifyIfCached(token)).isNull(); // forgotten: verify() then refuses it
    assertRefused(counting, token, "expired");
  }

  @Test
  void refusedTokenIsNotCached() {
    AtomicInteger keyLookups = new AtomicInteger();
    GrantVerifier counting = liveVerifier(countingKeys(keyLookups));
    String forged = Forge.flipMiddle(ring.signGrant(grant), 2);

    assertRefused(counting, forged, "signature is invalid");
    assertRefused(counting, forged, "signature is invalid");
    assertThat(keyLookups).hasValue(2);
  }

  @Test
  void builderChecksItsInput() {
    assertThatThrownBy(() -> GrantVerifier.builder().cluster("Prod_A")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GrantVerifier.builder().maxTokenSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxTokenSize must be between 1 and 1048576 bytes but was 0");
    assertThatThrownBy(() -> GrantVerifier.builder().jwks("{\"keys\":[]}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one public");
    assertThatThrownBy(() -> GrantVerifier.builder().issuer("a").issuer("b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("issuer was already set to a");
    assertThatThrownBy(() -> GrantVerifier.builder().jwks(ring.publicJwks()).cluster("prod-a").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("issuer must be set");
  }

  private Supplier<JWKSet> countingKeys(AtomicInteger lookups) {
    return () -> {
      lookups.incrementAndGet();
      return ring.publicKeys();
    };
  }

  private GrantVerifier liveVerifier(Supplier<JWKSet> keys) {
    return GrantVerifier.builder().keySource(keys).issuer(ISSUER).cluster("prod-a").clock(clock).build();
  }
}
