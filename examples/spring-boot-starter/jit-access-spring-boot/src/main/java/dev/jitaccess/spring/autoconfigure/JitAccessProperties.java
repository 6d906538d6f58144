package dev.jitaccess.spring.autoconfigure;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.core.AuditFailurePolicy;
import dev.jitaccess.core.JitAccess;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code jitaccess.*} configuration properties: how the auto-configured {@link JitAccess} engine, its
 * identity and policy providers, its audit sinks, the relay and the in-cluster agent are built.
 *
 * <p>Values are checked when they are bound, so a bad value fails the application's start-up with a message that
 * names the property, for example {@code jitaccess.grant-ttl must be positive but was PT-5M}. Files (the signing
 * key, the policy, the TLS key and certificate, the agent's credential, relay CA and JWKS) are read when the
 * beans are created.
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
 * @param agent In-cluster agent settings.
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
    @DefaultValue Relay relay,
    @DefaultValue Agent agent) {

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

  /**
   * Settings of the agent that runs inside a cluster, dials out to the relay and provisions the grants'
   * ServiceAccounts. The agent runs when {@code enabled} is true and both {@code jit-access-relay} and
   * {@code jit-access-k8s} are on the class path; then the relay URI, the credential file, the JWKS file, the
   * cluster id and at least one allowed ClusterRole are required.
   *
   * <p>Instances are immutable and thread-safe.
   *
   * @param enabled Whether to run the agent in this application.
   * @param relayUri The relay's tunnel listener, https://host:port (the relay's jitaccess.relay.tunnel-port).
   * @param credentialFile File holding the agent credential the engine issued for this cluster
   *     (JitAccess.issueAgentCredential). Read at start-up, and again before each connection attempt so that a
   *     rotated credential (for example a re-mounted Secret) is picked up without a restart.
   * @param relayCa PEM file with the certificates (usually the relay's CA) to trust for the relay's TLS
   *     certificate. Default: the JVM's trust store.
   * @param jwksFile File holding the engine's public keys as JWK set JSON (JitAccess.publicJwks()), with which
   *     the agent verifies every signed grant.
   * @param issuer The engine's issuer, as in the grants' "iss" claim. Default: jitaccess.issuer.
   * @param cluster The id of the cluster this agent serves; the agent accepts grants for this cluster only.
   * @param namespace The namespace of the just-in-time ServiceAccounts and of the revocation ConfigMap.
   * @param allowedClusterRoles The only ClusterRoles the agent will ever bind; a grant naming another is refused.
   *     Required when the agent is enabled.
   * @param deniedNamespaces Namespaces in which no role is ever bound. Default: kube-system, kube-public and
   *     kube-node-lease; a value replaces that list.
   * @param idleTimeout How long a ServiceAccount lives after its last use before it is swept (at least 2
   *     minutes).
   * @param tokenTtl The lifetime of the ServiceAccount tokens the agent requests (whole seconds, at least 10
   *     minutes).
   * @param sweepPeriod Time between two sweeps of idle ServiceAccounts (1 second to 5 minutes).
   * @param refuseOverprivileged Whether the agent refuses to start when it holds more privileges than it needs
   *     (impersonation, escalation, cluster-admin, reading secrets...). Default false: each finding is logged at
   *     WARN.
   * @param revocationStore Where revocations are kept across restarts: CONFIGMAP (a ConfigMap in the namespace,
   *     so a restarted agent still refuses revoked grants) or MEMORY (forgotten on restart).
   * @since 0.2.0
   */
  public record Agent(
      @DefaultValue("false") boolean enabled,
      @Nullable URI relayUri,
      @Nullable Path credentialFile,
      @Nullable Path relayCa,
      @Nullable Path jwksFile,
      @Nullable String issuer,
      @Nullable String cluster,
      @DefaultValue(DEFAULT_NAMESPACE) String namespace,
      @DefaultValue List<String> allowedClusterRoles,
      @Nullable List<String> deniedNamespaces,
      @DefaultValue("8h") Duration idleTimeout,
      @DefaultValue("10m") Duration tokenTtl,
      @DefaultValue("5m") Duration sweepPeriod,
      @DefaultValue("false") boolean refuseOverprivileged,
      @DefaultValue("configmap") RevocationStoreType revocationStore) {

    /** The default namespace of the agent's ServiceAccounts and ConfigMap: {@value}. */
    public static final String DEFAULT_NAMESPACE = "jit-access";

    /**
     * Checks the values, and that the required ones are set when the agent is enabled. Limits that belong to
     * the agent's builders (the shortest idle timeout, token TTL and sweep period) are checked when the beans
     * are created, again with the property's name.
     *
     * @throws IllegalArgumentException naming the property, if a value is malformed, or the agent is enabled
     *     without a required value
     */
    public Agent {
      allowedClusterRoles = allowedClusterRoles == null ? List.of() : List.copyOf(allowedClusterRoles);
      if (deniedNamespaces != null) {
        deniedNamespaces = List.copyOf(deniedNamespaces);
        for (String denied : deniedNamespaces) {
          namespaceName("jitaccess.agent.denied-namespaces", denied);
        }
      }
      for (String role : allowedClusterRoles) {
        if (role.isBlank()) {
          throw new IllegalArgumentException("jitaccess.agent.allowed-cluster-roles must not contain a blank name");
        }
      }
      if (relayUri != null && (!"https".equalsIgnoreCase(relayUri.getScheme()) || relayUri.getHost() == null)) {
        throw new IllegalArgumentException(
            "jitaccess.agent.relay-uri must be https://host:port (the relay's tunnel listener) but was " + relayUri);
      }
      if (issuer != null && issuer.isBlank()) {
        throw new IllegalArgumentException("jitaccess.agent.issuer must not be blank");
      }
      if (cluster != null) {
        try {
          AccessRequest.checkCluster(cluster);
        } catch (IllegalArgumentException e) {
          // "cluster must be 1-63 characters of [a-z0-9-] ... but was '...'"
          throw new IllegalArgumentException("jitaccess.agent." + e.getMessage(), e);
        }
      }
      namespaceName("jitaccess.agent.namespace", namespace);
      positive(idleTimeout, "jitaccess.agent.idle-timeout");
      positive(tokenTtl, "jitaccess.agent.token-ttl");
      positive(sweepPeriod, "jitaccess.agent.sweep-period");
      if (enabled) {
        required(relayUri, "jitaccess.agent.relay-uri", "the relay's tunnel listener, https://host:port");
        required(credentialFile, "jitaccess.agent.credential-file", "the agent credential the engine issued");
        required(jwksFile, "jitaccess.agent.jwks-file", "the engine's public keys (JitAccess.publicJwks())");
        required(cluster, "jitaccess.agent.cluster", "the id of the cluster this agent serves");
        if (allowedClusterRoles.isEmpty()) {
          throw new IllegalArgumentException(
              "jitaccess.agent.allowed-cluster-roles must not be empty when jitaccess.agent.enabled=true: list"
                  + " the ClusterRoles the agent may bind, for example view,edit");
        }
      }
    }

    private static void required(@Nullable Object value, String name, String what) {
      if (value == null) {
        throw new IllegalArgumentException(
            name + " is required when jitaccess.agent.enabled=true: " + what);
      }
    }

    private static void namespaceName(String property, String value) {
      try {
        AccessRequest.checkCluster(value); // the same rule: an RFC 1123 DNS label
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            property
                + ": '"
                + value
                + "' is not a Kubernetes namespace name (1-63 characters of [a-z0-9-], starting and ending with a"
                + " letter or digit)",
            e);
      }
    }

    /** Where the agent keeps revocations across restarts. */
    public enum RevocationStoreType {
      /** A ConfigMap in the agent's namespace: revocations survive a restart. */
      CONFIGMAP,
      /** Memory only: a restarted agent forgets revocations (grants live minutes). */
      MEMORY
    }
  }

  private static void positive(Duration value, String name) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive but was " + value);
    }
  }
}
