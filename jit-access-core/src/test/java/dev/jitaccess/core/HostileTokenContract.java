package dev.jitaccess.core;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeout;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
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
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.PasswordBasedEncrypter;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.testkit.MutableInstantSource;
import dev.jitaccess.testkit.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * SECURITY.md items 9 to 15 for a verifier of signed JWTs other than {@link GrantVerifier} (which has its own
 * tests): every subclass names one verifier, how an honest token for it looks, and every other path that uses
 * the same verifier (the engine). Each hostile token must be refused with an {@link AuthenticationException}
 * whose message names the reason and holds no token material; no log line may hold token material either, a
 * refusal logs nothing at WARN or above, and no cache remembers a refused token.
 *
 * <p>The trusted signing key is an EC P-256 key ({@link #TRUSTED}); the honest token is signed ES256 with it. Every
 * hostile token is built from the honest one, so only the one hostile property can be why it is refused.
 */
abstract class HostileTokenContract {
  static final Instant T0 = Instant.parse("2030-01-01T10:00:00Z");
  static final KeyPair TRUSTED_PAIR = Forge.ecKeyPair();
  static final JWK TRUSTED = Forge.jwk(TRUSTED_PAIR);
  static final JWK ATTACKER = Forge.jwk(Forge.ecKeyPair());
  static final Duration FAST = Duration.ofSeconds(1);
  static final String CLUSTER = "prod";
  private static final String PLACEHOLDER = "__replaced__";

  /** Serves the attacker's keys and certificates; no verifier may ever ask it for anything. */
  @RegisterExtension
  static final WireMockExtension ATTACKER_SERVER =
      WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

  final MutableInstantSource clock = MutableInstantSource.at(T0);
  final Policy policy = new Policy();
  final RecordingSink sink = new RecordingSink();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final List<Logger> capturing = new ArrayList<>();

  // ------------------------------------------------------------------------------- what a subclass provides

  /** What the verifier calls the token in its messages ("OIDC token", "session token", ...). */
  abstract String kind();

  /** The {@code typ} of an honest token. */
  abstract JOSEObjectType type();

  /** The claims of an honest token: issued at {@link #T0}, valid for 5 minutes. */
  abstract Map<String, Object> honestClaims();

  /** The claims without which a token is refused. */
  abstract List<String> requiredClaims();

  /** The trusted issuer. */
  abstract String issuer();

  /** The audience the verifier requires. */
  abstract String audience();

  /** Verifies the token with the verifier under test; throws what its javadoc says. */
  abstract Object verify(@Nullable String token);

  /** How many times the verifier under test has asked for (or fetched) its keys so far. */
  abstract int keyLookups();

  /** The token is refused on every other path through the same verifier (the engine), and remembered by none. */
  abstract void assertRefusedElsewhere(String token);

  /** The honest token is accepted on every other path through the same verifier. */
  abstract void assertAcceptedElsewhere(String token);

  /** The public keys an attacker can read (the verifier's JWKS), as HMAC secrets in the HS256 confusion attack. */
  List<PublicKey> publishedKeys() {
    return List.of(TRUSTED_PAIR.getPublic());
  }

  // ------------------------------------------------------------------------------- the contract

  @Test
  void honestTokenIsAcceptedAndItsLogLineHoldsNoTokenMaterial() {
    String token = honest();

    assertThat(verify(token)).isNotNull();
    assertAcceptedElsewhere(token);

    List<ILoggingEvent> accepted =
        logged().stream().filter(e -> e.getFormattedMessage().startsWith("Accepted " + kind())).toList();
    assertThat(accepted).as("the acceptance is logged at DEBUG, so the log capture works").isNotEmpty();
    assertNoTokenMaterialLogged(token);
  }

  @ParameterizedTest
  @CsvSource({
    "none, unsigned (alg none)",
    "None, signed with 'None' but only",
    "NONE, signed with 'NONE' but only",
    "nOnE, signed with 'nOnE' but only",
  })
  void unsignedTokenIsRefusedBeforeAnyKeyIsLookedUp(String alg, String reason) {
    String[] parts = honest().split("\\.");
    String header = json("alg", alg, "typ", type().getType());
    int lookups = keyLookups();

    assertRefused(Forge.b64(header) + "." + parts[1] + ".", reason);
    assertRefused(Forge.b64(header) + "." + parts[1] + "." + parts[2], reason);
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void hmacSignedWithAPublishedKeyIsRefusedBeforeAnyKeyIsLookedUp() throws JOSEException {
    List<byte[]> secrets = new ArrayList<>();
    for (PublicKey key : publishedKeys()) {
      secrets.add(key.getEncoded());
      secrets.add(pem(key).getBytes(StandardCharsets.US_ASCII));
    }
    secrets.add(publishedJwks().getBytes(StandardCharsets.UTF_8));
    int lookups = keyLookups();

    for (byte[] secret : secrets) {
      for (JWSAlgorithm hmac : List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512)) {
        if (secret.length * 8 < minimumHmacBits(hmac)) {
          continue;
        }
        JWSHeader header = new JWSHeader.Builder(hmac).type(type()).keyID(TRUSTED.getKeyID()).build();
        String token = Forge.sign(new MACSigner(secret), header, honestClaims());

        assertRefused(token, "signed with '" + hmac.getName() + "'");
      }
    }
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void algorithmIsPinnedToTheKeyType() {
    String[] parts = honest().split("\\.");
    String rs256 = json("alg", "RS256", "typ", type().getType(), "kid", TRUSTED.getKeyID());

    assertRefused(Forge.b64(rs256) + "." + parts[1] + "." + parts[2], "is not in the JWKS (or not for RS256)");
  }

  @Test
  void tokenMissingARequiredClaimIsRefused() {
    for (String claim : requiredClaims()) {
      assertRefused(resigned(c -> c.remove(claim)), "no " + claim + " claim", "without " + claim);
    }
  }

  @Test
  void tokenFromAnotherIssuerIsRefused() {
    for (String iss :
        List.of("https://evil.example.com", issuer() + "/", issuer().toUpperCase(Locale.ROOT),
            " " + issuer(), "")) {
      assertRefused(resigned(c -> c.put("iss", iss)), "not by the trusted issuer", "iss '" + iss + "'");
    }
  }

  @Test
  void tokenForAnotherAudienceIsRefused() {
    for (Object aud :
        List.of("someone-else", List.of("someone-else", "another"), audience() + "x",
            audience().toUpperCase(Locale.ROOT))) {
      assertRefused(resigned(c -> c.put("aud", aud)), "not for '" + audience() + "'", "aud " + aud);
    }
    assertRefused(resigned(c -> c.put("aud", List.of())), "no aud claim", "aud []");
  }

  @ParameterizedTest
  @CsvSource({
    "exp, '\"1893492300\"', exp claim must be a number",
    "exp, true, exp claim must be a number",
    "exp, '[1893492300]', exp claim must be a number",
    "exp, '{\"t\":1893492300}', exp claim must be a number",
    "exp, null, exp claim must be a number",
    "nbf, '\"1893492000\"', nbf claim must be a number",
    "iat, '\"1893492000\"', iat claim must be a number",
    "sub, 42, sub claim must be a string",
    "sub, '[\"alice\"]', sub claim must be a string",
    "iss, '[\"https://evil.example.com\"]', iss claim must be a string",
    "jti, 7, jti claim must be a string",
    "aud, 5, aud claim must be a string or a list of strings",
    "aud, '[5]', aud claim must be a string or a list of strings",
  })
  void claimOfTheWrongJsonTypeIsRefusedNeverTreatedAsAbsent(String claim, String jsonValue, String reason) {
    Map<String, Object> claims = honestClaims();
    claims.put(claim, PLACEHOLDER);
    String payload = JSONObjectUtils.toJSONString(claims).replace("\"" + PLACEHOLDER + "\"", jsonValue);

    assertRefused(Forge.signRaw(Forge.signer(TRUSTED), header().build(), payload), reason);
  }

  @Test
  void notBeforeOrIssuedAtBeyondTheSixtySecondSkewIsRefused() {
    long limit = T0.plusSeconds(60).getEpochSecond();

    assertThat(verify(resigned(c -> c.put("nbf", limit)))).isNotNull();
    assertThat(verify(resigned(c -> c.put("iat", limit)))).isNotNull();
    assertRefused(resigned(c -> c.put("nbf", limit + 1)), "not valid before");
    assertRefused(resigned(c -> c.put("iat", limit + 1)), "issued in the future");
    assertRefused(resigned(c -> c.put("nbf", T0.plus(Duration.ofDays(365)).getEpochSecond())), "not valid before");
  }

  @Test
  void tokenIsRefusedFromSixtySecondsAfterItsExpiry() {
    String token = honest();
    Instant exp = Instant.ofEpochSecond(((Number) honestClaims().get("exp")).longValue());

    clock.set(exp.plusSeconds(60).minusMillis(1));
    assertThat(verify(token)).isNotNull();
    clock.set(exp.plusSeconds(60));
    assertRefused(token, "expired at " + exp);
  }

  @Test
  void keyEmbeddedInTheHeaderIsNeverUsed() {
    int lookups = keyLookups();
    for (String kid : List.of(ATTACKER.getKeyID(), TRUSTED.getKeyID())) {
      JWSHeader header = header().keyID(kid).jwk(ATTACKER.toPublicJWK()).build();

      String token = Forge.sign(Forge.signer(ATTACKER), header, honestClaims());

      assertRefused(token, "carries a key or key URL", "jwk, kid " + kid);
    }
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void keyUrlsInTheHeaderAreNeverFetched() {
    ATTACKER_SERVER.stubFor(
        any(anyUrl()).willReturn(aResponse().withBody(new JWKSet(ATTACKER.toPublicJWK()).toString())));
    URI url = URI.create(ATTACKER_SERVER.baseUrl() + "/jwks");
    int lookups = keyLookups();

    for (String kid : List.of(ATTACKER.getKeyID(), TRUSTED.getKeyID())) {
      String jku = Forge.sign(Forge.signer(ATTACKER), header().keyID(kid).jwkURL(url).build(), honestClaims());
      String x5u = Forge.sign(Forge.signer(ATTACKER), header().keyID(kid).x509CertURL(url).build(), honestClaims());

      assertRefused(jku, "carries a key or key URL", "jku, kid " + kid);
      assertRefused(x5u, "carries a key or key URL", "x5u, kid " + kid);
    }
    assertThat(ATTACKER_SERVER.getAllServeEvents()).as("requests to the attacker's server").isEmpty();
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void certificateChainInTheHeaderIsNeverUsed() throws CertificateEncodingException, JOSEException {
    TestCertificates attacker = TestCertificates.create("attacker");
    List<Base64> chain = new ArrayList<>();
    for (X509Certificate certificate : attacker.serverChain()) {
      chain.add(Base64.encode(certificate.getEncoded()));
    }
    ECDSASigner signer = new ECDSASigner((ECPrivateKey) attacker.serverKey());
    int lookups = keyLookups();

    for (String kid : List.of("attacker", TRUSTED.getKeyID())) {
      JWSHeader header = header().keyID(kid).x509CertChain(chain).build();

      assertRefused(Forge.sign(signer, header, honestClaims()), "carries a key or key URL", "x5c, kid " + kid);
    }
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void tokenEncryptedToThePublishedKeyIsRefused() throws Exception {
    JWEObject jwe =
        new JWEObject(
            new JWEHeader.Builder(JWEAlgorithm.ECDH_ES, EncryptionMethod.A128GCM)
                .type(type())
                .keyID(TRUSTED.getKeyID())
                .build(),
            new Payload(honestClaims()));
    jwe.encrypt(new ECDHEncrypter(TRUSTED.toECKey().toPublicJWK()));
    int lookups = keyLookups();

    assertRefused(jwe.serialize(), "encrypted (JWE");
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void pbes2TokenWithTenMillionIterationsIsRefusedFastWithoutDerivingAKey() throws Exception {
    JWEObject jwe =
        new JWEObject(
            new JWEHeader.Builder(JWEAlgorithm.PBES2_HS512_A256KW, EncryptionMethod.A256GCM).type(type()).build(),
            new Payload(honestClaims()));
    jwe.encrypt(new PasswordBasedEncrypter(publishedJwks(), 16, 1000));
    Base64URL hugeCount = new JWEHeader.Builder(jwe.getHeader()).pbes2Count(10_000_000).build().toBase64URL();
    String[] parts = jwe.serialize().split("\\.");
    String fiveParts = hugeCount + "." + String.join(".", List.of(parts).subList(1, 5));
    String threeParts = hugeCount + "." + Forge.b64(JSONObjectUtils.toJSONString(honestClaims())) + "." + parts[4];
    verify(honest()); // class loading and the first key fetch are not what is timed
    int lookups = keyLookups();

    assertThat(Base64URL.from(fiveParts.split("\\.")[0]).decodeToString()).contains("\"p2c\":10000000");
    assertRefusedFast(fiveParts, "encrypted (JWE, 5 parts)");
    assertRefusedFast(threeParts, "encrypted (JWE)");
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void claimNestedTenThousandLevelsIsRefusedFastWithoutStackOverflow() {
    // Unclosed, so that it fits under the 16 KiB cap and reaches the JSON parser: the parser must give up
    // on the depth, not on the missing brackets at the end.
    String payload =
        JSONObjectUtils.toJSONString(honestClaims()).replaceFirst("}$", ",\"deep\":" + "[".repeat(10_000));
    String token = Forge.signRaw(Forge.signer(TRUSTED), header().build(), payload);
    verify(honest());

    assertThat(token.length()).isLessThan(16 * 1024);
    assertRefusedFast(token, "payload is not a JSON object");
  }

  @Test
  void headerNestedTenThousandLevelsIsRefusedFastWithoutStackOverflowBeforeAnyKeyIsLookedUp() {
    String[] parts = honest().split("\\.");
    String header =
        "{\"alg\":\"ES256\",\"typ\":\"" + type().getType() + "\",\"kid\":\"" + TRUSTED.getKeyID() + "\",\"x\":"
            + "[".repeat(10_000);
    String token = Forge.b64(header) + "." + parts[1] + "." + parts[2];
    verify(honest());
    int lookups = keyLookups();

    assertThat(token.length()).isLessThan(16 * 1024);
    assertRefusedFast(token, "header is not a valid JOSE header");
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void oversizedTokenIsRefusedBeforeAnyParsing() {
    String[] parts = honest().split("\\.");
    int around = parts[0].length() + parts[2].length() + 2;
    String mebibyte = parts[0] + "." + "A".repeat(1024 * 1024 - around) + "." + parts[2];
    String justOver = parts[0] + "." + "A".repeat(16 * 1024 + 1 - around) + "." + parts[2];
    String nonAscii = "é".repeat(1024 * 1024);
    int lookups = keyLookups();

    assertThat(mebibyte).hasSize(1024 * 1024);
    assertThat(justOver).hasSize(16 * 1024 + 1);
    assertRefused(mebibyte, "larger than the limit of 16384 bytes");
    assertRefused(justOver, "larger than the limit of 16384 bytes");
    assertRefused(nonAscii, "larger than the limit of 16384 bytes");
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void malformedTokenIsRefusedBeforeAnyKeyIsLookedUp() {
    String[] p = honest().split("\\.");
    String headerJson = Base64URL.from(p[0]).decodeToString();
    String payloadJson = Base64URL.from(p[1]).decodeToString();
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put(p[0] + "." + p[1], "3 dot-separated parts (a compact JWS) but had 2");
    cases.put(p[0] + p[1] + p[2], "3 dot-separated parts (a compact JWS) but had 1");
    cases.put(p[0] + "." + p[1] + "." + p[2] + ".", "but had 4");
    cases.put("." + p[0] + "." + p[1] + "." + p[2], "but had 4");
    cases.put(p[0] + "." + p[1] + "." + p[2] + "." + p[2], "but had 4");
    cases.put(p[0] + "." + p[1] + "." + p[2] + "." + p[2] + "." + p[2] + "." + p[2], "but had 6");
    cases.put(p[0] + ".." + p[1] + "." + p[2], "but had 4");
    cases.put("Bearer " + p[0] + "." + p[1] + "." + p[2], "not base64url at position 6");
    cases.put(p[0] + "." + p[1] + "." + p[2] + "==", "not base64url");
    cases.put(p[0] + "." + p[1] + "=." + p[2], "not base64url");
    cases.put(p[0] + "." + p[1] + "." + p[2].replace('-', '+').replace('_', '/') + "+/", "not base64url");
    cases.put(p[0] + "." + p[1] + " ." + p[2], "not base64url");
    cases.put(p[0] + "." + p[1] + "\n." + p[2], "not base64url");
    cases.put(p[0] + "." + p[1] + "\u0000." + p[2], "not base64url");
    cases.put(p[0] + "." + p[1] + "%2E" + p[2], "not base64url");
    cases.put(p[0] + "." + "é" + p[1] + "." + p[2], "not base64url");
    cases.put(p[0] + "." + p[1] + "." + p[2] + "\u200b", "not base64url");
    cases.put(Forge.flipLastBit(honest(), 2), "signature is not canonical base64url");
    // A part whose length is 1 modulo 4 encodes no whole byte.
    String payloadOneTooLong = p[1] + "A".repeat(Math.floorMod(1 - p[1].length(), 4));
    String signatureOneTooLong = p[2] + "A".repeat(Math.floorMod(1 - p[2].length(), 4));
    cases.put(p[0] + "." + payloadOneTooLong + "." + p[2], "payload is not canonical base64url");
    cases.put(p[0] + "." + p[1] + "." + signatureOneTooLong, "signature is not canonical base64url");
    cases.put(nonUtf8(headerJson, 0xff) + "." + p[1] + "." + p[2], "header is not valid UTF-8");
    cases.put(nonUtf8(headerJson, 0xc0, 0xaf) + "." + p[1] + "." + p[2], "header is not valid UTF-8");
    cases.put(p[0] + "." + nonUtf8(payloadJson, 0x80) + "." + p[2], "payload is not valid UTF-8");
    cases.put(p[0] + "." + nonUtf8(payloadJson, 0xed, 0xa0, 0x80) + "." + p[2], "payload is not valid UTF-8");
    cases.put(p[0] + "." + nonUtf8(payloadJson, 0xf8, 0x88, 0x80, 0x80, 0x80) + "." + p[2],
        "payload is not valid UTF-8");
    cases.put(Forge.b64("not json") + "." + p[1] + "." + p[2], "header is not a valid JOSE header");
    cases.put(Forge.b64("[" + headerJson + "]") + "." + p[1] + "." + p[2], "header is not a valid JOSE header");
    cases.put(Forge.b64(json("typ", type().getType())) + "." + p[1] + "." + p[2], "header is not a valid JOSE header");
    int lookups = keyLookups();

    cases.forEach((token, reason) -> assertRefused(token, reason, printable(token)));
    assertThat(keyLookups()).isEqualTo(lookups);
  }

  @Test
  void payloadThatIsNotAJsonObjectIsRefusedEvenWhenSigned() {
    for (String payload : List.of("not json", "\"" + issuer() + "\"", "42", "{\"iss\":", "")) {
      String token = Forge.signRaw(Forge.signer(TRUSTED), header().build(), payload);

      assertRefused(token, "payload is not a JSON object", "payload " + payload);
    }
  }

  @Test
  void headerThatIsJsonNullIsRefusedWithAnAuthenticationException() {
    String[] p = honest().split("\\.");

    assertRefused(Forge.b64("null") + "." + p[1] + "." + p[2], "header is not a valid JOSE header");
  }

  @Test
  void payloadThatIsJsonNullIsRefusedWithAnAuthenticationException() {
    assertRefused(Forge.signRaw(Forge.signer(TRUSTED), header().build(), "null"), "payload is not a JSON object");
  }

  @Test
  void payloadThatIsAJsonArrayOfNameValuePairsIsNotAClaimsSet() {
    List<List<Object>> pairs = new ArrayList<>();
    honestClaims().forEach((name, value) -> pairs.add(List.of(name, value)));
    String payload =
        JSONObjectUtils.toJSONString(Map.of("x", pairs)).replaceFirst("^\\{\"x\":", "").replaceFirst("}$", "");

    assertThat(payload).startsWith("[[\"");
    assertRefused(Forge.signRaw(Forge.signer(TRUSTED), header().build(), payload), "payload is not a JSON object");
    assertRefused(Forge.signRaw(Forge.signer(TRUSTED), header().build(), "[]"), "payload is not a JSON object");
  }

  @Test
  void duplicateMembersAreRefusedRatherThanOneOfThemChosen() {
    String[] p = honest().split("\\.");
    String headerJson = Base64URL.from(p[0]).decodeToString();
    String twoAlgs = headerJson.replaceFirst("^\\{", "{\"alg\":\"none\",");
    String payloadJson = JSONObjectUtils.toJSONString(honestClaims());
    String twoIssuers = payloadJson.replaceFirst("^\\{", "{\"iss\":\"https://evil.example.com\",");
    long inTenYears = T0.plus(Duration.ofDays(3650)).getEpochSecond();
    String twoExpiries = payloadJson.replaceFirst("^\\{", "{\"exp\":" + inTenYears + ",");

    assertRefused(Forge.b64(twoAlgs) + "." + p[1] + "." + p[2], "header is not a valid JOSE header");
    assertRefused(Forge.signRaw(Forge.signer(TRUSTED), header().build(), twoIssuers), "payload is not a JSON object");
    assertRefused(Forge.signRaw(Forge.signer(TRUSTED), header().build(), twoExpiries), "payload is not a JSON object");
  }

  @Test
  void nullOrEmptyTokenIsRefused() {
    assertThat(catchThrowable(() -> verify(null)))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage(kind() + " rejected: it is empty");
    assertRefused("", "it is empty");
  }

  // ------------------------------------------------------------------------------- helpers

  /** The honest token's header, to edit. */
  JWSHeader.Builder header() {
    return new JWSHeader.Builder(JWSAlgorithm.ES256).type(type()).keyID(TRUSTED.getKeyID());
  }

  /** An honest token, signed with the trusted key. */
  String honest() {
    return Forge.sign(Forge.signer(TRUSTED), header().build(), honestClaims());
  }

  /** The honest claims, edited, signed with the trusted key: only the claim checks can refuse the token. */
  String resigned(Consumer<Map<String, Object>> edit) {
    Map<String, Object> claims = honestClaims();
    edit.accept(claims);
    return Forge.sign(Forge.signer(TRUSTED), header().build(), claims);
  }

  /** The JWKS as an attacker reads it. */
  String publishedJwks() {
    return new JWKSet(TRUSTED.toPublicJWK()).toString();
  }

  void assertRefused(String token, String reason) {
    assertRefused(token, reason, "token");
  }

  /**
   * The verifier refuses the token with an {@link AuthenticationException} naming the reason and no token
   * material; so does every other path through it; and what was logged meanwhile holds no token material and
   * nothing at WARN or above.
   */
  void assertRefused(String token, String reason, String description) {
    int logged = logged().size();
    Throwable thrown = catchThrowable(() -> verify(token));

    assertThat(thrown)
        .as("refusal of " + description)
        .isInstanceOf(AuthenticationException.class)
        .hasMessageStartingWith(kind() + " rejected: ")
        .hasMessageContaining(reason);
    Forge.assertNoTokenMaterial(thrown, token);
    assertRefusedElsewhere(token);
    assertNoTokenMaterialLogged(token);
    assertThat(logged().subList(logged, logged().size()))
        .as("log events at WARN or above while refusing " + description)
        .noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN));
  }

  /** {@link #assertRefused}, and the first verification took less than {@link #FAST}. */
  void assertRefusedFast(String token, String reason) {
    Throwable thrown = assertTimeout(FAST, () -> catchThrowable(() -> verify(token)));
    assertThat(thrown).isInstanceOf(AuthenticationException.class);
    assertRefused(token, reason);
  }

  /** The engine refuses the token, audits the refusal without token material and caches nothing. */
  void assertTheEngineRefuses(JitAccess engine, String token) {
    int policyCalls = policy.calls.get();
    int events = sink.events.size();
    Throwable thrown = catchThrowable(() -> engine.authorize(token, CLUSTER));

    assertThat(thrown).as("engine.authorize").isInstanceOf(AuthenticationException.class);
    Forge.assertNoTokenMaterial(thrown, token);
    assertThat(engine.authorizeIfCached(token, CLUSTER)).as("cached after a refusal").isEmpty();
    assertThat(policy.calls).as("policy evaluations").hasValue(policyCalls);
    List<AuditEvent> audited = sink.events.subList(events, sink.events.size());
    assertThat(audited).singleElement().extracting(AuditEvent::type).isEqualTo(AuditEvent.Type.AUTHENTICATION_FAILED);
    AuditEvent event = audited.get(0);
    Forge.assertNoTokenMaterial(String.valueOf(event.detail()), token);
    Forge.assertNoTokenMaterial(event.attributes().toString(), token);
  }

  /** The engine accepts the token and remembers its authentication. */
  void assertTheEngineAccepts(JitAccess engine, String token) {
    assertThat(engine.authorize(token, CLUSTER).cluster()).isEqualTo(CLUSTER);
    assertThat(engine.authorizeIfCached(token, CLUSTER)).isPresent();
  }

  private void assertNoTokenMaterialLogged(String token) {
    for (ILoggingEvent event : logged()) {
      Forge.assertNoTokenMaterial(event.getFormattedMessage(), token);
      if (event.getThrowableProxy() != null) {
        Forge.assertNoTokenMaterial(ThrowableProxyUtil.asString(event.getThrowableProxy()), token);
      }
    }
  }

  private List<ILoggingEvent> logged() {
    synchronized (logs) {
      return List.copyOf(logs.list);
    }
  }

  @BeforeEach
  void captureLogs() {
    logs.start();
    for (String name : List.of("dev.jitaccess", "com.nimbusds")) {
      Logger logger = (Logger) LoggerFactory.getLogger(name);
      logger.setLevel(Level.TRACE);
      logger.setAdditive(false);
      logger.addAppender(logs);
      capturing.add(logger);
    }
  }

  @AfterEach
  void releaseLogs() {
    for (Logger logger : capturing) {
      logger.detachAppender(logs);
      logger.setLevel(null);
      logger.setAdditive(true);
    }
    logs.stop();
  }

  private static int minimumHmacBits(JWSAlgorithm hmac) {
    return Integer.parseInt(hmac.getName().substring(2));
  }

  static JWKSet jwks(String json) {
    try {
      return JWKSet.parse(json);
    } catch (java.text.ParseException e) {
      throw new IllegalStateException(e);
    }
  }

  static String json(String... namesAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return JSONObjectUtils.toJSONString(map);
  }

  private static String pem(PublicKey key) {
    return "-----BEGIN PUBLIC KEY-----\n"
        + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  /** The JSON's UTF-8 bytes with the given bytes (not valid UTF-8) inserted after the first quote, base64url. */
  private static String nonUtf8(String json, int... bytes) {
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    int at = json.indexOf('"') + 1;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(utf8, 0, at);
    for (int b : bytes) {
      out.write(b);
    }
    out.write(utf8, at, utf8.length - at);
    return Base64URL.encode(out.toByteArray()).toString();
  }

  private static String printable(String token) {
    String shown = token.length() > 40 ? token.substring(0, 20) + "..." + token.substring(token.length() - 20) : token;
    return shown.replace("\n", "\\n").replace("\u0000", "\\0");
  }
}
