package dev.jitaccess.examples.quarkus;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The engine's settings under {@code jitaccess.*} in {@code application.properties}; {@link JitAccessProducer}
 * turns them into builder calls in one place.
 */
@ConfigMapping(prefix = "jitaccess")
public interface JitAccessConfig {
  /**
   * How long a grant is cached before the policy is asked again ({@code jitaccess.grant-ttl}).
   *
   * @return a positive duration, 5 minutes by default
   */
  @WithDefault("PT5M")
  Duration grantTtl();

  /**
   * The {@code iss} of the engine's signed grants and tokens ({@code jitaccess.issuer}); agents verify it.
   *
   * @return the issuer, {@code jit-access} by default
   */
  @WithDefault("jit-access")
  String issuer();

  /**
   * The policy file ({@code jitaccess.policy-file}); when absent, the sample {@code policy.yaml} on the class
   * path.
   *
   * @return the file, if set
   */
  Optional<Path> policyFile();

  /**
   * How long the session tokens the portal issues for a request live ({@code jitaccess.session-token-ttl}).
   *
   * @return a positive duration, 10 minutes by default
   */
  @WithDefault("PT10M")
  Duration sessionTokenTtl();
}
