package dev.jitaccess.spring.autoconfigure;

import dev.jitaccess.api.spi.AccessRequestStore;
import dev.jitaccess.api.spi.AuditSink;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.api.spi.Notifier;
import dev.jitaccess.api.spi.PolicyProvider;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.JsonLinesAuditSink;
import dev.jitaccess.core.OidcIdentityProvider;
import dev.jitaccess.core.RulePolicyProvider;
import dev.jitaccess.core.Slf4jAuditSink;
import dev.jitaccess.spring.autoconfigure.internal.PemFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the jit-access engine from {@code jitaccess.*} properties ({@link JitAccessProperties}).
 *
 * <p>Beans, each backing off when the application defines its own:
 *
 * <ul>
 *   <li>{@link JitAccess}: built from the properties, with the application's {@link IdentityProvider},
 *       {@link PolicyProvider}, {@link AccessRequestStore}, every {@link AuditSink} and {@link Notifier} bean, and
 *       then every {@link JitAccessBuilderCustomizer};
 *   <li>a {@link RulePolicyProvider} read from {@code jitaccess.policy-file}, unless a {@link PolicyProvider} bean
 *       exists;
 *   <li>an {@link OidcIdentityProvider} when {@code jitaccess.oidc.issuer} is set, unless an
 *       {@link IdentityProvider} bean exists;
 *   <li>a {@link JsonLinesAuditSink} when {@code jitaccess.audit.file} is set, and a {@link Slf4jAuditSink}
 *       unless {@code jitaccess.audit.log=false}.
 * </ul>
 *
 * <p>The engine's own session tokens are always accepted, with or without an identity provider.
 *
 * @since 0.2.0
 */
@AutoConfiguration
@EnableConfigurationProperties(JitAccessProperties.class)
public class JitAccessAutoConfiguration {
  private static final Logger log = LoggerFactory.getLogger(JitAccessAutoConfiguration.class);

  /** Creates the configuration; Spring calls it. */
  public JitAccessAutoConfiguration() {}

  /**
   * The engine.
   *
   * @param properties the {@code jitaccess.*} properties
   * @param identityProvider the identity provider bean, if any
   * @param policyProvider the policy provider bean, if any
   * @param auditSinks the audit sink beans, in order
   * @param accessRequestStore the access request store bean, if any (default: in memory)
   * @param notifiers the notifier beans, in order (default: an slf4j notifier)
   * @param customizers the builder customizers, in order
   * @return the engine
   * @throws IllegalArgumentException naming the property, if the signing key cannot be used
   */
  @Bean
  @ConditionalOnMissingBean
  public JitAccess jitAccess(
      JitAccessProperties properties,
      ObjectProvider<IdentityProvider> identityProvider,
      ObjectProvider<PolicyProvider> policyProvider,
      ObjectProvider<AuditSink> auditSinks,
      ObjectProvider<AccessRequestStore> accessRequestStore,
      ObjectProvider<Notifier> notifiers,
      ObjectProvider<JitAccessBuilderCustomizer> customizers) {
    JitAccess.Builder builder =
        JitAccess.builder()
            .grantTtl(properties.grantTtl())
            .issuer(properties.issuer())
            .sessionTokenTtl(properties.sessionTokenTtl())
            .auditFailurePolicy(properties.audit().failurePolicy());
    if (properties.maxGrantTtl() != null) {
      builder.maxGrantTtl(properties.maxGrantTtl());
    }
    Path signingKey = properties.signingKey();
    if (signingKey != null) {
      KeyPair keyPair = PemFiles.keyPair(signingKey, "jitaccess.signing-key");
      try {
        builder.signingKey(keyPair);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("jitaccess.signing-key: " + e.getMessage(), e);
      }
    }
    identityProvider.ifAvailable(builder::identityProvider);
    PolicyProvider policy = policyProvider.getIfAvailable();
    if (policy != null) {
      builder.policyProvider(policy);
    } else {
      log.warn(
          "No PolicyProvider bean and no jitaccess.policy-file: the jit-access engine denies every request");
    }
    auditSinks.orderedStream().forEach(builder::auditSink);
    accessRequestStore.ifAvailable(builder::accessRequestStore);
    notifiers.orderedStream().forEach(builder::notifier);
    customizers.orderedStream().forEach(c -> c.customize(builder));
    return builder.build();
  }

  /**
   * The rule policy read from {@code jitaccess.policy-file}; it also decides eligibility for access requests.
   *
   * @param properties the properties
   * @return the policy
   * @throws IllegalArgumentException naming the property, if the file is missing
   * @throws dev.jitaccess.core.PolicyFileException if the file is malformed (with line and column)
   */
  @Bean
  @ConditionalOnMissingBean(PolicyProvider.class)
  @ConditionalOnProperty(prefix = "jitaccess", name = "policy-file")
  public RulePolicyProvider jitAccessPolicyProvider(JitAccessProperties properties) {
    Path file = present(properties.policyFile(), "jitaccess.policy-file");
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException("jitaccess.policy-file: cannot read " + file.toAbsolutePath());
    }
    return RulePolicyProvider.fromYaml(file);
  }

  /**
   * The OpenID Connect identity provider.
   *
   * @param properties the properties
   * @return the provider
   */
  @Bean
  @ConditionalOnMissingBean(IdentityProvider.class)
  @ConditionalOnProperty(prefix = "jitaccess.oidc", name = "issuer")
  public OidcIdentityProvider jitAccessIdentityProvider(JitAccessProperties properties) {
    JitAccessProperties.Oidc oidc = properties.oidc();
    return OidcIdentityProvider.builder()
        .issuer(Objects.requireNonNull(oidc.issuer(), "issuer"))
        .audience(Objects.requireNonNull(oidc.audience(), "audience"))
        .jwksUri(Objects.requireNonNull(oidc.jwksUrl(), "jwksUrl"))
        .usernameClaim(oidc.usernameClaim())
        .groupsClaim(oidc.groupsClaim())
        .build();
  }

  /**
   * The JSON Lines audit file; closed with the context.
   *
   * @param properties the properties
   * @return the sink
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(JsonLinesAuditSink.class)
  @ConditionalOnProperty(prefix = "jitaccess.audit", name = "file")
  public JsonLinesAuditSink jitAccessJsonLinesAuditSink(JitAccessProperties properties) {
    JitAccessProperties.Audit audit = properties.audit();
    Path file = present(audit.file(), "jitaccess.audit.file");
    try {
      return JsonLinesAuditSink.builder().path(file).fsync(audit.fsync()).build();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("jitaccess.audit.file: cannot open " + file.toAbsolutePath(), e);
    }
  }

  /**
   * The audit sink writing to the {@code jitaccess.audit} logger.
   *
   * @return the sink
   */
  @Bean
  @ConditionalOnMissingBean(Slf4jAuditSink.class)
  @ConditionalOnProperty(prefix = "jitaccess.audit", name = "log", havingValue = "true", matchIfMissing = true)
  public Slf4jAuditSink jitAccessSlf4jAuditSink() {
    return Slf4jAuditSink.create();
  }

  private static Path present(@Nullable Path file, String property) {
    if (file == null) {
      throw new IllegalArgumentException(property + " is empty; name a file or remove the property");
    }
    return file;
  }
}
