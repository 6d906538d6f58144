/**
 * Implementation details of the auto-configuration. Not an API: no compatibility is promised.
 */
@NullMarked
package dev.jitaccess.spring.autoconfigure.internal;

import org.jspecify.annotations.NullMarked;
