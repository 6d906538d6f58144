package dev.jitaccess.core.internal;

import com.nimbusds.jose.JWSAlgorithm;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link JwtValidator} accepts. Immutable.
 *
 * @param kind what the token is called in messages ("grant", "session token", ...)
 * @param algorithms the accepted JWS algorithms (never none or HMAC)
 * @param types the accepted {@code typ} values, compared as media types (case-insensitive, the
 *     {@code application/} prefix optional)
 * @param typeOptional whether a token without {@code typ} is accepted
 * @param keyIdRequired whether the header must name its key
 * @param issuer the one trusted {@code iss}
 * @param audience the {@code aud} value that must be present
 * @param requiredClaims claims that must be present besides iss, aud and exp
 * @param clock the time source
 * @param maxTokenSize the size cap in bytes, checked before anything else
 */
public record JwtRules(
    String kind,
    Set<JWSAlgorithm> algorithms,
    Set<String> types,
    boolean typeOptional,
    boolean keyIdRequired,
    String issuer,
    String audience,
    Set<String> requiredClaims,
    InstantSource clock,
    int maxTokenSize) {

  /** The algorithms of the engine's own tokens: ES256 for P-256 keys, RS256 for RSA keys. */
  public static final Set<JWSAlgorithm> ENGINE_ALGORITHMS = Set.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256);

  /** Validates and normalizes the components. */
  public JwtRules {
    Objects.requireNonNull(kind, "kind");
    algorithms = Set.copyOf(algorithms);
    for (JWSAlgorithm alg : algorithms) {
      if (!JWSAlgorithm.Family.EC.contains(alg) && !JWSAlgorithm.Family.RSA.contains(alg)) {
        throw new IllegalArgumentException("only RSA and EC signature algorithms may be accepted but got " + alg);
      }
    }
    types = types.stream().map(JwtRules::normalizeType).collect(Collectors.toUnmodifiableSet());
    Objects.requireNonNull(issuer, "issuer");
    Objects.requireNonNull(audience, "audience");
    requiredClaims = Set.copyOf(requiredClaims);
    Objects.requireNonNull(clock, "clock");
    if (maxTokenSize < 1 || maxTokenSize > JwtValidator.MAX_TOKEN_SIZE_LIMIT) {
      throw new IllegalArgumentException(
          "maxTokenSize must be between 1 and " + JwtValidator.MAX_TOKEN_SIZE_LIMIT + " but was " + maxTokenSize);
    }
  }

  /**
   * Rules for one of the engine's own token types: ES256/RS256, exact {@code typ}, {@code kid} required, and
   * sub, jti, iat and nbf required besides iss, aud and exp.
   */
  public static JwtRules engineToken(
      String kind, String type, String issuer, String audience, InstantSource clock, int maxTokenSize) {
    return new JwtRules(
        kind, ENGINE_ALGORITHMS, Set.of(type), false, true, issuer, audience,
        Set.of("sub", "jti", "iat", "nbf"), clock, maxTokenSize);
  }

  /** The accepted algorithm names, sorted, for messages. */
  public List<String> algorithmNames() {
    return algorithms.stream().map(JWSAlgorithm::getName).sorted().toList();
  }

  void checkType(@Nullable String typ, JwtValidator validator) {
    if (typ == null) {
      if (!typeOptional) {
        throw validator.reject("its header has no typ; expected " + types);
      }
      return;
    }
    if (!types.contains(normalizeType(typ))) {
      throw validator.reject("its typ is '" + TokenText.printable(typ) + "' but " + types + " is expected");
    }
  }

  private static String normalizeType(String typ) {
    String lower = typ.toLowerCase(Locale.ROOT);
    return lower.startsWith("application/") ? lower.substring("application/".length()) : lower;
  }
}
