/**
 * Service provider interfaces through which a host application plugs identity, policy, audit and account
 * provisioning into jit-access.
 *
 * <p>{@link dev.jitaccess.api.spi.IdentityProvider}, {@link dev.jitaccess.api.spi.PolicyProvider} and
 * {@link dev.jitaccess.api.spi.AuditSink} have one abstract method each and can be written as lambdas.
 * These interfaces evolve only by adding {@code default} methods.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.jitaccess.api.spi;

import org.jspecify.annotations.NullMarked;
