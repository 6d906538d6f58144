/**
 * The jit-access engine. Exports {@code dev.jitaccess.core} only; Caffeine, nimbus-jose-jwt and SnakeYAML are
 * implementation details that never appear in a public signature. When Bouncy Castle's provider is present, it
 * verifies ES256 signatures (found reflectively; on the module path it must be resolved, for example with {@code
 * --add-modules org.bouncycastle.provider}).
 */
module dev.jitaccess.core {
  requires transitive dev.jitaccess.api;
  requires static transitive org.jspecify;
  requires com.github.benmanes.caffeine;
  requires com.nimbusds.jose.jwt;
  requires org.slf4j;
  requires org.yaml.snakeyaml;
  requires java.net.http;
  exports dev.jitaccess.core;
  uses dev.jitaccess.api.spi.IdentityProvider;
  uses dev.jitaccess.api.spi.PolicyProvider;
  uses dev.jitaccess.api.spi.AuditSink;
  uses dev.jitaccess.api.spi.AccessRequestStore;
  uses dev.jitaccess.api.spi.Notifier;
}
