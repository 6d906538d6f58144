/**
 * Test helpers for jit-access and for applications that embed it: {@link dev.jitaccess.testkit.MutableInstantSource}
 * (a clock that moves only when told to) and {@link dev.jitaccess.testkit.TestCertificates} (a throw-away CA and a
 * server certificate for {@code localhost}). Test scope only.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.jitaccess.testkit;

import org.jspecify.annotations.NullMarked;
