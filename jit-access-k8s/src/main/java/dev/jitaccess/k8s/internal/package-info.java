/**
 * Implementation details of jit-access-k8s. Nothing in this package is API: it may change in any release
 * without notice.
 */
@NullMarked
package dev.jitaccess.k8s.internal;

import org.jspecify.annotations.NullMarked;
