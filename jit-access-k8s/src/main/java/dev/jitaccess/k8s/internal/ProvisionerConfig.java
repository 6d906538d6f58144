package dev.jitaccess.k8s.internal;

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;

/**
 * The validated settings of a provisioner; the public builder checks every value before it makes one.
 *
 * @param namespace where ServiceAccounts live
 * @param allowedClusterRoles the only ClusterRoles ever bound
 * @param deniedNamespaces namespaces never bound in
 * @param idleTimeout how long an unused account lives
 * @param tokenTtl the token lifetime asked for
 * @param tokenAudiences the token audiences; empty for the apiserver's default
 * @param clock the time source
 * @param retry how failed calls are retried
 */
public record ProvisionerConfig(
    String namespace,
    Set<String> allowedClusterRoles,
    Set<String> deniedNamespaces,
    Duration idleTimeout,
    Duration tokenTtl,
    List<String> tokenAudiences,
    InstantSource clock,
    RetrySettings retry) {

  /** The shortest refresh interval of the {@code expires-at} annotation. */
  public static final Duration EXPIRY_REFRESH_INTERVAL = Duration.ofMinutes(1);

  /** Copies the collections. */
  public ProvisionerConfig {
    allowedClusterRoles = Set.copyOf(allowedClusterRoles);
    deniedNamespaces = Set.copyOf(deniedNamespaces);
    tokenAudiences = List.copyOf(tokenAudiences);
  }
}
