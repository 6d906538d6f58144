package dev.jitaccess.core;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.core.internal.AuthenticationCache;
import dev.jitaccess.core.internal.BuilderChecks;
import dev.jitaccess.core.internal.JwtRules;
import dev.jitaccess.core.internal.JwtValidator;
import dev.jitaccess.core.internal.KeySources;
import java.net.URI;
import java.time.InstantSource;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates OIDC ID tokens and JWT access tokens from one issuer.
 *
 * <p>A token is accepted only if it is at most 16 KiB (checked before any parsing), a signed JWS with an
 * allowed algorithm (RS256 and ES256 by default; HMAC and {@code none} are never allowed) and a key from the
 * configured JWK set or JWKS URL (never from its own {@code jku}, {@code jwk}, {@code x5u} or {@code x5c}
 * headers), its {@code typ}, if any, is {@code JWT} or {@code at+jwt}, its {@code iss} equals the issuer exactly,
 * its {@code aud} contains the audience, {@code exp} and {@code iat} are present, and {@code exp},
 * {@code nbf} and {@code iat} are within a 60 second clock skew. The username claim must be a string and the
 * groups claim, if present, a list of strings.
 *
 * <p>A JWKS URL is fetched with connect and read timeouts, cached for 5 minutes, and refreshed when a token
 * names an unknown {@code kid} — at most twice in 30 seconds, so a flood of unknown key ids cannot cause a
 * flood of fetches; a failed fetch is retried once.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @since 0.1.0
 */
public final class OidcIdentityProvider implements IdentityProvider {

  /** The default username claim. */
  public static final String DEFAULT_USERNAME_CLAIM = "sub";

  /** The default groups claim. */
  public static final String DEFAULT_GROUPS_CLAIM = "groups";

  /** The algorithms accepted unless {@link Builder#allowedAlgorithms(String...)} says otherwise. */
  public static final Set<String> DEFAULT_ALGORITHMS = Set.of("RS256", "ES256");

  private static final Set<JWSAlgorithm> SUPPORTED =
      Stream.concat(JWSAlgorithm.Family.RSA.stream(), JWSAlgorithm.Family.EC.stream())
          .filter(alg -> !alg.equals(JWSAlgorithm.ES256K))
          .collect(Collectors.toUnmodifiableSet());

  private final JwtValidator validator;
  private final String usernameClaim;
  private final String groupsClaim;

  private OidcIdentityProvider(JwtValidator validator, String usernameClaim, String groupsClaim) {
    this.validator = validator;
    this.usernameClaim = usernameClaim;
    this.groupsClaim = groupsClaim;
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Authenticates an OIDC token.
   *
   * @param bearerToken the token, without the {@code Bearer } prefix
   * @return the subject: id from the username claim, groups from the groups claim, no attributes
   * @throws AuthenticationException if the token is refused; the message names the reason, never the token
   * @throws JitAccessException if the JWKS could not be fetched
   */
  @Override
  public Subject authenticate(String bearerToken) {
    return authenticateWithExpiry(bearerToken).subject();
  }

  /**
   * {@link #authenticate} with the token's verified {@code exp} (always present: a token without one is
   * refused), so that the engine's authentication cache does not parse the token again.
   */
  AuthenticationCache.Authenticated authenticateWithExpiry(String bearerToken) {
    JWTClaimsSet claims = validator.validate(bearerToken);
    return new AuthenticationCache.Authenticated(subject(claims), claims.getExpirationTime().toInstant());
  }

  private Subject subject(JWTClaimsSet claims) {
    String username = validator.stringClaim(claims, usernameClaim);
    if (username == null) {
      throw validator.reject("it has no " + usernameClaim + " claim (the username claim)");
    }
    List<String> groups = validator.stringListClaim(claims, groupsClaim);
    try {
      return new Subject(username, Set.copyOf(groups), Map.of());
    } catch (IllegalArgumentException e) {
      throw validator.reject("its username or groups are invalid: " + e.getMessage());
    }
  }

  /**
   * The provider id for logs and audit records.
   *
   * @return {@code "oidc"}
   */
  @Override
  public String id() {
    return "oidc";
  }

  /**
   * Builds an {@link OidcIdentityProvider}. The issuer, the audience and exactly one of {@link #jwkSet(String)}
   * and {@link #jwksUri(URI)} are required. Each property may be set once. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private @Nullable String issuer;
    private @Nullable String audience;
    private @Nullable JWKSource<SecurityContext> keys;
    private @Nullable String usernameClaim;
    private @Nullable String groupsClaim;
    private @Nullable InstantSource clock;
    private @Nullable Set<JWSAlgorithm> algorithms;
    private @Nullable Integer maxTokenSize;

    private Builder() {}

    /**
     * The issuer; a token's {@code iss} must equal it exactly (no trailing-slash leniency).
     *
     * @param issuer the issuer URL as the identity provider writes it
     * @return this builder
     * @throws IllegalArgumentException if it is blank
     * @throws IllegalStateException if it was already set
     */
    public Builder issuer(String issuer) {
      BuilderChecks.once(this.issuer, "issuer");
      this.issuer = BuilderChecks.nonBlank(issuer, "issuer");
      return this;
    }

    /**
     * The audience (client id) that a token's {@code aud} must contain.
     *
     * @param audience the audience
     * @return this builder
     * @throws IllegalArgumentException if it is blank
     * @throws IllegalStateException if it was already set
     */
    public Builder audience(String audience) {
      BuilderChecks.once(this.audience, "audience");
      this.audience = BuilderChecks.nonBlank(audience, "audience");
      return this;
    }

    /**
     * A fixed JWK set with the identity provider's public keys.
     *
     * @param json a JWK set JSON document; private members are ignored
     * @return this builder
     * @throws IllegalArgumentException if it is not a JWK set with a public EC or RSA key
     * @throws IllegalStateException if a JWK set or JWKS URL was already set
     */
    public Builder jwkSet(String json) {
      BuilderChecks.once(keys, "jwkSet/jwksUri");
      keys = KeySources.fromJson(json, "jwkSet");
      return this;
    }

    /**
     * The identity provider's JWKS URL (its {@code jwks_uri}), fetched on first use and cached.
     *
     * @param jwksUri an absolute https (or http) URL
     * @return this builder
     * @throws IllegalArgumentException if it is not an absolute http or https URL
     * @throws IllegalStateException if a JWK set or JWKS URL was already set
     */
    public Builder jwksUri(URI jwksUri) {
      BuilderChecks.once(keys, "jwkSet/jwksUri");
      keys = KeySources.remote(jwksUri);
      return this;
    }

    /**
     * The claim that holds the username (the subject id); by default {@value #DEFAULT_USERNAME_CLAIM}.
     *
     * @param claim the claim name, for example {@code preferred_username} or {@code email}
     * @return this builder
     * @throws IllegalArgumentException if it is blank
     * @throws IllegalStateException if it was already set
     */
    public Builder usernameClaim(String claim) {
      BuilderChecks.once(usernameClaim, "usernameClaim");
      usernameClaim = BuilderChecks.nonBlank(claim, "usernameClaim");
      return this;
    }

    /**
     * The claim that holds the groups, a list of strings; by default {@value #DEFAULT_GROUPS_CLAIM}.
     *
     * @param claim the claim name
     * @return this builder
     * @throws IllegalArgumentException if it is blank
     * @throws IllegalStateException if it was already set
     */
    public Builder groupsClaim(String claim) {
      BuilderChecks.once(groupsClaim, "groupsClaim");
      groupsClaim = BuilderChecks.nonBlank(claim, "groupsClaim");
      return this;
    }

    /**
     * The time source; by default {@link InstantSource#system()}.
     *
     * @param clock the clock
     * @return this builder
     * @throws IllegalStateException if it was already set
     */
    public Builder clock(InstantSource clock) {
      BuilderChecks.once(this.clock, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The accepted signature algorithms; by default {@link #DEFAULT_ALGORITHMS}. RS256/384/512,
     * PS256/384/512 and ES256/384/512 may be named.
     *
     * @param names one or more JWS algorithm names
     * @return this builder
     * @throws IllegalArgumentException if none is given, or one is HMAC ({@code HS*}), {@code none} or unknown
     * @throws IllegalStateException if it was already set
     */
    public Builder allowedAlgorithms(String... names) {
      BuilderChecks.once(algorithms, "allowedAlgorithms");
      Objects.requireNonNull(names, "allowedAlgorithms");
      if (names.length == 0) {
        throw new IllegalArgumentException("allowedAlgorithms must name at least one algorithm");
      }
      Set<JWSAlgorithm> chosen = new LinkedHashSet<>();
      for (String name : names) {
        Objects.requireNonNull(name, "allowedAlgorithms element");
        JWSAlgorithm alg = JWSAlgorithm.parse(name.strip());
        if (JWSAlgorithm.Family.HMAC_SHA.contains(alg) || name.strip().equalsIgnoreCase("none")) {
          throw new IllegalArgumentException(
              "allowedAlgorithms must not contain " + name + ": HMAC and none are never allowed for OIDC tokens");
        }
        if (!SUPPORTED.contains(alg)) {
          throw new IllegalArgumentException(
              "allowedAlgorithms may contain RS256/384/512, PS256/384/512 and ES256/384/512 but got " + name);
        }
        chosen.add(alg);
      }
      algorithms = Set.copyOf(chosen);
      return this;
    }

    /**
     * The size cap, checked before any parsing; by default 16 KiB.
     *
     * @param bytes the largest token accepted, in bytes, from 1 to 1 MiB
     * @return this builder
     * @throws IllegalArgumentException if it is out of range
     * @throws IllegalStateException if it was already set
     */
    public Builder maxTokenSize(int bytes) {
      BuilderChecks.once(maxTokenSize, "maxTokenSize");
      maxTokenSize = BuilderChecks.maxTokenSize(bytes);
      return this;
    }

    /**
     * Builds the provider. The builder is left unchanged.
     *
     * @return a new provider
     * @throws IllegalStateException if the issuer, the audience or the keys are missing
     */
    public OidcIdentityProvider build() {
      String iss = BuilderChecks.required(issuer, "issuer", "pass the identity provider's issuer URL");
      String aud = BuilderChecks.required(audience, "audience", "pass the client id the tokens are issued for");
      JWKSource<SecurityContext> source =
          BuilderChecks.required(keys, "jwkSet or jwksUri", "pass the identity provider's keys or jwks_uri");
      JwtRules rules =
          new JwtRules(
              "OIDC token",
              algorithms == null ? Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256) : algorithms,
              Set.of("JWT", "at+jwt"),
              true,
              false,
              iss,
              aud,
              Set.of("iat"),
              clock == null ? InstantSource.system() : clock,
              maxTokenSize == null ? JwtValidator.DEFAULT_MAX_TOKEN_SIZE : maxTokenSize);
      return new OidcIdentityProvider(
          new JwtValidator(rules, source, 0),
          usernameClaim == null ? DEFAULT_USERNAME_CLAIM : usernameClaim,
          groupsClaim == null ? DEFAULT_GROUPS_CLAIM : groupsClaim);
    }
  }
}
