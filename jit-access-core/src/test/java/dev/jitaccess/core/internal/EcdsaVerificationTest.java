package dev.jitaccess.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import dev.jitaccess.api.AuthenticationException;
import java.security.Provider;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ES256 signatures are checked by Bouncy Castle when it is on the class path, and the answers are the same as
 * the JDK's for honest and forged signatures alike.
 */
final class EcdsaVerificationTest {
  private static final Instant NOW = Instant.parse("2030-01-01T10:00:00Z");
  private static final String ISSUER = "https://jit.example.com";
  private static final ECKey KEY = generate("k1");
  private static final ECKey OTHER_KEY = generate("k1"); // same kid, different key

  @Test
  void bouncyCastleChecksEs256WhenItIsOnTheClassPathAndTheJdkWouldUseSunEc() {
    Provider provider = EcdsaVerification.provider();
    assertThat(provider).isNotNull();
    assertThat(provider.getName()).isEqualTo("BC");
  }

  @Test
  void validatorsUseTheChosenProviderByDefault() {
    JwtRules rules = JwtRules.engineToken("grant", "jit-grant+jwt", ISSUER, "a", InstantSource.fixed(NOW), 1024);
    JwtValidator validator =
        new JwtValidator(rules, KeySources.fromJson(new JWKSet(KEY.toPublicJWK()).toString(), "test"), 0);
    assertThat(validator.ecdsaProvider()).isSameAs(EcdsaVerification.provider());
  }

  @Test
  void thePropertySetToFalseKeepsTheJdkProvider() {
    assertThat(EcdsaVerification.choose(" FALSE ", "SunEC")).isNull();
    assertThat(EcdsaVerification.choose("", "SunEC")).isNotNull();
    assertThat(EcdsaVerification.choose("true", "SunEC")).isNotNull();
  }

  @Test
  void aProviderTheOperatorPutFirstIsKept() {
    assertThat(EcdsaVerification.choose("", "SunPKCS11-NSS-FIPS")).isNull();
    assertThat(EcdsaVerification.choose("", null)).isNull();
  }

  @Test
  void theProviderIsNeverRegisteredWithTheJvm() {
    assertThat(java.security.Security.getProvider("BC")).isNull();
  }

  static Stream<Arguments> providers() {
    return Stream.of(
        Arguments.of("the JDK's default", null),
        Arguments.of("Bouncy Castle", EcdsaVerification.provider()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void anHonestSignatureIsAccepted(String name, @Nullable Provider provider) throws Exception {
    assertThat(validator(provider).validate(token(KEY)).getSubject()).isEqualTo("alice");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void aSignatureByAnotherKeyIsRefused(String name, @Nullable Provider provider) throws Exception {
    assertRefused(provider, token(OTHER_KEY));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void aChangedPayloadIsRefused(String name, @Nullable Provider provider) throws Exception {
    String[] parts = token(KEY).split("\\.");
    String forged =
        Base64URL.encode(new Base64URL(parts[1]).decodeToString().replace("alice", "admin")).toString();
    assertRefused(provider, parts[0] + "." + forged + "." + parts[2]);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void aChangedSignatureIsRefused(String name, @Nullable Provider provider) throws Exception {
    String[] parts = token(KEY).split("\\.");
    byte[] signature = new Base64URL(parts[2]).decode();
    signature[10] ^= 0x01;
    assertRefused(provider, parts[0] + "." + parts[1] + "." + Base64URL.encode(signature));
  }

  /** CVE-2022-21449 ("psychic signatures"): r = s = 0 verified for any message on some JDKs. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void anAllZeroSignatureIsRefused(String name, @Nullable Provider provider) throws Exception {
    String[] parts = token(KEY).split("\\.");
    assertRefused(provider, parts[0] + "." + parts[1] + "." + Base64URL.encode(new byte[64]));
  }

  /** r = s = n, the curve order: reduces to zero in arithmetic that forgets to range-check. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void aSignatureOfTheCurveOrderIsRefused(String name, @Nullable Provider provider) throws Exception {
    byte[] n = toFixed(Curve.P_256.toECParameterSpec().getOrder().toByteArray());
    byte[] signature = Arrays.copyOf(n, 64);
    System.arraycopy(n, 0, signature, 32, 32);
    String[] parts = token(KEY).split("\\.");
    assertRefused(provider, parts[0] + "." + parts[1] + "." + Base64URL.encode(signature));
  }

  private static void assertRefused(@Nullable Provider provider, String token) {
    assertThatThrownBy(() -> validator(provider).validate(token))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("signature is invalid");
  }

  private static JwtValidator validator(@Nullable Provider provider) {
    JwtRules rules =
        JwtRules.engineToken(
            "grant", "jit-grant+jwt", ISSUER, "cluster-a", InstantSource.fixed(NOW), 16 * 1024);
    String jwks = new JWKSet(KEY.toPublicJWK()).toString();
    return new JwtValidator(rules, KeySources.fromJson(jwks, "test JWKS"), 0, provider);
  }

  private static String token(ECKey key) throws Exception {
    JWSObject jws =
        new JWSObject(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(key.getKeyID())
                .type(new JOSEObjectType("jit-grant+jwt"))
                .build(),
            new Payload(
                Map.of(
                    "iss", ISSUER,
                    "aud", "cluster-a",
                    "sub", "alice",
                    "jti", "g1",
                    "iat", NOW.getEpochSecond() - 10,
                    "nbf", NOW.getEpochSecond() - 10,
                    "exp", NOW.getEpochSecond() + 300)));
    jws.sign(new ECDSASigner(key));
    return jws.serialize();
  }

  private static ECKey generate(String kid) {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] toFixed(byte[] unsigned) {
    byte[] out = new byte[32];
    int copy = Math.min(32, unsigned.length);
    System.arraycopy(unsigned, unsigned.length - copy, out, 32 - copy, copy);
    return out;
  }
}
