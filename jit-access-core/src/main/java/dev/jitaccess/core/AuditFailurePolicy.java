package dev.jitaccess.core;

/**
 * What {@link JitAccess} does with a grant whose {@link dev.jitaccess.api.AuditEvent.Type#GRANTED} record no
 * audit sink accepted.
 *
 * <p>Whatever the policy, a failing sink never breaks a call: it is logged (once per failure streak) and a
 * {@link dev.jitaccess.api.AuditEvent.Type#WARNING} goes to the other sinks. The policy applies only when at
 * least one sink is configured; an engine without sinks keeps no audit trail at all.
 *
 * @since 0.1.0
 */
public enum AuditFailurePolicy {
  /**
   * Refuse the grant: the caller gets an {@link dev.jitaccess.api.AccessDeniedException} saying the audit trail
   * is unavailable, and nothing is cached. The default: no access without a record of it.
   */
  FAIL_CLOSED,

  /** Hand out the grant anyway; the sink failures stay visible in the log and in WARNING events. */
  FAIL_OPEN
}
