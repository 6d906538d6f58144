package dev.jitaccess.core;

import dev.jitaccess.api.Subject;
import java.util.List;

/**
 * Tells the access-request workflow which roles a subject may request on a cluster, and how such requests
 * are approved. {@link RulePolicyProvider} implements it from its {@code activation: eligible} bindings; the
 * engine uses the policy provider when it implements this interface, or the one given to
 * {@link JitAccess.Builder#eligibilityPolicy(EligibilityPolicy)}.
 *
 * <p>Implementations must be thread-safe and side-effect free; they may block. The engine asks again at each
 * review, so a change in who may approve takes effect at once. A runtime exception is a refusal.
 *
 * @since 0.2.0
 */
@FunctionalInterface
public interface EligibilityPolicy {

  /**
   * The eligible roles of a subject on a cluster, one entry per matching eligible binding (a role may appear
   * more than once, with different rules or namespaces).
   *
   * @param subject the requester (or, at review time, the requester again); never null
   * @param cluster a valid cluster id; never null
   * @return the entries; empty when the subject may request nothing there
   */
  List<EligibleRole> eligibleRoles(Subject subject, String cluster);
}
