package dev.jitaccess.core;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.JitAccessException;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.internal.BuilderChecks;
import dev.jitaccess.core.internal.JwtValidator;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.TokenIssuer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Verifies signed grants (compact JWS, {@code typ} {@code jit-grant+jwt}) for one cluster, as the agent does
 * before it provisions anything, and rebuilds the {@link Grant}.
 *
 * <p>A grant is accepted only if it is at most {@link #DEFAULT_MAX_TOKEN_SIZE} bytes (checked before any
 * parsing), a signed JWS (never {@code alg: none}, never HMAC, never JWE) whose {@code kid} names a key of
 * the configured JWKS with the algorithm pinned to that key (ES256 for P-256 keys, RS256 for RSA keys),
 * whose header carries no key or key URL, from the exact issuer, for an audience that contains this
 * verifier's cluster, with {@code exp}, {@code nbf} and {@code iat} within a 60 second clock skew, and with
 * {@code sub}, {@code jti} and {@code perms} of the right JSON types. A claim of the wrong type is a
 * rejection, never "absent".
 *
 * <p>Each accepted token is remembered (by its SHA-256, bounded) until it expires, so a grant presented on
 * every request has its signature checked once; its expiry is still checked against the clock on each call.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @since 0.1.0
 */
public final class GrantVerifier {

  /** The default size cap of a grant, in bytes: 16 KiB. */
  public static final int DEFAULT_MAX_TOKEN_SIZE = JwtValidator.DEFAULT_MAX_TOKEN_SIZE;

  /** How many verified grants are remembered at most. */
  public static final long CACHE_SIZE = 10_000;

  /**
   * The clock skew tolerated on every time claim of a grant ({@code exp}, {@code nbf}, {@code iat}): 60 s. The
   * relay's agent applies the same tolerance where it judges a grant's times itself (admitting a request,
   * closing an open stream at the grant's end).
   *
   * @since 0.1.0
   */
  public static final Duration CLOCK_SKEW = KeyRing.CLOCK_SKEW;

  private final JwtValidator validator;
  private final String cluster;

  private GrantVerifier(JwtValidator validator, String cluster) {
    this.validator = validator;
    this.cluster = cluster;
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
   * The cluster whose grants this verifier accepts.
   *
   * @return the cluster id
   */
  public String cluster() {
    return cluster;
  }

  /**
   * Verifies a signed grant and rebuilds it.
   *
   * @param jws the compact JWS as received
   * @return the grant: id = {@code jti}, subject = {@code sub} with the {@code groups} and no attributes, this
   *     verifier's cluster, the permissions, {@code iat} and {@code exp}, and the justification if any
   * @throws AuthenticationException if the grant is refused; the message names the reason, never the token
   * @throws JitAccessException if the verification keys could not be loaded
   */
  public Grant verify(@Nullable String jws) {
    return toGrant(validator.validate(jws));
  }

  /**
   * The grant {@link #verify} would return now, if this verifier has verified exactly this JWS before and
   * still remembers it: no signature is checked and no key is loaded, so it never blocks (the relay agent
   * calls it on its event loop). {@code null} means "call {@code verify}", not "refused".
   *
   * @param jws the compact JWS as received
   * @return the grant, or null if a full verification is needed
   * @throws AuthenticationException if the remembered grant has expired (beyond the clock skew)
   * @since 0.1.0
   */
  public @Nullable Grant verifyIfCached(@Nullable String jws) {
    JWTClaimsSet claims = validator.validateIfCached(jws);
    return claims == null ? null : toGrant(claims);
  }

  private Grant toGrant(JWTClaimsSet claims) {
    List<Permission> permissions = permissions(claims);
    List<String> groups = validator.stringListClaim(claims, KeyRing.GROUPS_CLAIM);
    String justification = validator.stringClaim(claims, KeyRing.JUSTIFICATION_CLAIM);
    try {
      Subject subject = new Subject(claims.getSubject(), Set.copyOf(groups), Map.of());
      return new Grant(
          claims.getJWTID(),
          subject,
          cluster,
          permissions,
          claims.getIssueTime().toInstant(),
          claims.getExpirationTime().toInstant(),
          justification);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw validator.reject("its claims do not form a valid grant: " + e.getMessage());
    }
  }

  private List<Permission> permissions(JWTClaimsSet claims) {
    Object value = validator.claim(claims, KeyRing.PERMISSIONS_CLAIM);
    if (value == null) {
      throw validator.reject("it has no " + KeyRing.PERMISSIONS_CLAIM + " claim");
    }
    if (!(value instanceof List<?> list)) {
      throw validator.reject(
          "its " + KeyRing.PERMISSIONS_CLAIM + " claim must be a list but was " + JwtValidator.jsonType(value));
    }
    List<Permission> permissions = new ArrayList<>();
    for (Object element : list) {
      if (!(element instanceof Map<?, ?> perm)) {
        throw validator.reject("each permission must be an object but one was " + JwtValidator.jsonType(element));
      }
      if (!Set.of("role", "ns").containsAll(perm.keySet())) {
        throw validator.reject("a permission has members other than role and ns");
      }
      Object role = perm.get("role");
      Object namespace = perm.get("ns");
      if (!(role instanceof String)) {
        throw validator.reject("a permission's role must be a string but was " + JwtValidator.jsonType(role));
      }
      if (perm.containsKey("ns") && !(namespace instanceof String)) {
        throw validator.reject("a permission's ns must be a string but was " + JwtValidator.jsonType(namespace));
      }
      try {
        permissions.add(new Permission((String) role, (String) namespace));
      } catch (IllegalArgumentException e) {
        throw validator.reject("it holds an invalid permission: " + e.getMessage());
      }
    }
    return permissions;
  }

  /**
   * Builds a {@link GrantVerifier}. The JWKS, the issuer and the cluster are required. Each property may be set
   * once. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder extends EngineTokenBuilder<Builder> {
    private @Nullable String cluster;
    private @Nullable Integer maxTokenSize;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /**
     * The cluster this verifier runs for: a grant's {@code aud} must contain it.
     *
     * @param cluster a cluster id (1-63 characters of {@code [a-z0-9-]})
     * @return this builder
     * @throws NullPointerException if {@code cluster} is null
     * @throws IllegalArgumentException if it is not a valid cluster id
     * @throws IllegalStateException if it was already set
     */
    public Builder cluster(String cluster) {
      BuilderChecks.once(this.cluster, "cluster");
      this.cluster = AccessRequest.checkCluster(cluster);
      return this;
    }

    /**
     * The size cap, checked before any parsing; by default {@link #DEFAULT_MAX_TOKEN_SIZE}.
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
     * Builds the verifier. The builder is left unchanged.
     *
     * @return a new verifier
     * @throws IllegalStateException if the JWKS, the issuer or the cluster is missing
     */
    public GrantVerifier build() {
      checkKeysAndIssuer();
      String aud = BuilderChecks.required(cluster, "cluster", "pass the id of the cluster this agent serves");
      JwtValidator validator =
          validator(
              "grant",
              TokenIssuer.GRANT_TYPE,
              aud,
              maxTokenSize == null ? DEFAULT_MAX_TOKEN_SIZE : maxTokenSize,
              CACHE_SIZE);
      return new GrantVerifier(validator, aud);
    }
  }
}
