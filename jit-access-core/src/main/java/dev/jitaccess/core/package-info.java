/**
 * The jit-access engine: {@link dev.jitaccess.core.JitAccess} and its builder, grant signing and verification,
 * OIDC and session-token identity, the rule-based policy and the built-in audit sinks.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.jitaccess.core;

import org.jspecify.annotations.NullMarked;
