package dev.jitaccess.core.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.JitAccessException;
import java.security.Provider;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where signed JWTs are checked, for grants, session tokens, agent credentials and OIDC tokens
 * alike, in this order: size cap (before anything else), base64url alphabet and exactly three canonical parts,
 * strict UTF-8, header (no {@code none}, no JWE, algorithm on the allow-list, no {@code jku/jwk/x5u/x5c}, no
 * {@code crit}, {@code typ}, {@code kid}), key selection with the algorithm pinned to the key type and curve,
 * signature, then claims with strict JSON types, exact issuer, audience and times with {@link
 * KeyRing#CLOCK_SKEW}. Claims are parsed only after the signature verified.
 *
 * <p>Every rejection is an {@link AuthenticationException} whose message names the reason, never the token; a
 * key source that cannot be reached is a {@link JitAccessException}. Thread-safe.
 */
public final class JwtValidator {

  private static final Logger log = LoggerFactory.getLogger(JwtValidator.class);

  /** The default size cap, in bytes, checked before any parsing. */
  public static final int DEFAULT_MAX_TOKEN_SIZE = 16 * 1024;

  /** The largest size cap that may be configured. */
  public static final int MAX_TOKEN_SIZE_LIMIT = 1024 * 1024;

  /** At most this many candidate keys are tried for one token (only when it names no kid). */
  private static final int MAX_KEYS_TRIED = 4;

  /** The smallest RSA key accepted, in bits. */
  private static final int MIN_RSA_KEY_SIZE = 2048;

  /** How many keys' verifiers are remembered (far more than any JWKS holds at once). */
  private static final int KEY_CHECKS = 64;

  private final JwtRules rules;
  private final JWKSource<SecurityContext> keys;
  private final @Nullable Cache<String, JWTClaimsSet> cache;
  private final Cache<JWK, KeyCheck> keyChecks = Caffeine.newBuilder().maximumSize(KEY_CHECKS).build();
  private final @Nullable Provider ecdsaProvider;

  /**
   * A validator.
   *
   * @param rules what to accept
   * @param keys where the verification keys come from
   * @param cacheSize how many verified tokens to remember (by SHA-256) until they expire; 0 for none
   */
  public JwtValidator(JwtRules rules, JWKSource<SecurityContext> keys, long cacheSize) {
    this(rules, keys, cacheSize, EcdsaVerification.provider());
  }

  /**
   * A validator whose ES256 signatures are checked by the given provider.
   *
   * @param ecdsaProvider the provider for ES256, or null for the JDK's default
   */
  JwtValidator(
      JwtRules rules, JWKSource<SecurityContext> keys, long cacheSize, @Nullable Provider ecdsaProvider) {
    this.rules = rules;
    this.keys = keys;
    this.cache = cacheSize <= 0 ? null : newCache(cacheSize, rules.clock());
    this.ecdsaProvider = ecdsaProvider;
  }

  /** The provider that checks ES256 signatures, null for the JDK's default. */
  @Nullable Provider ecdsaProvider() {
    return ecdsaProvider;
  }

  /**
   * Validates a token and returns its claims.
   *
   * @throws AuthenticationException if the token is refused, with the reason
   * @throws JitAccessException if the verification keys could not be loaded
   */
  public JWTClaimsSet validate(@Nullable String token) {
    if (token == null || token.isEmpty()) {
      throw reject("it is empty");
    }
    if (token.length() > rules.maxTokenSize()) {
      throw reject("it is larger than the limit of " + rules.maxTokenSize() + " bytes");
    }
    if (cache == null) {
      return validateUncached(token);
    }
    String key = TokenFingerprint.sha256Hex(token);
    JWTClaimsSet cached = cache.getIfPresent(key);
    if (cached != null) {
      checkTimes(cached);
      return cached;
    }
    JWTClaimsSet claims = validateUncached(token);
    cache.put(key, claims);
    return claims;
  }

  /**
   * The claims of a token this validator has already verified and still remembers, checked against the clock
   * again; null when {@link #validate} would have to verify a signature (unknown, evicted, no cache). Never
   * verifies a signature and never loads keys, so it never blocks.
   *
   * @throws AuthenticationException if the remembered token has expired or is refused for its size
   */
  public @Nullable JWTClaimsSet validateIfCached(@Nullable String token) {
    if (cache == null || token == null || token.isEmpty() || token.length() > rules.maxTokenSize()) {
      return null;
    }
    JWTClaimsSet cached = cache.getIfPresent(TokenFingerprint.sha256Hex(token));
    if (cached != null) {
      checkTimes(cached);
    }
    return cached;
  }

  /** A rejection of this validator's kind of token, for the callers' own claim checks. */
  public AuthenticationException reject(String reason) {
    return new AuthenticationException(rules.kind() + " rejected: " + reason);
  }

  /** The raw value of a claim, or null when absent; a JSON {@code null} value is a rejection. */
  public @Nullable Object claim(JWTClaimsSet claims, String name) {
    Object value = claims.getClaim(name);
    if (value == null && claims.getClaims().containsKey(name)) {
      throw reject("its " + name + " claim is null");
    }
    return value;
  }

  /** A string claim, or null when absent; any other JSON type is a rejection. */
  public @Nullable String stringClaim(JWTClaimsSet claims, String name) {
    Object value = claim(claims, name);
    if (value != null && !(value instanceof String)) {
      throw reject("its " + name + " claim must be a string but was " + jsonType(value));
    }
    return (String) value;
  }

  /** A list-of-strings claim, empty when absent; any other JSON type is a rejection. */
  public List<String> stringListClaim(JWTClaimsSet claims, String name) {
    Object value = claim(claims, name);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw reject("its " + name + " claim must be a list of strings but was " + jsonType(value));
    }
    for (Object element : list) {
      if (!(element instanceof String)) {
        throw reject("its " + name + " claim must be a list of strings but held " + jsonType(element));
      }
    }
    return list.stream().map(String.class::cast).toList();
  }

  /** The JSON type name of a parsed value, for messages. */
  public static String jsonType(@Nullable Object value) {
    if (value == null) {
      return "null";
    } else if (value instanceof String) {
      return "a string";
    } else if (value instanceof Number) {
      return "a number";
    } else if (value instanceof Boolean) {
      return "a boolean";
    } else if (value instanceof List) {
      return "a list";
    } else if (value instanceof Map) {
      return "an object";
    }
    return "a " + value.getClass().getSimpleName();
  }

  private JWTClaimsSet validateUncached(String token) {
    int firstDot = dots(token);
    int secondDot = token.indexOf('.', firstDot + 1);
    String headerPart = token.substring(0, firstDot);
    String payloadPart = token.substring(firstDot + 1, secondDot);
    String signaturePart = token.substring(secondDot + 1);
    canonical(headerPart, "header");
    canonical(payloadPart, "payload");
    canonical(signaturePart, "signature");
    String payloadJson = TokenText.utf8(TokenText.decode(payloadPart), "payload", this);
    Base64URL header64 = new Base64URL(headerPart);
    JWSHeader header = checkHeader(parseHeader(header64, headerPart));
    if (signaturePart.isEmpty()) {
      throw reject("it has no signature");
    }
    // What JWSObject.verify signs over, taken from the token itself: the header is parsed once, not again
    // by a SignedJWT. Every character is base64url or '.', so ASCII.
    byte[] signingInput = token.substring(0, secondDot).getBytes(StandardCharsets.US_ASCII);
    verifySignature(header, signingInput, new Base64URL(signaturePart));
    JWTClaimsSet claims = parseClaims(payloadJson);
    checkClaims(claims);
    if (log.isDebugEnabled()) {
      log.debug("Accepted {} {} signed by key {}", rules.kind(), TokenFingerprint.of(token), header.getKeyID());
    }
    return claims;
  }

  /** Checks the alphabet and that there are exactly three parts; returns the index of the first dot. */
  private int dots(String token) {
    int dots = 0;
    int first = -1;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c == '.') {
        if (dots++ == 0) {
          first = i;
        }
      } else if (!TokenText.isBase64Url(c)) {
        throw reject("it contains a character that is not base64url at position " + i);
      }
    }
    if (dots == 4) {
      throw reject("it is encrypted (JWE, 5 parts); only signed tokens (JWS) are accepted");
    }
    if (dots != 2) {
      throw reject("it must have 3 dot-separated parts (a compact JWS) but had " + (dots + 1));
    }
    return first;
  }

  private void canonical(String part, String name) {
    if (!TokenText.isCanonicalBase64Url(part)) {
      throw reject("its " + name + " is not canonical base64url");
    }
  }

  private Header parseHeader(Base64URL header64, String headerPart) {
    String json = TokenText.utf8(TokenText.decode(headerPart), "header", this);
    Map<String, Object> object = jsonObject(json, "header is not a valid JOSE header");
    try {
      return Header.parse(object, header64);
    } catch (ParseException e) {
      throw reject("its header is not a valid JOSE header: " + e.getMessage());
    }
  }

  /**
   * The JSON object a header or payload must be (RFC 7515 §4, RFC 7519 §7.2). nimbus' parser returns null for
   * the text {@code null} and, through Gson's map reader, also reads an array of {@code [name, value]} pairs
   * as an object; both are refused here.
   */
  private Map<String, Object> jsonObject(String json, String refusal) {
    int first = 0;
    while (first < json.length() && Character.isWhitespace(json.charAt(first))) {
      first++;
    }
    if (first == json.length() || json.charAt(first) != '{') {
      throw reject("its " + refusal + " (it must be a JSON object)");
    }
    Map<String, Object> object;
    try {
      object = JSONObjectUtils.parse(json);
    } catch (ParseException e) {
      throw reject("its " + refusal + ": " + e.getMessage());
    }
    if (object == null) {
      throw reject("its " + refusal + " (it must be a JSON object)");
    }
    return object;
  }

  private JWSHeader checkHeader(Header header) {
    if (header instanceof PlainHeader) {
      throw reject("it is unsigned (alg none); only signed tokens are accepted");
    }
    if (header instanceof JWEHeader) {
      throw reject("it is encrypted (JWE); only signed tokens (JWS) are accepted");
    }
    if (!(header instanceof JWSHeader jws)) {
      throw reject("its header is not a JWS header");
    }
    JWSAlgorithm alg = jws.getAlgorithm();
    if (!rules.algorithms().contains(alg)) {
      throw reject(
          "it is signed with '" + TokenText.printable(alg.getName()) + "' but only "
              + rules.algorithmNames() + " is accepted");
    }
    if (jws.getJWKURL() != null
        || jws.getJWK() != null
        || jws.getX509CertURL() != null
        || jws.getX509CertChain() != null) {
      throw reject(
          "its header carries a key or key URL (jku, jwk, x5u or x5c); keys come only from the configured JWKS");
    }
    if (!jws.isBase64URLEncodePayload()) {
      throw reject("it has an unencoded payload (b64: false), which is not accepted");
    }
    if (jws.getCriticalParams() != null && !jws.getCriticalParams().isEmpty()) {
      throw reject("it has critical header parameters that are not understood");
    }
    rules.checkType(jws.getType() == null ? null : jws.getType().getType(), this);
    if (rules.keyIdRequired() && jws.getKeyID() == null) {
      throw reject("its header has no kid");
    }
    return jws;
  }

  private void verifySignature(JWSHeader header, byte[] signingInput, Base64URL signature) {
    List<JWK> matching;
    try {
      matching = keys.get(new JWKSelector(matcher(header)), null);
    } catch (RateLimitReachedException e) {
      throw reject(keyNotFound(header) + " (the JWKS refresh is rate-limited)");
    } catch (KeySourceException e) {
      throw new JitAccessException(
          "could not load the keys to verify a " + rules.kind() + ": " + e.getMessage()
              + "; check that the JWKS is reachable",
          e);
    }
    List<KeyCheck> candidates = new ArrayList<>(matching.size());
    for (JWK key : matching) {
      KeyCheck check = keyChecks.get(key, this::check);
      if (check.fits()) {
        candidates.add(check);
      }
    }
    if (candidates.isEmpty()) {
      throw reject(keyNotFound(header));
    }
    JWSAlgorithm alg = header.getAlgorithm();
    int tried = 0;
    for (KeyCheck candidate : candidates) {
      if (tried++ >= MAX_KEYS_TRIED) {
        break;
      }
      JWSVerifier verifier = candidate.verifierFor(alg);
      try {
        if (verifier != null && verifier.verify(header, signingInput, signature)) {
          return;
        }
      } catch (JOSEException e) {
        // A key that cannot check this signature is no key for it; try the next one.
        log.debug("Key {} could not check a {} signature: {}", candidate.keyId(), rules.kind(), e.getMessage());
      }
    }
    throw reject("its signature is invalid");
  }

  private String keyNotFound(JWSHeader header) {
    return header.getKeyID() == null
        ? "no key in the JWKS fits its algorithm " + header.getAlgorithm()
        : "its key id '" + TokenText.printable(header.getKeyID()) + "' is not in the JWKS (or not for "
            + header.getAlgorithm() + ")";
  }

  private static JWKMatcher matcher(JWSHeader header) {
    JWSAlgorithm alg = header.getAlgorithm();
    JWKMatcher.Builder matcher =
        new JWKMatcher.Builder()
            .keyType(KeyType.forAlgorithm(alg))
            .keyUses(KeyUse.SIGNATURE, null)
            .algorithms(alg, null);
    if (header.getKeyID() != null) {
      matcher.keyID(header.getKeyID());
    }
    if (JWSAlgorithm.Family.EC.contains(alg)) {
      matcher.curves(Curve.forJWSAlgorithm(alg));
    }
    // The RSA minimum size (MIN_RSA_KEY_SIZE) is checked once per key in check(JWK), not here: the matcher
    // decoded the whole modulus of every key for every token.
    return matcher.build();
  }

  /**
   * What a key is good for, worked out once per key: whether it fits at all (an RSA key needs {@value
   * #MIN_RSA_KEY_SIZE} bits; a smaller one is treated as absent from the JWKS) and its verifier (null when the
   * JWK could not be turned into a public key).
   */
  private KeyCheck check(JWK key) {
    try {
      if (key instanceof ECKey ec) {
        ECDSAVerifier verifier = new ECDSAVerifier(ec.toECPublicKey());
        if (ecdsaProvider != null) {
          verifier.getJCAContext().setProvider(ecdsaProvider);
        }
        return new KeyCheck(true, key.getKeyID(), verifier, JWSAlgorithm.Family.EC);
      }
      if (key instanceof RSAKey rsa) {
        if (rsa.size() < MIN_RSA_KEY_SIZE) {
          return new KeyCheck(false, key.getKeyID(), null, JWSAlgorithm.Family.RSA);
        }
        return new KeyCheck(true, key.getKeyID(), new RSASSAVerifier(rsa.toRSAPublicKey()), JWSAlgorithm.Family.RSA);
      }
    } catch (JOSEException e) {
      log.debug("Key {} is not usable: {}", key.getKeyID(), e.getMessage());
    }
    return new KeyCheck(true, key.getKeyID(), null, null);
  }

  /**
   * A key's verifier, built once: nimbus' {@code ECDSAVerifier} and {@code RSASSAVerifier} are thread-safe.
   *
   * @param fits false for a key the JWK matcher used to leave out (RSA under {@value #MIN_RSA_KEY_SIZE} bits)
   * @param keyId the key id, for log lines
   * @param verifier the verifier, or null when the key could not be used
   * @param family the algorithms the verifier checks
   */
  private record KeyCheck(
      boolean fits,
      @Nullable String keyId,
      @Nullable JWSVerifier verifier,
      JWSAlgorithm.@Nullable Family family) {
    @Nullable JWSVerifier verifierFor(JWSAlgorithm alg) {
      return family != null && family.contains(alg) ? verifier : null;
    }
  }

  private JWTClaimsSet parseClaims(String payloadJson) {
    Map<String, Object> json = jsonObject(payloadJson, "payload is not a JSON object");
    TokenText.checkRegisteredClaimTypes(json, this);
    try {
      return JWTClaimsSet.parse(json);
    } catch (ParseException e) {
      throw reject("its claims are invalid: " + e.getMessage());
    }
  }

  private void checkClaims(JWTClaimsSet claims) {
    String issuer = claims.getIssuer();
    if (issuer == null) {
      throw reject("it has no iss claim");
    }
    if (!issuer.equals(rules.issuer())) {
      throw reject(
          "it was issued by '" + TokenText.printable(issuer) + "', not by the trusted issuer '"
              + rules.issuer() + "'");
    }
    List<String> audience = claims.getAudience();
    if (audience.isEmpty()) {
      throw reject("it has no aud claim");
    }
    if (!audience.contains(rules.audience())) {
      throw reject(
          "it is for audience " + TokenText.printable(String.join(",", audience)) + ", not for '"
              + rules.audience() + "'");
    }
    for (String name : rules.requiredClaims()) {
      if (claims.getClaim(name) == null) {
        throw reject("it has no " + name + " claim");
      }
    }
    checkTimes(claims);
  }

  private void checkTimes(JWTClaimsSet claims) {
    Instant now = rules.clock().instant();
    Instant latest = now.plus(KeyRing.CLOCK_SKEW);
    if (claims.getExpirationTime() == null) {
      throw reject("it has no exp claim");
    }
    Instant exp = claims.getExpirationTime().toInstant();
    if (!now.isBefore(exp.plus(KeyRing.CLOCK_SKEW))) {
      throw reject("it expired at " + exp + " (now " + now + ", skew " + KeyRing.CLOCK_SKEW + ")");
    }
    if (claims.getNotBeforeTime() != null && claims.getNotBeforeTime().toInstant().isAfter(latest)) {
      throw reject("it is not valid before " + claims.getNotBeforeTime().toInstant() + " (now " + now + ")");
    }
    if (claims.getIssueTime() != null && claims.getIssueTime().toInstant().isAfter(latest)) {
      throw reject("it was issued in the future, at " + claims.getIssueTime().toInstant() + " (now " + now + ")");
    }
  }

  private static Cache<String, JWTClaimsSet> newCache(long size, InstantSource clock) {
    return Caffeine.newBuilder()
        .maximumSize(size)
        .executor(Runnable::run)
        .ticker(() -> toNanos(clock.instant()))
        .expireAfter(
            Expiry.creating(
                (String key, JWTClaimsSet claims) -> {
                  Instant until = claims.getExpirationTime().toInstant().plus(KeyRing.CLOCK_SKEW);
                  Duration left = Duration.between(clock.instant(), until);
                  return left.isNegative() ? Duration.ZERO : left;
                }))
        .build();
  }

  private static long toNanos(Instant instant) {
    return TimeUnit.SECONDS.toNanos(instant.getEpochSecond()) + instant.getNano();
  }
}
