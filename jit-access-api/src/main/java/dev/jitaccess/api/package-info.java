/**
 * Immutable value types, decisions and exceptions shared by every jit-access module.
 *
 * <p>Every record validates its components in its compact constructor: ids are non-blank, collections are
 * copied and unmodifiable, durations are positive. A record that was constructed is therefore always valid,
 * and every type in this package is immutable and thread-safe.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.jitaccess.api;

import org.jspecify.annotations.NullMarked;
