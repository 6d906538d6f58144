package dev.jitaccess.api.spi;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;

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
}
