/**
 * Implementation details of jit-access-relay. Nothing in this package is API: it may change in any release
 * without notice.
 */
@NullMarked
package dev.jitaccess.relay.internal;

import org.jspecify.annotations.NullMarked;
