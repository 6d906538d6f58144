package dev.jitaccess.k8s;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.k8s.internal.AccountReconciler;
import dev.jitaccess.k8s.internal.KubeCalls;
import dev.jitaccess.k8s.internal.Names;
import dev.jitaccess.k8s.internal.PrivilegeCheck;
import dev.jitaccess.k8s.internal.ProvisionerConfig;
import dev.jitaccess.k8s.internal.RetrySettings;
import dev.jitaccess.k8s.internal.Sleeper;
import dev.jitaccess.k8s.internal.SweepEngine;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Provisions just-in-time ServiceAccounts in the cluster the agent runs in: one ServiceAccount per subject,
 * one RoleBinding or ClusterRoleBinding per granted {@link dev.jitaccess.api.Permission}, and a bound token
 * from the TokenRequest API.
 *
 * <p><b>Names.</b> The ServiceAccount is {@code jit-} followed by 32 lowercase base32 characters of the
 * SHA-256 of the subject id, so any subject id (e-mail addresses, {@code ../admin}, 1,000 characters) gives a
 * valid, distinct name; the raw id is stored only in the {@code jitaccess.dev/subject} annotation. Every
 * object carries the labels {@code app.kubernetes.io/managed-by=jit-access} and
 * {@code jitaccess.dev/subject-hash}, and the account carries {@code jitaccess.dev/expires-at} (last use +
 * {@linkplain Builder#idleTimeout(Duration) idle timeout}), which {@link IdleAccountSweeper} acts on.
 *
 * <p><b>Safety.</b> A grant naming a ClusterRole outside {@link Builder#allowedClusterRoles(Set)} or a
 * namespace in {@link Builder#deniedNamespaces(Set)} is refused with a {@link ProvisioningException} (status
 * 0, not retryable) before any call. An existing object with a generated name is adopted only if it carries
 * the managed-by label and the same subject annotation; otherwise the call fails (name squatting). The
 * account is created before its bindings, so a failure part-way leaves nothing without an owner record.
 *
 * <p><b>Cost.</b> A new subject costs one create per object, two list calls (to remove leftover bindings of
 * an earlier life of the account: bindings refer to the account by name), and one TokenRequest. Re-ensuring
 * an unchanged grant makes no call at all, except refreshing {@code expires-at} at most once a minute and
 * requesting a new token when less than a fifth (at least two minutes) of the current one's life remains.
 *
 * <p><b>Failures.</b> 429 waits at least {@code Retry-After}; 500, 502, 503, 504 and timeouts are retried
 * with capped, jittered backoff, reading before creating again; 409 (not ours), 422, 401 and 403 fail at
 * once. Tokens never appear in log lines or exception messages. The {@link ApiClient}'s own HTTP client may
 * send a request again by itself when a connection fails (OkHttp's {@code retryOnConnectionFailure}, on in
 * client-java's default client), at once and below these attempts: a create cut by connection resets can reach
 * kube-apiserver up to a few times per attempt (bounded; a repeated create is answered 409 and adopted as ours).
 * Give the builder an {@code ApiClient} whose {@code OkHttpClient} has {@code retryOnConnectionFailure(false)}
 * for exactly {@link Builder#maxAttempts(int)} sends.
 *
 * <p>Instances are immutable in configuration and thread-safe; calls for one subject are serialized.
 *
 * @since 0.1.0
 */
public final class KubernetesAccountProvisioner implements AccountProvisioner {

  private final AccountReconciler reconciler;
  private final SweepEngine sweeper;
  private final PrivilegeCheck privileges;
  private final String namespace;

  private KubernetesAccountProvisioner(
      AccountReconciler reconciler, SweepEngine sweeper, PrivilegeCheck privileges, String namespace) {
    this.reconciler = reconciler;
    this.sweeper = sweeper;
    this.privileges = privileges;
    this.namespace = namespace;
  }

  /**
   * Starts a builder with the documented defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@inheritDoc}
   *
   * @throws NullPointerException if {@code grant} is null
   * @throws ProvisioningException if a role is not allowed or a namespace denied (status 0, before any
   *     call), an object of a generated name belongs to someone else (409), or the cluster failed
   */
  @Override
  public ProvisionedAccount ensure(Grant grant) {
    return reconciler.ensure(grant);
  }

  /**
   * {@inheritDoc}
   *
   * @throws NullPointerException if {@code subjectId} is null
   * @throws IllegalArgumentException if {@code subjectId} is blank
   */
  @Override
  public void remove(String subjectId) {
    reconciler.remove(subjectId);
  }

  /**
   * Runs one sweep of {@link IdleAccountSweeper} over this provisioner's namespace, with its client, clock
   * and retry settings: deletes accounts whose {@code expires-at} has passed, their bindings, and bindings
   * whose account is gone. What was deleted is also logged at INFO; a failed deletion is logged at WARN and
   * retried by the next sweep.
   *
   * @return the deleted objects as {@code serviceaccount/<namespace>/<name>},
   *     {@code clusterrolebinding/<name>} or {@code rolebinding/<namespace>/<name>}
   * @throws ProvisioningException if listing the managed objects failed; nothing was deleted then
   */
  @Override
  public List<String> sweepIdle() {
    SweepEngine.Outcome outcome = sweeper.sweep();
    List<String> deleted = new ArrayList<>(outcome.bindings());
    for (String account : outcome.serviceAccounts()) {
      deleted.add("serviceaccount/" + namespace + "/" + account);
    }
    return List.copyOf(deleted);
  }

  /**
   * Checks the privileges of the identity this provisioner talks to the cluster as (SECURITY 19): one
   * {@code SelfSubjectAccessReview} each for impersonating users, groups and ServiceAccounts, escalating
   * ClusterRoles, binding {@code cluster-admin}, {@code *} on {@code *}, and reading secrets in all
   * namespaces. The agent needs none of these; see {@code deploy/agent-rbac.yaml}. Costs seven calls.
   *
   * @return one finding per privilege held; empty when the agent holds none of them
   * @throws ProvisioningException if a review could not be made (for example kube-apiserver unreachable)
   */
  public List<String> checkOwnPrivileges() {
    return privileges.findings();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Same as {@link #checkOwnPrivileges()}.
   */
  @Override
  public List<String> privilegeWarnings() {
    return checkOwnPrivileges();
  }

  /**
   * Configures a {@link KubernetesAccountProvisioner}. Each property may be set once; values are checked
   * when set and again together by {@link #build()}. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    /** The default namespace of the ServiceAccounts. */
    public static final String DEFAULT_NAMESPACE = "jit-access";

    /** The namespaces denied by default. */
    public static final Set<String> DEFAULT_DENIED_NAMESPACES =
        Set.of("kube-system", "kube-public", "kube-node-lease");

    /** The default idle timeout: 8 hours. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(8);

    /** The default and minimum token lifetime: 10 minutes (the TokenRequest API minimum). */
    public static final Duration MIN_TOKEN_TTL = Duration.ofMinutes(10);

    private @Nullable ApiClient apiClient;
    private @Nullable String namespace;
    private @Nullable Set<String> allowedClusterRoles;
    private @Nullable Set<String> deniedNamespaces;
    private @Nullable Duration idleTimeout;
    private @Nullable Duration tokenTtl;
    private @Nullable List<String> tokenAudiences;
    private @Nullable InstantSource clock;
    private @Nullable Integer maxAttempts;
    private @Nullable Duration retryBaseDelay;
    private @Nullable Duration retryMaxDelay;
    private @Nullable Duration maxRetryAfter;
    private Sleeper sleeper = Sleeper.SYSTEM;

    private Builder() {}

    /**
     * The Kubernetes client. Default: {@code Config.defaultClient()}, that is the in-cluster configuration,
     * else the current kubeconfig.
     *
     * @param apiClient the client
     * @return this builder
     * @throws NullPointerException if null
     * @throws IllegalStateException if already set
     */
    public Builder apiClient(ApiClient apiClient) {
      once(this.apiClient, "apiClient");
      this.apiClient = Objects.requireNonNull(apiClient, "apiClient");
      return this;
    }

    /**
     * The namespace the ServiceAccounts live in. Default {@value #DEFAULT_NAMESPACE}.
     *
     * @param namespace a namespace name
     * @return this builder
     * @throws IllegalArgumentException if not a valid namespace name
     * @throws IllegalStateException if already set
     */
    public Builder namespace(String namespace) {
      once(this.namespace, "namespace");
      this.namespace = checkedNamespace(namespace, "namespace");
      return this;
    }

    /**
     * The only ClusterRoles this provisioner will ever bind. Default: none, which refuses every grant.
     *
     * @param allowedClusterRoles ClusterRole names; copied
     * @return this builder
     * @throws IllegalArgumentException if a name is blank
     * @throws IllegalStateException if already set
     */
    public Builder allowedClusterRoles(Set<String> allowedClusterRoles) {
      once(this.allowedClusterRoles, "allowedClusterRoles");
      Set<String> roles = new TreeSet<>();
      for (String role : Objects.requireNonNull(allowedClusterRoles, "allowedClusterRoles")) {
        Objects.requireNonNull(role, "allowedClusterRoles element");
        if (role.isBlank() || !role.equals(role.strip())) {
          throw new IllegalArgumentException(
              "allowedClusterRoles must hold ClusterRole names but contained '" + role + "'");
        }
        roles.add(role);
      }
      this.allowedClusterRoles = roles;
      return this;
    }

    /**
     * Namespaces in which no role is ever bound. Default {@code kube-system}, {@code kube-public},
     * {@code kube-node-lease}. Replaces the default; include those to keep them denied. The provisioner's own
     * {@linkplain #namespace(String) namespace} is always denied as well, whatever this set holds: every user's
     * ServiceAccount lives there.
     *
     * @param deniedNamespaces namespace names; copied
     * @return this builder
     * @throws IllegalArgumentException if a name is not a valid namespace name
     * @throws IllegalStateException if already set
     */
    public Builder deniedNamespaces(Set<String> deniedNamespaces) {
      once(this.deniedNamespaces, "deniedNamespaces");
      Set<String> names = new TreeSet<>();
      for (String ns : Objects.requireNonNull(deniedNamespaces, "deniedNamespaces")) {
        names.add(checkedNamespace(ns, "deniedNamespaces element"));
      }
      this.deniedNamespaces = names;
      return this;
    }

    /**
     * How long an account lives after its last use before the sweeper deletes it. Default 8 hours.
     *
     * @param idleTimeout at least 2 minutes (the annotation is refreshed at most once a minute)
     * @return this builder
     * @throws IllegalArgumentException if shorter than 2 minutes
     * @throws IllegalStateException if already set
     */
    public Builder idleTimeout(Duration idleTimeout) {
      once(this.idleTimeout, "idleTimeout");
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      if (idleTimeout.compareTo(Duration.ofMinutes(2)) < 0) {
        throw new IllegalArgumentException("idleTimeout must be at least PT2M but was " + idleTimeout);
      }
      this.idleTimeout = idleTimeout;
      return this;
    }

    /**
     * The token lifetime asked for. Kubernetes may issue a shorter one; the real expiry is used. Default and
     * minimum 10 minutes.
     *
     * @param tokenTtl whole seconds, at least 10 minutes
     * @return this builder
     * @throws IllegalArgumentException if shorter than 10 minutes or not whole seconds
     * @throws IllegalStateException if already set
     */
    public Builder tokenTtl(Duration tokenTtl) {
      once(this.tokenTtl, "tokenTtl");
      Objects.requireNonNull(tokenTtl, "tokenTtl");
      if (tokenTtl.compareTo(MIN_TOKEN_TTL) < 0 || tokenTtl.getNano() != 0) {
        throw new IllegalArgumentException(
            "tokenTtl must be whole seconds and at least " + MIN_TOKEN_TTL + " but was " + tokenTtl);
      }
      this.tokenTtl = tokenTtl;
      return this;
    }

    /**
     * The audiences of the tokens. Default: none, which means the apiserver's own audience.
     *
     * @param tokenAudiences non-blank audiences; copied
     * @return this builder
     * @throws IllegalArgumentException if an audience is blank
     * @throws IllegalStateException if already set
     */
    public Builder tokenAudiences(List<String> tokenAudiences) {
      once(this.tokenAudiences, "tokenAudiences");
      List<String> copy = new ArrayList<>();
      for (String audience : Objects.requireNonNull(tokenAudiences, "tokenAudiences")) {
        if (Objects.requireNonNull(audience, "tokenAudiences element").isBlank()) {
          throw new IllegalArgumentException("tokenAudiences must not contain a blank audience");
        }
        copy.add(audience);
      }
      this.tokenAudiences = List.copyOf(copy);
      return this;
    }

    /**
     * The time source for {@code expires-at} and token refresh. Default {@link InstantSource#system()}.
     *
     * @param clock the clock
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder clock(InstantSource clock) {
      once(this.clock, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Attempts per call, the first included. Default 4.
     *
     * @param maxAttempts at least 1
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     * @throws IllegalStateException if already set
     */
    public Builder maxAttempts(int maxAttempts) {
      once(this.maxAttempts, "maxAttempts");
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1 but was " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * The first retry delay; it doubles per attempt up to {@link #retryMaxDelay(Duration)}, with 25%
     * jitter. Default 200 ms.
     *
     * @param retryBaseDelay positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     * @throws IllegalStateException if already set
     */
    public Builder retryBaseDelay(Duration retryBaseDelay) {
      once(this.retryBaseDelay, "retryBaseDelay");
      this.retryBaseDelay = positive(retryBaseDelay, "retryBaseDelay");
      return this;
    }

    /**
     * The largest retry delay. Default 5 s.
     *
     * @param retryMaxDelay greater than the base delay
     * @return this builder
     * @throws IllegalArgumentException if not positive
     * @throws IllegalStateException if already set
     */
    public Builder retryMaxDelay(Duration retryMaxDelay) {
      once(this.retryMaxDelay, "retryMaxDelay");
      this.retryMaxDelay = positive(retryMaxDelay, "retryMaxDelay");
      return this;
    }

    /**
     * The longest {@code Retry-After} of a 429 that a call waits for; a longer one fails the call at once
     * (retryable) instead of blocking the user. Default 30 s.
     *
     * @param maxRetryAfter not negative
     * @return this builder
     * @throws IllegalArgumentException if negative
     * @throws IllegalStateException if already set
     */
    public Builder maxRetryAfter(Duration maxRetryAfter) {
      once(this.maxRetryAfter, "maxRetryAfter");
      Objects.requireNonNull(maxRetryAfter, "maxRetryAfter");
      if (maxRetryAfter.isNegative()) {
        throw new IllegalArgumentException("maxRetryAfter must not be negative but was " + maxRetryAfter);
      }
      this.maxRetryAfter = maxRetryAfter;
      return this;
    }

    /** Replaces real sleeping between retries; for tests in this package. */
    Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /**
     * Builds the provisioner. The builder is unchanged and may build again.
     *
     * @return a new provisioner
     * @throws IllegalStateException if the ServiceAccount namespace is denied, the retry delays are
     *     inconsistent, or no Kubernetes configuration is found when no client was given
     */
    public KubernetesAccountProvisioner build() {
      String ns = namespace == null ? DEFAULT_NAMESPACE : namespace;
      Set<String> denied = deniedNamespaces == null ? DEFAULT_DENIED_NAMESPACES : deniedNamespaces;
      if (denied.contains(ns)) {
        throw new IllegalStateException(
            "namespace " + ns + " is in deniedNamespaces " + denied + "; choose another namespace");
      }
      RetrySettings retry;
      try {
        retry =
            new RetrySettings(
                maxAttempts == null ? RetrySettings.DEFAULT.maxAttempts() : maxAttempts,
                retryBaseDelay == null ? RetrySettings.DEFAULT.baseDelay() : retryBaseDelay,
                retryMaxDelay == null ? RetrySettings.DEFAULT.maxDelay() : retryMaxDelay,
                maxRetryAfter == null ? RetrySettings.DEFAULT.maxRetryAfter() : maxRetryAfter);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
      ProvisionerConfig config =
          new ProvisionerConfig(
              ns,
              allowedClusterRoles == null ? Set.of() : allowedClusterRoles,
              denied,
              idleTimeout == null ? DEFAULT_IDLE_TIMEOUT : idleTimeout,
              tokenTtl == null ? MIN_TOKEN_TTL : tokenTtl,
              tokenAudiences == null ? List.of() : tokenAudiences,
              clock == null ? InstantSource.system() : clock,
              retry);
      ApiClient client = apiClient == null ? defaultClient() : apiClient;
      return new KubernetesAccountProvisioner(
          new AccountReconciler(client, config, sleeper),
          new SweepEngine(client, ns, config.clock(), IdleAccountSweeper.Builder.DEFAULT_PAGE_SIZE, retry, sleeper),
          new PrivilegeCheck(client, new KubeCalls(retry, sleeper)),
          ns);
    }

    static ApiClient defaultClient() {
      try {
        return Config.defaultClient();
      } catch (IOException | RuntimeException e) {
        throw new IllegalStateException(
            "No Kubernetes configuration found (in-cluster or kubeconfig); pass apiClient(...) explicitly",
            e);
      }
    }

    static String checkedNamespace(String namespace, String name) {
      Objects.requireNonNull(namespace, name);
      if (!Names.isDnsLabel(namespace)) {
        throw new IllegalArgumentException(
            name
                + " must be 1-63 characters of [a-z0-9-], starting and ending with a letter or digit, but was '"
                + namespace
                + "'");
      }
      return namespace;
    }

    static void once(@Nullable Object current, String name) {
      if (current != null) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }

    private static Duration positive(Duration value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive but was " + value);
      }
      return value;
    }
  }
}
