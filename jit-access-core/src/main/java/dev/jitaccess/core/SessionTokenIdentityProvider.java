package dev.jitaccess.core;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.core.internal.BuilderChecks;
import dev.jitaccess.core.internal.JwtRules;
import dev.jitaccess.core.internal.JwtValidator;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.KeySources;
import dev.jitaccess.core.internal.TokenIssuer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Accepts the session tokens the engine issues ({@code JitAccess.issueSessionToken}): signed JWTs with
 * {@code typ} {@code jit-session+jwt}, the engine's issuer and the relay audience.
 *
 * <p>The checks are those of {@link GrantVerifier} (size cap first, pinned algorithms, strict claim types,
 * 60 second skew), plus an optional revocation check that is asked on every call with the subject id and the
 * token's issue time. The subject is {@code sub} with the {@code groups} claim and no attributes.
 *
 * <p>Instances are immutable and thread-safe if the revocation check is.
 *
 * @since 0.1.0
 */
public final class SessionTokenIdentityProvider implements IdentityProvider {

  /** The default audience of session tokens: the relay. */
  public static final String DEFAULT_AUDIENCE = "jit-access-relay";

  private final JwtValidator validator;
  private final BiPredicate<String, Instant> revocationCheck;

  private SessionTokenIdentityProvider(JwtValidator validator, BiPredicate<String, Instant> revocationCheck) {
    this.validator = validator;
    this.revocationCheck = revocationCheck;
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
   * Authenticates a session token.
   *
   * @param bearerToken the token, without the {@code Bearer } prefix
   * @return the subject named by the token
   * @throws AuthenticationException if the token is refused or revoked; the message never holds the token
   * @throws JitAccessException if the keys could not be loaded or the revocation check failed
   */
  @Override
  public Subject authenticate(String bearerToken) {
    JWTClaimsSet claims = validator.validate(bearerToken);
    List<String> groups = validator.stringListClaim(claims, KeyRing.GROUPS_CLAIM);
    Subject subject;
    try {
      subject = new Subject(claims.getSubject(), Set.copyOf(groups), Map.of());
    } catch (IllegalArgumentException e) {
      throw validator.reject("its subject is invalid: " + e.getMessage());
    }
    boolean revoked;
    try {
      revoked = revocationCheck.test(subject.id(), claims.getIssueTime().toInstant());
    } catch (RuntimeException e) {
      throw new JitAccessException("the session token revocation check failed: " + e, e);
    }
    if (revoked) {
      throw new AuthenticationException("session token was revoked");
    }
    return subject;
  }

  /**
   * The provider id for logs and audit records.
   *
   * @return {@code "session-token"}
   */
  @Override
  public String id() {
    return "session-token";
  }

  /**
   * Builds a {@link SessionTokenIdentityProvider}. The JWKS and the issuer are required. Each property may be
   * set once. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private @Nullable JWKSource<SecurityContext> keys;
    private @Nullable String issuer;
    private @Nullable String audience;
    private @Nullable InstantSource clock;
    private @Nullable BiPredicate<String, Instant> revocationCheck;

    private Builder() {}

    /**
     * The engine's public keys, as JWK set JSON.
     *
     * @param json a JWK set; private members are ignored
     * @return this builder
     * @throws IllegalArgumentException if it is not a JWK set with a public EC or RSA key
     * @throws IllegalStateException if the keys were already set
     */
    public Builder jwks(String json) {
      BuilderChecks.once(keys, "jwks");
      keys = KeySources.fromJson(json, "jwks");
      return this;
    }

    /** A live key source (the engine's key ring), asked on each authentication. */
    Builder keySource(Supplier<JWKSet> keySource) {
      BuilderChecks.once(keys, "jwks");
      keys = KeySources.live(keySource);
      return this;
    }

    /**
     * The engine's issuer; {@code iss} must equal it exactly.
     *
     * @param issuer the issuer
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
     * The audience the tokens were issued for; by default {@link #DEFAULT_AUDIENCE}.
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
     * Asked on every authentication with the subject id and the token's issue time; {@code true} means the
     * token was revoked. By default no token is revoked. It must be fast and thread-safe; if it throws, the
     * authentication fails with a {@link JitAccessException}.
     *
     * @param revocationCheck the check
     * @return this builder
     * @throws IllegalStateException if it was already set
     */
    public Builder revocationCheck(BiPredicate<String, Instant> revocationCheck) {
      BuilderChecks.once(this.revocationCheck, "revocationCheck");
      this.revocationCheck = Objects.requireNonNull(revocationCheck, "revocationCheck");
      return this;
    }

    /**
     * Builds the provider. The builder is left unchanged.
     *
     * @return a new provider
     * @throws IllegalStateException if the JWKS or the issuer is missing
     */
    public SessionTokenIdentityProvider build() {
      JwtRules rules =
          JwtRules.engineToken(
              "session token",
              TokenIssuer.SESSION_TYPE,
              BuilderChecks.required(issuer, "issuer", "pass the engine's issuer"),
              audience == null ? DEFAULT_AUDIENCE : audience,
              clock == null ? InstantSource.system() : clock,
              JwtValidator.DEFAULT_MAX_TOKEN_SIZE);
      JWKSource<SecurityContext> source = BuilderChecks.required(keys, "jwks", "pass the engine's publicJwks()");
      return new SessionTokenIdentityProvider(
          new JwtValidator(rules, source, 0), revocationCheck == null ? (id, at) -> false : revocationCheck);
    }
  }
}
