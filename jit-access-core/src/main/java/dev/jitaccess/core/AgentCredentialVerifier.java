package dev.jitaccess.core;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.core.internal.JwtValidator;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.TokenIssuer;
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
  public static final class Builder extends EngineTokenBuilder<Builder> {

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /**
     * Builds the verifier. The builder is left unchanged.
     *
     * @return a new verifier
     * @throws IllegalStateException if the JWKS or the issuer is missing
     */
    public AgentCredentialVerifier build() {
      return new AgentCredentialVerifier(
          validator(
              "agent credential",
              TokenIssuer.AGENT_TYPE,
              KeyRing.AGENT_AUDIENCE,
              JwtValidator.DEFAULT_MAX_TOKEN_SIZE,
              0));
    }
  }
}
