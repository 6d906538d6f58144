package dev.jitaccess.spring.autoconfigure;

import dev.jitaccess.core.JitAccess;

/**
 * Adjusts the auto-configured engine's builder before it is built: sets a clock, a store, notifiers or anything
 * the {@code jitaccess.*} properties do not cover. Declare one or more as beans; they run in
 * {@link org.springframework.core.annotation.Order} after the properties and the provider beans were applied.
 *
 * <p>Each builder property may be set once: a customizer that sets one the properties already set (grant TTL,
 * issuer, session token TTL, audit failure policy, and the others when configured) makes start-up fail with an
 * {@link IllegalStateException} naming it. Not used when the application defines its own {@link JitAccess} bean.
 *
 * @since 0.2.0
 */
@FunctionalInterface
public interface JitAccessBuilderCustomizer {

  /**
   * Customizes the builder; called once, on the thread creating the bean.
   *
   * @param builder the builder, never null
   */
  void customize(JitAccess.Builder builder);
}
