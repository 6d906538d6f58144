package dev.jitaccess.k8s;

import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.api.spi.RevocationStore;
import dev.jitaccess.k8s.internal.KubeCalls;
import dev.jitaccess.k8s.internal.Names;
import dev.jitaccess.k8s.internal.RetrySettings;
import dev.jitaccess.k8s.internal.Sleeper;
import dev.jitaccess.k8s.internal.Tombstones;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the relay agent's revocation tombstones in one ConfigMap in the agent's namespace, so that an agent
 * restarted with empty memory still refuses a revoked grant until it expires.
 *
 * <p>The ConfigMap ({@value Builder#DEFAULT_NAME} in {@value KubernetesAccountProvisioner.Builder#DEFAULT_NAMESPACE}
 * by default) is labelled {@code app.kubernetes.io/managed-by=jit-access}; a ConfigMap of that name without
 * the label is never read or written (name squatting). Each data key is the subject hash also used in the
 * ServiceAccount name; the value is {@code revokedAt|keepUntil|rawSubjectId}.
 *
 * <p>{@link #record} reads the ConfigMap, merges the revocation (later times win, so duplicates and reordered
 * revocations are harmless), drops entries whose {@code keepUntil} has passed, and writes it back with the
 * {@code resourceVersion} it read (optimistic concurrency). It creates the ConfigMap when it is missing. On a
 * conflict (409) it reads again and merges again, up to {@value #MAX_CONFLICTS} times. Transient failures
 * (429, 5xx, timeouts) are retried like the provisioner's calls. A ConfigMap holds at most 1 MiB: about
 * 10,000 live tombstones.
 *
 * <p>Thread-safe and stateless; several agents may share one ConfigMap.
 *
 * @since 0.1.0
 */
public final class ConfigMapRevocationStore implements RevocationStore {
  /** How many conflicting writes {@link #record} absorbs before it gives up. */
  public static final int MAX_CONFLICTS = 5;

  private static final Logger log = LoggerFactory.getLogger(ConfigMapRevocationStore.class);

  private final CoreV1Api core;
  private final KubeCalls calls;
  private final String namespace;
  private final String name;
  private final InstantSource clock;

  private ConfigMapRevocationStore(
      ApiClient client, KubeCalls calls, String namespace, String name, InstantSource clock) {
    this.core = new CoreV1Api(client);
    this.calls = calls;
    this.namespace = namespace;
    this.name = name;
    this.clock = clock;
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
   * <p>Makes no write when the ConfigMap already holds this revocation (or a later one) for the subject.
   *
   * @throws ProvisioningException if the ConfigMap is not managed by jit-access (409, not retryable), the
   *     write conflicted {@value #MAX_CONFLICTS} times (409, retryable), or the cluster failed
   */
  @Override
  public void record(String subjectId, Instant revokedAt, Instant keepUntil) {
    Objects.requireNonNull(subjectId, "subjectId");
    Objects.requireNonNull(revokedAt, "revokedAt");
    Objects.requireNonNull(keepUntil, "keepUntil");
    if (subjectId.isBlank()) {
      throw new IllegalArgumentException("subjectId must not be blank");
    }
    if (keepUntil.isBefore(revokedAt)) {
      throw new IllegalArgumentException(
          "keepUntil must not be before revokedAt " + revokedAt + " but was " + keepUntil);
    }
    Tombstones.Entry entry = new Tombstones.Entry(subjectId, revokedAt, keepUntil);
    for (int attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      if (tryRecord(entry)) {
        return;
      }
      log.debug("Revocation ConfigMap {}/{} changed meanwhile (attempt {}); merging again", namespace, name, attempt);
    }
    throw new ProvisioningException(
        "Could not record the revocation of "
            + subjectId
            + " in ConfigMap "
            + where()
            + ": it was changed by someone else "
            + MAX_CONFLICTS
            + " times in a row; retry",
        409,
        true,
        null);
  }

  /** One read-merge-write; false on a conflict. */
  private boolean tryRecord(Tombstones.Entry entry) {
    Optional<V1ConfigMap> current =
        calls.read("read ConfigMap " + where(), () -> core.readNamespacedConfigMap(name, namespace).execute());
    Instant now = clock.instant();
    if (current.isEmpty()) {
      V1ConfigMap created =
          new V1ConfigMap()
              .metadata(
                  new V1ObjectMeta()
                      .name(name)
                      .namespace(namespace)
                      .labels(Map.of(Names.MANAGED_BY_LABEL, Names.MANAGED_BY_VALUE)))
              .data(Tombstones.record(null, entry, now));
      return writeUnlessConflict(
          "create ConfigMap " + where(), () -> core.createNamespacedConfigMap(namespace, created).execute());
    }
    V1ConfigMap configMap = checkedOurs(current.get());
    Map<String, String> data = Tombstones.record(configMap.getData(), entry, now);
    if (data.equals(configMap.getData())) {
      return true;
    }
    configMap.setData(data);
    return writeUnlessConflict(
        "update ConfigMap " + where(), () -> core.replaceNamespacedConfigMap(name, namespace, configMap).execute());
  }

  private boolean writeUnlessConflict(String what, KubeCalls.Call<V1ConfigMap> write) {
    try {
      calls.run(what, write);
      return true;
    } catch (ProvisioningException e) {
      if (e.statusCode() == 409) {
        return false;
      }
      throw e;
    }
  }

  /**
   * {@inheritDoc}
   *
   * @return the tombstones whose {@code keepUntil} has not passed; empty if the ConfigMap does not exist
   * @throws ProvisioningException if the ConfigMap is not managed by jit-access or could not be read
   */
  @Override
  public Map<String, Instant> load() {
    Optional<V1ConfigMap> current =
        calls.read("read ConfigMap " + where(), () -> core.readNamespacedConfigMap(name, namespace).execute());
    if (current.isEmpty()) {
      return Map.of();
    }
    Map<String, String> data = checkedOurs(current.get()).getData();
    int malformed = Tombstones.malformed(data);
    if (malformed > 0) {
      log.warn("Ignored {} malformed entries in revocation ConfigMap {}", malformed, where());
    }
    return Tombstones.live(data, clock.instant());
  }

  private V1ConfigMap checkedOurs(V1ConfigMap configMap) {
    V1ObjectMeta meta = configMap.getMetadata();
    Map<String, String> labels = meta == null ? null : meta.getLabels();
    if (labels == null || !Names.MANAGED_BY_VALUE.equals(labels.get(Names.MANAGED_BY_LABEL))) {
      throw new ProvisioningException(
          "ConfigMap "
              + where()
              + " exists but is not labelled "
              + Names.MANAGED_SELECTOR
              + "; jit-access does not use objects it did not create. Delete it or configure another name",
          409,
          false,
          null);
    }
    return configMap;
  }

  private String where() {
    return namespace + "/" + name;
  }

  @Override
  public String toString() {
    return "ConfigMapRevocationStore[" + where() + "]";
  }

  /**
   * Configures a {@link ConfigMapRevocationStore}. Each property may be set once. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    /** The default ConfigMap name. */
    public static final String DEFAULT_NAME = "jit-access-revocations";

    private @Nullable ApiClient apiClient;
    private @Nullable String namespace;
    private @Nullable String name;
    private @Nullable InstantSource clock;
    private Sleeper sleeper = Sleeper.SYSTEM;

    private Builder() {}

    /**
     * The Kubernetes client. Default: {@code Config.defaultClient()} (in-cluster, else kubeconfig).
     *
     * @param apiClient the client
     * @return this builder
     * @throws NullPointerException if null
     * @throws IllegalStateException if already set
     */
    public Builder apiClient(ApiClient apiClient) {
      KubernetesAccountProvisioner.Builder.once(this.apiClient, "apiClient");
      this.apiClient = Objects.requireNonNull(apiClient, "apiClient");
      return this;
    }

    /**
     * The namespace of the ConfigMap; normally the agent's own. Default {@code jit-access}.
     *
     * @param namespace a namespace name
     * @return this builder
     * @throws IllegalArgumentException if not a valid namespace name
     * @throws IllegalStateException if already set
     */
    public Builder namespace(String namespace) {
      KubernetesAccountProvisioner.Builder.once(this.namespace, "namespace");
      this.namespace = KubernetesAccountProvisioner.Builder.checkedNamespace(namespace, "namespace");
      return this;
    }

    /**
     * The ConfigMap name. Default {@value #DEFAULT_NAME}. Keep it equal to the {@code resourceNames} of the
     * agent's RBAC ({@code deploy/agent-rbac.yaml}).
     *
     * @param name 1-63 characters of {@code [a-z0-9-]}, starting and ending alphanumeric
     * @return this builder
     * @throws IllegalArgumentException if not such a name
     * @throws IllegalStateException if already set
     */
    public Builder name(String name) {
      KubernetesAccountProvisioner.Builder.once(this.name, "name");
      Objects.requireNonNull(name, "name");
      if (!Names.isDnsLabel(name)) {
        throw new IllegalArgumentException(
            "name must be 1-63 characters of [a-z0-9-], starting and ending with a letter or digit, but was '"
                + name
                + "'");
      }
      this.name = name;
      return this;
    }

    /**
     * The time source for purging expired tombstones. Default {@link InstantSource#system()}.
     *
     * @param clock the clock
     * @return this builder
     * @throws NullPointerException if null
     * @throws IllegalStateException if already set
     */
    public Builder clock(InstantSource clock) {
      KubernetesAccountProvisioner.Builder.once(this.clock, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Replaces real sleeping between retries; for tests in this package. */
    Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /**
     * Builds the store. The builder is unchanged.
     *
     * @return a new store; it makes no call until used
     * @throws IllegalStateException if no Kubernetes configuration is found when no client was given
     */
    public ConfigMapRevocationStore build() {
      ApiClient client =
          apiClient == null ? KubernetesAccountProvisioner.Builder.defaultClient() : apiClient;
      return new ConfigMapRevocationStore(
          client,
          new KubeCalls(RetrySettings.DEFAULT, sleeper),
          namespace == null ? KubernetesAccountProvisioner.Builder.DEFAULT_NAMESPACE : namespace,
          name == null ? DEFAULT_NAME : name,
          clock == null ? InstantSource.system() : clock);
    }
  }
}
