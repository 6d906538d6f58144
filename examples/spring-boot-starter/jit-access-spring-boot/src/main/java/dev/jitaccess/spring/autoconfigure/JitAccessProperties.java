package dev.jitaccess.spring.autoconfigure;

import dev.jitaccess.core.AuditFailurePolicy;
import dev.jitaccess.core.JitAccess;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code jitaccess.*} configuration properties: how the auto-configured {@link JitAccess} engine, its
 * identity and policy providers, its audit sinks and the relay are built.
 *
 * <p>Values are checked when they are bound, so a bad value fails the application's start-up with a message that
 * names the property, for example {@code jitaccess.grant-ttl must be positive but was PT-5M}. Files (the signing
 * key, the policy, the TLS key and certificate) are read when the beans are created.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param grantTtl How long a grant lives in the engine's cache before the policy is asked again, and the default
 *     lifetime of a grant.
 * @param maxGrantTtl The longest lifetime a request may ask for. Default: the grant TTL.
 * @param issuer The issuer ("iss") of everything the engine signs: grants, session tokens, agent credentials.
 * @param signingKey PEM file with the engine's private signing key (EC P-256 or RSA of at least 2048 bits; PKCS#8,
 *     SEC1 or PKCS#1). Default: a key generated at start-up, so grants and session tokens do not survive a
 *     restart.
 * @param sessionTokenTtl The default lifetime of the session tokens the engine issues.
 * @param policyFile YAML policy file read by the built-in rule policy provider. Without it (and without a
 *     PolicyProvider bean) every request is denied.
 * @param oidc OpenID Connect identity provider settings.
 * @param audit Audit trail settings.
 * @param relay Relay settings.
 * @since 0.2.0
 */
@ConfigurationProperties(prefix = JitAccessProperties.PREFIX)
public record JitAccessProperties(
    @DefaultValue("5m") Duration grantTtl,
    @Nullable Duration maxGrantTtl,
    @DefaultValue(JitAccess.Builder.DEFAULT_ISSUER) String issuer,
    @Nullable Path signingKey,
    @DefaultValue("8h") Duration sessionTokenTtl,
    @Nullable Path policyFile,
    @DefaultValue Oidc oidc,
    @DefaultValue Audit audit,
    @DefaultValue Relay relay) {

  /** The prefix of every property: {@value}. */
  public static final String PREFIX = "jitaccess";

  /**
   * Checks the values against each other.
   *
   * @throws IllegalArgumentException naming the property, if a duration is not positive, the maximum grant TTL
   *     is shorter than the grant TTL, or the issuer is blank
   */
  public JitAccessProperties {
    positive(grantTtl, "jitaccess.grant-ttl");
    positive(sessionTokenTtl, "jitaccess.session-token-ttl");
    if (maxGrantTtl != null) {
      positive(maxGrantTtl, "jitaccess.max-grant-ttl");
      if (maxGrantTtl.compareTo(grantTtl) < 0) {
        throw new IllegalArgumentException(
            "jitaccess.max-grant-ttl ("
                + maxGrantTtl
                + ") must not be shorter than jitaccess.grant-ttl ("
                + grantTtl
                + ")");
      }
    }
    if (issuer.isBlank()) {
      throw new IllegalArgumentException("jitaccess.issuer must not be blank");
    }
  }

  /**
   * OpenID Connect identity provider settings. The built-in provider exists when {@code issuer} is set (and no
   * IdentityProvider bean is defined); then the audience and the JWKS URL are required too.
   *
   * <p>Instances are immutable and thread-safe.
   *
   * @param issuer The identity provider's issuer URL, as in the tokens' "iss" claim.
   * @param audience The audience the tokens must carry ("aud"), usually the client id.
   * @param jwksUrl Where the identity provider publishes its public keys (JWKS).
   * @param usernameClaim The claim that holds the subject id.
   * @param groupsClaim The claim that holds the subject's groups.
   * @since 0.2.0
   */
  public record Oidc(
      @Nullable String issuer,
      @Nullable String audience,
      @Nullable URI jwksUrl,
      @DefaultValue("sub") String usernameClaim,
      @DefaultValue("groups") String groupsClaim) {

    /**
     * Checks that an issuer comes with an audience and a JWKS URL.
     *
     * @throws IllegalArgumentException naming the missing property
     */
    public Oidc {
      if (issuer != null) {
        if (audience == null || audience.isBlank()) {
          throw new IllegalArgumentException(
              "jitaccess.oidc.audience is required when jitaccess.oidc.issuer is set");
        }
        if (jwksUrl == null) {
          throw new IllegalArgumentException(
              "jitaccess.oidc.jwks-url is required when jitaccess.oidc.issuer is set");
        }
        if (!"https".equals(jwksUrl.getScheme()) && !"http".equals(jwksUrl.getScheme())) {
          throw new IllegalArgumentException(
              "jitaccess.oidc.jwks-url must be an http(s) URL but was " + jwksUrl);
        }
      }
    }

    /**
     * Whether the built-in OIDC identity provider is configured.
     *
     * @return true when {@code issuer} is set
     */
    public boolean isConfigured() {
      return issuer != null;
    }
  }

  /**
   * Audit trail settings.
   *
   * <p>Instances are immutable and thread-safe.
   *
   * @param file Append-only JSON Lines audit file with a SHA-256 hash chain. Default: no file.
   * @param fsync Whether every audit record is forced to disk before the call it records returns.
   * @param log Whether audit events are also written to the "jitaccess.audit" slf4j logger.
   * @param failurePolicy What happens to a grant whose audit record no sink accepted: FAIL_CLOSED refuses it,
   *     FAIL_OPEN hands it out.
   * @since 0.2.0
   */
  public record Audit(
      @Nullable Path file,
      @DefaultValue("false") boolean fsync,
      @DefaultValue("true") boolean log,
      @DefaultValue("FAIL_CLOSED") AuditFailurePolicy failurePolicy) {}

  /**
   * Relay settings. The relay runs when {@code enabled} is true and {@code jit-access-relay} is on the class
   * path; it serves HTTPS only, so the TLS key and certificate are then required.
   *
   * <p>Instances are immutable and thread-safe.
   *
   * @param enabled Whether to start the relay kubectl talks to.
   * @param bindAddress The address both relay listeners bind to.
   * @param port The port kubectl connects to; 0 picks a free port.
   * @param tunnelPort The port agents connect to; 0 picks a free port.
   * @param tlsKey PEM file with the relay's TLS private key.
   * @param tlsCertificate PEM file with the relay's TLS certificate chain, leaf first; the last certificate is
   *     the trust anchor written into kubeconfigs.
   * @param externalUrl The https URL kubectl uses to reach the relay, written into kubeconfigs. Default:
   *     https://(bind address or localhost):(port).
   * @since 0.2.0
   */
  public record Relay(
      @DefaultValue("false") boolean enabled,
      @DefaultValue("0.0.0.0") String bindAddress,
      @DefaultValue("8443") int port,
      @DefaultValue("8444") int tunnelPort,
      @Nullable Path tlsKey,
      @Nullable Path tlsCertificate,
      @Nullable URI externalUrl) {

    /**
     * Checks the ports, and the TLS files when the relay is enabled.
     *
     * @throws IllegalArgumentException naming the property, if a port is out of range, the bind address is
     *     blank, or the relay is enabled without TLS files
     */
    public Relay {
      port("jitaccess.relay.port", port);
      port("jitaccess.relay.tunnel-port", tunnelPort);
      if (bindAddress.isBlank()) {
        throw new IllegalArgumentException("jitaccess.relay.bind-address must not be blank");
      }
      if (enabled && tlsKey == null) {
        throw new IllegalArgumentException(
            "jitaccess.relay.tls-key is required when jitaccess.relay.enabled=true: the relay serves HTTPS only");
      }
      if (enabled && tlsCertificate == null) {
        throw new IllegalArgumentException(
            "jitaccess.relay.tls-certificate is required when jitaccess.relay.enabled=true: the relay serves"
                + " HTTPS only");
      }
    }

    private static void port(String name, int value) {
      if (value < 0 || value > 65535) {
        throw new IllegalArgumentException(name + " must be between 0 and 65535 but was " + value);
      }
    }
  }

  private static void positive(Duration value, String name) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive but was " + value);
    }
  }
}
