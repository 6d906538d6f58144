package dev.jitaccess.core;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.core.internal.BuilderChecks;
import dev.jitaccess.core.internal.JwtValidator;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.TokenIssuer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;
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
  public static final class Builder extends EngineTokenBuilder<Builder> {
    private @Nullable String audience;
    private @Nullable BiPredicate<String, Instant> revocationCheck;

    private Builder() {}

    @Override
    Builder self() {
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
      JwtValidator validator =
          validator(
              "session token",
              TokenIssuer.SESSION_TYPE,
              audience == null ? DEFAULT_AUDIENCE : audience,
              JwtValidator.DEFAULT_MAX_TOKEN_SIZE,
              0);
      return new SessionTokenIdentityProvider(
          validator, revocationCheck == null ? (id, at) -> false : revocationCheck);
    }
  }
}
