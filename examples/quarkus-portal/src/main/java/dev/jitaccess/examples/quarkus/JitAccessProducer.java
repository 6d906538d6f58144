package dev.jitaccess.examples.quarkus;

import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.RulePolicyProvider;
import dev.jitaccess.core.Slf4jAuditSink;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Makes the one {@link JitAccess} engine of the application from {@link JitAccessConfig}. */
public class JitAccessProducer {
  /**
   * The engine: the rule policy from the configured file (or the bundled sample), the audit trail through
   * slf4j (logger {@code jitaccess.audit}), grant TTL and issuer from the configuration.
   *
   * @param config the {@code jitaccess.*} settings
   * @return the engine; thread-safe
   * @throws dev.jitaccess.core.PolicyFileException if the policy file is malformed (start-up fails, naming it)
   */
  @Produces
  @ApplicationScoped
  JitAccess jitAccess(JitAccessConfig config) {
    return JitAccess.builder()
        .policyProvider(policy(config))
        .auditSink(Slf4jAuditSink.create())
        .grantTtl(config.grantTtl())
        .issuer(config.issuer())
        .build();
  }

  private static RulePolicyProvider policy(JitAccessConfig config) {
    if (config.policyFile().isPresent()) {
      return RulePolicyProvider.fromYaml(config.policyFile().get());
    }
    InputStream bundled = JitAccessProducer.class.getResourceAsStream("/policy.yaml");
    if (bundled == null) {
      throw new IllegalStateException("set jitaccess.policy-file: no policy.yaml on the class path either");
    }
    try (Reader yaml = new InputStreamReader(bundled, StandardCharsets.UTF_8)) {
      return RulePolicyProvider.fromYaml(yaml, "classpath:policy.yaml");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the bundled policy.yaml", e);
    }
  }
}
