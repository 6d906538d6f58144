package dev.jitaccess.api.spi;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import java.util.List;

/**
 * Makes a ServiceAccount with exactly a grant's permissions exist in a cluster, and removes it again.
 *
 * <p>The agent calls this for every verified grant. Implementations must be thread-safe, idempotent and
 * cheap for a grant they have already provisioned (no writes to the cluster), and must never adopt objects
 * they did not create.
 *
 * @since 0.1.0
 */
public interface AccountProvisioner {

  /**
   * Ensures the subject's account exists with exactly the grant's permissions and returns a usable token.
   * Bindings the grant no longer contains are removed.
   *
   * @param grant a verified grant; never null
   * @return the account and a bound token valid for a while yet
   * @throws ProvisioningException if the account could not be made ready or the grant is unsafe to apply
   */
  ProvisionedAccount ensure(Grant grant);

  /**
   * Deletes the subject's bindings and ServiceAccount (which invalidates its tokens). Idempotent: removing
   * an absent account succeeds.
   *
   * @param subjectId the subject id as in {@link dev.jitaccess.api.Subject#id()}
   * @throws ProvisioningException if the cluster could not be reached or refused the deletion
   */
  void remove(String subjectId);

  /**
   * Deletes the accounts (and their bindings) that have not been used for the provisioner's idle timeout,
   * and bindings left without an account. The relay agent calls this at start and then periodically (at
   * most every five minutes) from one thread; it must keep no state between calls, so that a restarted
   * agent still cleans up what an earlier one created.
   *
   * <p>Blocks while it talks to the cluster. A failure to delete one object is logged by the implementation
   * and retried by the next call.
   *
   * @return the deleted objects, for logging, as {@code kind/name} or {@code kind/namespace/name}; empty
   *     when there was nothing to do. The default deletes nothing and returns an empty list.
   * @throws ProvisioningException if the managed objects could not be listed; nothing was deleted then
   * @since 0.1.0
   */
  default List<String> sweepIdle() {
    return List.of();
  }

  /**
   * Checks the privileges the provisioner itself holds in the cluster and reports each that is more than it
   * needs (for example {@code impersonate}, {@code escalate}, {@code *} on {@code *}, or reading secrets
   * cluster-wide). The relay agent calls this once at start, logs each finding at WARN and may refuse to
   * start.
   *
   * @return one human-readable finding per excess privilege, naming the privilege and what to change;
   *     empty when nothing is wrong. The default checks nothing and returns an empty list.
   * @throws ProvisioningException if the privileges could not be checked
   * @since 0.1.0
   */
  default List<String> privilegeWarnings() {
    return List.of();
  }
}
