package dev.jitaccess.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.JWKSet;
import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.AuditSink;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.api.spi.PolicyProvider;
import dev.jitaccess.core.AuditFailurePolicy;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.JsonLinesAuditSink;
import dev.jitaccess.core.OidcIdentityProvider;
import dev.jitaccess.core.RulePolicyProvider;
import dev.jitaccess.core.Slf4jAuditSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

final class JitAccessAutoConfigurationTest {
  private static final String POLICY =
      """
      roles:
        viewer: [view]
      bindings:
        - users: [alice]
          role: viewer
          clusters: [prod]
          maxTtl: 2h
      """;

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(JitAccessAutoConfiguration.class, JitAccessRelayAutoConfiguration.class));

  @TempDir Path dir;

  @Test
  void defaultsGiveAnEngineWithFiveMinuteGrantsThatDeniesWithoutAPolicy() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed().hasSingleBean(JitAccess.class).hasSingleBean(Slf4jAuditSink.class);
          assertThat(context)
              .doesNotHaveBean(RulePolicyProvider.class)
              .doesNotHaveBean(OidcIdentityProvider.class)
              .doesNotHaveBean(JsonLinesAuditSink.class)
              .doesNotHaveBean("jitAccessRelayServer");
          JitAccess jit = context.getBean(JitAccess.class);
          assertThat(jit.grantTtl()).isEqualTo(Duration.ofMinutes(5));
          assertThat(jit.maxGrantTtl()).isEqualTo(Duration.ofMinutes(5));
          assertThat(jit.issuer()).isEqualTo("jit-access");
          assertThat(jit.auditFailurePolicy()).isEqualTo(AuditFailurePolicy.FAIL_CLOSED);
          assertThatThrownBy(() -> jit.authorize(AccessRequest.of(Subject.of("alice"), "prod")))
              .isInstanceOf(AccessDeniedException.class)
              .hasMessageContaining("no policy provider");
        });
  }

  @Test
  void propertiesOverrideTheDefaultsAndWireThePolicyFileAndAuditFile() throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), POLICY);
    Path audit = dir.resolve("audit.jsonl");
    runner
        .withPropertyValues(
            "jitaccess.grant-ttl=2m",
            "jitaccess.max-grant-ttl=1h",
            "jitaccess.issuer=portal",
            "jitaccess.policy-file=" + policy,
            "jitaccess.audit.file=" + audit,
            "jitaccess.audit.fsync=true",
            "jitaccess.audit.log=false",
            "jitaccess.audit.failure-policy=fail-open")
        .run(
            context -> {
              assertThat(context).hasNotFailed().hasSingleBean(RulePolicyProvider.class);
              assertThat(context).doesNotHaveBean(Slf4jAuditSink.class);
              JitAccess jit = context.getBean(JitAccess.class);
              assertThat(jit.grantTtl()).isEqualTo(Duration.ofMinutes(2));
              assertThat(jit.maxGrantTtl()).isEqualTo(Duration.ofHours(1));
              assertThat(jit.issuer()).isEqualTo("portal");
              assertThat(jit.auditFailurePolicy()).isEqualTo(AuditFailurePolicy.FAIL_OPEN);

              Grant grant = jit.authorize(AccessRequest.of(Subject.of("alice"), "prod"));
              assertThat(grant.permissions()).containsExactly(Permission.clusterWide("view"));
              assertThat(grant.lifetime()).isEqualTo(Duration.ofMinutes(2));
              assertThatThrownBy(() -> jit.authorize(AccessRequest.of(Subject.of("bob"), "prod")))
                  .isInstanceOf(AccessDeniedException.class);
              assertThat(Files.readString(audit)).contains("GRANTED").contains("alice");
            });
  }

  @Test
  void oidcPropertiesCreateTheOidcIdentityProvider() {
    runner
        .withPropertyValues(
            "jitaccess.oidc.issuer=https://login.example.com",
            "jitaccess.oidc.audience=jit-access",
            "jitaccess.oidc.jwks-url=https://login.example.com/keys",
            "jitaccess.oidc.username-claim=email")
        .run(context -> assertThat(context).hasNotFailed().hasSingleBean(OidcIdentityProvider.class));
  }

  @Test
  void userJitAccessBeanWins() {
    runner
        .withBean("myEngine", JitAccess.class, () -> JitAccess.builder().issuer("mine").build())
        .withPropertyValues("jitaccess.issuer=from-properties")
        .run(
            context -> {
              assertThat(context).hasNotFailed().hasSingleBean(JitAccess.class);
              assertThat(context.getBean(JitAccess.class).issuer()).isEqualTo("mine");
            });
  }

  @Test
  void userPolicyProviderBeanReplacesThePolicyFile() throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), POLICY);
    runner
        .withUserConfiguration(EveryoneViews.class)
        .withPropertyValues("jitaccess.policy-file=" + policy)
        .run(
            context -> {
              assertThat(context).hasNotFailed().doesNotHaveBean(RulePolicyProvider.class);
              Grant grant =
                  context.getBean(JitAccess.class).authorize(AccessRequest.of(Subject.of("bob"), "dev"));
              assertThat(grant.permissions()).containsExactly(Permission.clusterWide("view"));
            });
  }

  @Test
  void userIdentityProviderBeanReplacesTheOidcProvider() {
    runner
        .withUserConfiguration(EveryoneViews.class)
        .withBean(IdentityProvider.class, () -> token -> Subject.of("token-" + token.length()))
        .withPropertyValues(
            "jitaccess.oidc.issuer=https://login.example.com",
            "jitaccess.oidc.audience=jit-access",
            "jitaccess.oidc.jwks-url=https://login.example.com/keys")
        .run(
            context -> {
              assertThat(context).hasNotFailed().doesNotHaveBean(OidcIdentityProvider.class);
              Grant grant = context.getBean(JitAccess.class).authorize("abc", "dev");
              assertThat(grant.subject().id()).isEqualTo("token-3");
            });
  }

  @Test
  void userAuditSinkBeansAndCustomizersAreApplied() {
    List<AuditEvent> events = new CopyOnWriteArrayList<>();
    Instant fixed = Instant.parse("2026-03-01T09:00:00Z");
    runner
        .withUserConfiguration(EveryoneViews.class)
        .withBean("recording", AuditSink.class, () -> events::add)
        .withBean(JitAccessBuilderCustomizer.class, () -> b -> b.clock(InstantSource.fixed(fixed)))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              Grant grant =
                  context.getBean(JitAccess.class).authorize(AccessRequest.of(Subject.of("alice"), "dev"));
              assertThat(grant.issuedAt()).isEqualTo(fixed);
              assertThat(events).extracting(AuditEvent::type).contains(AuditEvent.Type.GRANTED);
            });
  }

  @Test
  void signingKeyIsReadFromAPkcs8EcPem() {
    KeyPair pair = TestPki.ecKeyPair();
    Path pem = TestPki.writePkcs8(pair, dir.resolve("signing.pem"));
    runner
        .withPropertyValues("jitaccess.signing-key=" + pem)
        .run(context -> assertThat(publicKeyOf(context.getBean(JitAccess.class))).isEqualTo(pair.getPublic()));
  }

  @Test
  void signingKeyIsReadFromASec1EcPem() {
    KeyPair pair = TestPki.ecKeyPair();
    Path pem = TestPki.writeSec1(pair, dir.resolve("signing.pem"));
    runner
        .withPropertyValues("jitaccess.signing-key=" + pem)
        .run(context -> assertThat(publicKeyOf(context.getBean(JitAccess.class))).isEqualTo(pair.getPublic()));
  }

  @Test
  void signingKeyIsReadFromAnRsaPem() {
    KeyPair pair = TestPki.rsaKeyPair();
    Path pem = TestPki.writePkcs8(pair, dir.resolve("signing.pem"));
    runner
        .withPropertyValues("jitaccess.signing-key=" + pem)
        .run(context -> assertThat(publicKeyOf(context.getBean(JitAccess.class))).isEqualTo(pair.getPublic()));
  }

  @Test
  void negativeGrantTtlFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.grant-ttl=-5m")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage("jitaccess.grant-ttl must be positive but was PT-5M"));
  }

  @Test
  void unparsableGrantTtlFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.grant-ttl=banana")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining("Failed to bind properties under 'jitaccess.grant-ttl'")
                    .hasStackTraceContaining("'banana' is not a valid duration"));
  }

  @Test
  void maxGrantTtlShorterThanGrantTtlFailsStartUp() {
    runner
        .withPropertyValues("jitaccess.grant-ttl=10m", "jitaccess.max-grant-ttl=5m")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("jitaccess.max-grant-ttl (PT5M) must not be shorter than jitaccess.grant-ttl"));
  }

  @Test
  void oidcIssuerWithoutAudienceFailsStartUpNamingTheMissingProperty() {
    runner
        .withPropertyValues("jitaccess.oidc.issuer=https://login.example.com")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("jitaccess.oidc.audience is required"));
  }

  @Test
  void missingPolicyFileFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.policy-file=" + dir.resolve("nope.yaml"))
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("jitaccess.policy-file: cannot read")
                    .hasMessageContaining("nope.yaml"));
  }

  @Test
  void malformedPolicyFileFailsStartUpWithItsLine() throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), "rols:\n  viewer: [view]\n");
    runner
        .withPropertyValues("jitaccess.policy-file=" + policy)
        .run(
            context ->
                assertThat(context).getFailure().rootCause().hasMessageContaining("policy.yaml:1:1"));
  }

  @Test
  void signingKeyFileWithoutAKeyFailsStartUpNamingTheProperty() throws Exception {
    Path pem = Files.writeString(dir.resolve("empty.pem"), "not a key\n");
    runner
        .withPropertyValues("jitaccess.signing-key=" + pem)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining(
                        "jitaccess.signing-key: " + pem + " does not hold a readable unencrypted PEM private key"));
  }

  private static PublicKey publicKeyOf(JitAccess jit) throws Exception {
    var key = JWKSet.parse(jit.publicJwks()).getKeys().get(0);
    return key.getKeyType().getValue().equals("EC") ? key.toECKey().toPublicKey() : key.toRSAKey().toPublicKey();
  }

  @Configuration(proxyBeanMethods = false)
  static class EveryoneViews {
    @Bean
    PolicyProvider everyoneViews() {
      return request -> new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofHours(1));
    }
  }
}
