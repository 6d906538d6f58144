package dev.jitaccess.k8s;

import java.util.List;

/**
 * What one {@link IdleAccountSweeper#sweep()} deleted, for the caller to audit.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param deletedServiceAccounts names of the deleted ServiceAccounts (all in the sweeper's namespace)
 * @param deletedBindings the deleted bindings, as {@code clusterrolebinding/<name>} or
 *     {@code rolebinding/<namespace>/<name>}
 * @param failures how many deletions failed (logged at WARN; the next sweep tries again)
 * @since 0.1.0
 */
public record SweepResult(
    List<String> deletedServiceAccounts, List<String> deletedBindings, int failures) {

  /**
   * Copies the lists.
   *
   * @throws NullPointerException if a list or an element is null
   * @throws IllegalArgumentException if {@code failures} is negative
   */
  public SweepResult {
    deletedServiceAccounts = List.copyOf(deletedServiceAccounts);
    deletedBindings = List.copyOf(deletedBindings);
    if (failures < 0) {
      throw new IllegalArgumentException("failures must not be negative but was " + failures);
    }
  }

  /**
   * How many ServiceAccounts were deleted.
   *
   * @return the size of {@link #deletedServiceAccounts()}
   */
  public int deletedServiceAccountCount() {
    return deletedServiceAccounts.size();
  }

  /**
   * How many bindings were deleted.
   *
   * @return the size of {@link #deletedBindings()}
   */
  public int deletedBindingCount() {
    return deletedBindings.size();
  }

  /**
   * Whether the sweep deleted nothing and nothing failed.
   *
   * @return true for a sweep with nothing to do
   */
  public boolean isEmpty() {
    return deletedServiceAccounts.isEmpty() && deletedBindings.isEmpty() && failures == 0;
  }
}
