package dev.jitaccess.core;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.core.internal.BuilderChecks;
import dev.jitaccess.core.internal.JwtRules;
import dev.jitaccess.core.internal.JwtValidator;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.KeySources;
import dev.jitaccess.core.internal.TokenIssuer;
import java.time.InstantSource;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Verifies agent credentials ({@code JitAccess.issueAgentCredential}) on the relay's tunnel side and tells
 * which cluster the agent may serve: signed JWTs with {@code typ} {@code jit-agent+jwt}, the engine's issuer,
 * audience {@code jit-access-tunnel}, a {@code cluster} claim that is a valid cluster id and a {@code sub} of
 * exactly {@code agent:<cluster>}. The checks are those of {@link GrantVerifier}.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @since 0.1.0
 */
public final class AgentCredentialVerifier {

  private final JwtValidator validator;

  private AgentCredentialVerifier(JwtValidator validator) {
    this.validator = validator;
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
   * Verifies an agent credential.
   *
   * @param credential the credential as presented by the agent
   * @return the id of the one cluster the credential is for
   * @throws AuthenticationException if the credential is refused; the message never holds the credential
   * @throws JitAccessException if the keys could not be loaded
   */
  public String verify(@Nullable String credential) {
    JWTClaimsSet claims = validator.validate(credential);
    String cluster = validator.stringClaim(claims, KeyRing.CLUSTER_CLAIM);
    if (cluster == null) {
      throw validator.reject("it has no " + KeyRing.CLUSTER_CLAIM + " claim");
    }
    try {
      AccessRequest.checkCluster(cluster);
    } catch (IllegalArgumentException e) {
      throw validator.reject("its cluster claim is not a cluster id: " + e.getMessage());
    }
    if (!(KeyRing.AGENT_SUBJECT_PREFIX + cluster).equals(claims.getSubject())) {
      throw validator.reject("its sub does not match its cluster claim '" + cluster + "'");
    }
    return cluster;
  }

  /**
   * Builds an {@link AgentCredentialVerifier}. The JWKS and the issuer are required. Each property may be set
   * once. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private @Nullable JWKSource<SecurityContext> keys;
    private @Nullable String issuer;
    private @Nullable InstantSource clock;

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

    /** A live key source (the engine's key ring), asked on each verification. */
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
     * Builds the verifier. The builder is left unchanged.
     *
     * @return a new verifier
     * @throws IllegalStateException if the JWKS or the issuer is missing
     */
    public AgentCredentialVerifier build() {
      JwtRules rules =
          JwtRules.engineToken(
              "agent credential",
              TokenIssuer.AGENT_TYPE,
              BuilderChecks.required(issuer, "issuer", "pass the engine's issuer"),
              KeyRing.AGENT_AUDIENCE,
              clock == null ? InstantSource.system() : clock,
              JwtValidator.DEFAULT_MAX_TOKEN_SIZE);
      JWKSource<SecurityContext> source = BuilderChecks.required(keys, "jwks", "pass the engine's publicJwks()");
      return new AgentCredentialVerifier(new JwtValidator(rules, source, 0));
    }
  }
}
