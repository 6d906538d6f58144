package dev.jitaccess.k8s;

import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.k8s.internal.RetrySettings;
import dev.jitaccess.k8s.internal.SweepEngine;
import dev.jitaccess.k8s.internal.Sleeper;
import io.kubernetes.client.openapi.ApiClient;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the just-in-time ServiceAccounts whose {@code jitaccess.dev/expires-at} has passed, their
 * bindings, and bindings whose account is gone.
 *
 * <p>The sweeper keeps no state: every {@link #sweep()} lists everything labelled
 * {@code app.kubernetes.io/managed-by=jit-access} (ClusterRoleBindings, RoleBindings in all namespaces and
 * ServiceAccounts in its namespace, each with full {@code limit}/{@code continue} pagination), so a new
 * instance after a restart cleans up what an earlier one created. An account whose {@code expires-at} is
 * missing or unparseable is treated as expired: jit-access always writes a valid value, so anything else is
 * damage or tampering, and deleting it only costs its user a re-provisioning on the next request (fail
 * closed). A binding whose {@code jitaccess.dev/subject-hash} label is missing or malformed is treated as
 * orphaned for the same reason.
 *
 * <p>{@link #start()} runs a sweep at once and then every {@linkplain Builder#period(Duration) period};
 * {@link #close()} stops it. Thread-safe.
 *
 * @since 0.1.0
 */
public final class IdleAccountSweeper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IdleAccountSweeper.class);

  private final SweepEngine engine;
  private final Duration period;
  private @Nullable ScheduledFuture<?> scheduled;
  private @Nullable ScheduledExecutorService ownExecutor;
  private boolean closed;

  private IdleAccountSweeper(SweepEngine engine, Duration period) {
    this.engine = engine;
    this.period = period;
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
   * Sweeps once, now, on the calling thread. A failed deletion is logged, counted in
   * {@link SweepResult#failures()} and retried by the next sweep. What was deleted is logged at INFO.
   *
   * @return what was deleted
   * @throws ProvisioningException if listing the managed objects failed; nothing was deleted then
   */
  public SweepResult sweep() {
    SweepEngine.Outcome outcome = engine.sweep();
    return new SweepResult(outcome.serviceAccounts(), outcome.bindings(), outcome.failures());
  }

  /**
   * Sweeps now and then every period on a daemon thread of its own, until {@link #close()}.
   *
   * @throws IllegalStateException if already started or closed
   */
  public synchronized void start() {
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "jit-access-idle-sweeper");
              thread.setDaemon(true);
              return thread;
            });
    try {
      start(executor);
    } catch (IllegalStateException e) {
      executor.shutdownNow();
      throw e;
    }
    ownExecutor = executor;
  }

  /**
   * Sweeps now and then every period on the given executor, until {@link #close()}. The executor is not
   * shut down by {@link #close()}.
   *
   * @param executor the executor to run sweeps on
   * @throws IllegalStateException if already started or closed
   */
  public synchronized void start(ScheduledExecutorService executor) {
    Objects.requireNonNull(executor, "executor");
    if (closed) {
      throw new IllegalStateException("the sweeper is closed");
    }
    if (scheduled != null) {
      throw new IllegalStateException("the sweeper is already started");
    }
    scheduled =
        executor.scheduleWithFixedDelay(
            this::sweepQuietly, 0, period.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void sweepQuietly() {
    try {
      sweep();
    } catch (RuntimeException e) {
      // A thrown exception would silently end the schedule.
      log.warn("Idle account sweep failed; trying again in {}", period, e);
    }
  }

  /** Stops the periodic sweeps; a sweep in progress finishes. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    if (scheduled != null) {
      scheduled.cancel(false);
    }
    if (ownExecutor != null) {
      ownExecutor.shutdown();
    }
  }

  /**
   * Configures an {@link IdleAccountSweeper}. Each property may be set once. Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    /** The default number of items per list call. */
    public static final int DEFAULT_PAGE_SIZE = 500;

    /** The default and longest period between sweeps. */
    public static final Duration MAX_PERIOD = Duration.ofMinutes(5);

    private @Nullable ApiClient apiClient;
    private @Nullable String namespace;
    private @Nullable InstantSource clock;
    private @Nullable Integer pageSize;
    private @Nullable Duration period;
    private Sleeper sleeper = Sleeper.SYSTEM;

    private Builder() {}

    /**
     * The Kubernetes client. Default: {@code Config.defaultClient()} (in-cluster, else kubeconfig).
     *
     * @param apiClient the client
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder apiClient(ApiClient apiClient) {
      KubernetesAccountProvisioner.Builder.once(this.apiClient, "apiClient");
      this.apiClient = Objects.requireNonNull(apiClient, "apiClient");
      return this;
    }

    /**
     * The namespace of the ServiceAccounts; the provisioner's namespace. Default {@code jit-access}.
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
     * The time source expiry is judged by. Default {@link InstantSource#system()}.
     *
     * @param clock the clock
     * @return this builder
     * @throws IllegalStateException if already set
     */
    public Builder clock(InstantSource clock) {
      KubernetesAccountProvisioner.Builder.once(this.clock, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Items per list call ({@code limit}). Default {@value #DEFAULT_PAGE_SIZE}.
     *
     * @param pageSize 1 to 5000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if already set
     */
    public Builder pageSize(int pageSize) {
      KubernetesAccountProvisioner.Builder.once(this.pageSize, "pageSize");
      if (pageSize < 1 || pageSize > 5000) {
        throw new IllegalArgumentException("pageSize must be 1 to 5000 but was " + pageSize);
      }
      this.pageSize = pageSize;
      return this;
    }

    /**
     * Time between the end of one scheduled sweep and the start of the next. Default and maximum 5 minutes.
     *
     * @param period 1 second to 5 minutes
     * @return this builder
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if already set
     */
    public Builder period(Duration period) {
      KubernetesAccountProvisioner.Builder.once(this.period, "period");
      Objects.requireNonNull(period, "period");
      if (period.compareTo(Duration.ofSeconds(1)) < 0 || period.compareTo(MAX_PERIOD) > 0) {
        throw new IllegalArgumentException("period must be PT1S to PT5M but was " + period);
      }
      this.period = period;
      return this;
    }

    /** Replaces real sleeping between retries; for tests in this package. */
    Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /**
     * Builds the sweeper (not started). The builder is unchanged.
     *
     * @return a new sweeper
     * @throws IllegalStateException if no Kubernetes configuration is found when no client was given
     */
    public IdleAccountSweeper build() {
      ApiClient client =
          apiClient == null ? KubernetesAccountProvisioner.Builder.defaultClient() : apiClient;
      SweepEngine engine =
          new SweepEngine(
              client,
              namespace == null ? KubernetesAccountProvisioner.Builder.DEFAULT_NAMESPACE : namespace,
              clock == null ? InstantSource.system() : clock,
              pageSize == null ? DEFAULT_PAGE_SIZE : pageSize,
              RetrySettings.DEFAULT,
              sleeper);
      return new IdleAccountSweeper(engine, period == null ? MAX_PERIOD : period);
    }
  }
}
