package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ProvisioningException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sweep over everything labelled {@code managed-by=jit-access}, from the cluster alone (no memory).
 *
 * <p>Bindings are listed <em>before</em> ServiceAccounts: the provisioner creates an account before its
 * bindings, so every binding in the first listing had its account when it was listed, and an account that
 * is created in between cannot be mistaken for missing. A binding is deleted when the account its subject
 * hash names is absent, expired, or the label is missing or malformed. An account is deleted when its
 * {@code expires-at} is past, missing or unparseable: jit-access always writes a valid value, so anything
 * else is damage or tampering, and deleting only costs the user a re-provisioning on the next request
 * (fail closed). Bindings go first, then accounts. A labelled binding that binds anything but {@code jit-}
 * ServiceAccounts of our namespace is never deleted (logged instead): a label is not proof of ownership.
 */
public final class SweepEngine {
  private static final Logger log = LoggerFactory.getLogger(SweepEngine.class);

  /** What one sweep deleted. */
  public record Outcome(List<String> serviceAccounts, List<String> bindings, int failures) {}

  private final ServiceAccounts accounts;
  private final Bindings bindings;
  private final InstantSource clock;
  private final String namespace;

  /**
   * Creates the engine.
   *
   * @param client the Kubernetes client
   * @param namespace where the ServiceAccounts live
   * @param clock the time source
   * @param pageSize items per list call
   * @param retry how failed calls are retried
   * @param sleeper how retries wait
   */
  public SweepEngine(
      ApiClient client,
      String namespace,
      InstantSource clock,
      int pageSize,
      RetrySettings retry,
      Sleeper sleeper) {
    KubeCalls calls = new KubeCalls(retry, sleeper);
    this.accounts = new ServiceAccounts(client, calls, namespace, pageSize);
    this.bindings = new Bindings(client, calls, pageSize);
    this.clock = clock;
    this.namespace = namespace;
  }

  /**
   * Sweeps once. A failed deletion is logged and counted and the sweep goes on.
   *
   * @return what was deleted
   * @throws ProvisioningException if a listing failed (nothing is deleted then)
   */
  public Outcome sweep() {
    List<BindingRef> allBindings = bindings.list(Names.MANAGED_SELECTOR);
    List<V1ServiceAccount> allAccounts = accounts.listManaged();
    Instant now = clock.instant();
    Set<String> live = new HashSet<>();
    List<String> expired = new ArrayList<>();
    for (V1ServiceAccount account : allAccounts) {
      V1ObjectMeta meta = account.getMetadata();
      String name = meta == null ? null : meta.getName();
      if (name == null) {
        continue;
      }
      if (isExpired(meta.getAnnotations(), now)) {
        expired.add(name);
      } else {
        live.add(name);
      }
    }
    List<String> deletedBindings = new ArrayList<>();
    List<String> deletedAccounts = new ArrayList<>();
    int failures = 0;
    for (BindingRef binding : allBindings) {
      String owner = Names.serviceAccountOrNull(binding.labels().get(Names.SUBJECT_HASH_LABEL));
      if (owner != null && live.contains(owner)) {
        continue;
      }
      if (!binding.bindsOnlyJitAccounts(namespace)) {
        log.warn(
            "Sweeper is not deleting {}: it carries the jit-access label but binds subjects outside {}",
            binding.displayName(),
            namespace);
        continue;
      }
      try {
        if (bindings.delete(binding)) {
          deletedBindings.add(binding.displayName());
        }
      } catch (ProvisioningException e) {
        failures++;
        log.warn("Sweeper could not delete {}; will retry next sweep", binding.displayName(), e);
      }
    }
    for (String name : expired) {
      try {
        if (accounts.delete(name)) {
          deletedAccounts.add(name);
        }
      } catch (ProvisioningException e) {
        failures++;
        log.warn("Sweeper could not delete ServiceAccount {}/{}; will retry next sweep", namespace, name, e);
      }
    }
    if (!deletedAccounts.isEmpty() || !deletedBindings.isEmpty()) {
      log.info(
          "Sweeper deleted ServiceAccounts {} in {} and bindings {}",
          deletedAccounts,
          namespace,
          deletedBindings);
    }
    return new Outcome(List.copyOf(deletedAccounts), List.copyOf(deletedBindings), failures);
  }

  private static boolean isExpired(@Nullable Map<String, String> annotations, Instant now) {
    String value = annotations == null ? null : annotations.get(Names.EXPIRES_AT_ANNOTATION);
    if (value == null) {
      return true;
    }
    try {
      return !now.isBefore(Instant.parse(value));
    } catch (DateTimeParseException e) {
      return true;
    }
  }
}
