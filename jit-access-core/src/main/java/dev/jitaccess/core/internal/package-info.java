/**
 * Implementation details of jit-access-core. Nothing in this package is API: it may change in any release
 * without notice, and it is not exported from the module.
 */
@NullMarked
package dev.jitaccess.core.internal;

import org.jspecify.annotations.NullMarked;
