/**
 * Spring Boot auto-configuration for jit-access: {@link dev.jitaccess.spring.autoconfigure.JitAccessAutoConfiguration}
 * builds the engine from {@code jitaccess.*} properties ({@link dev.jitaccess.spring.autoconfigure.JitAccessProperties}),
 * {@link dev.jitaccess.spring.autoconfigure.JitAccessRelayAutoConfiguration} starts the relay when enabled, and
 * {@link dev.jitaccess.spring.autoconfigure.JitAccessAgentAutoConfiguration} runs the in-cluster agent when enabled.
 */
@NullMarked
package dev.jitaccess.spring.autoconfigure;

import org.jspecify.annotations.NullMarked;
