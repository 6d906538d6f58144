package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.security.KeyPairGenerator;
import java.time.Duration;
import org.junit.jupiter.api.Test;

final class JitAccessBuilderTest {
  private final MutableInstantSource clock = MutableInstantSource.at(START);

  @Test
  void defaultsAreDocumentedValues() {
    JitAccess jit = JitAccess.builder().build();
    assertThat(jit.grantTtl()).isEqualTo(Duration.ofMinutes(5));
    assertThat(jit.maxGrantTtl()).isEqualTo(Duration.ofMinutes(5));
    assertThat(jit.issuer()).isEqualTo("jit-access");
    assertThat(jit.relayAudience()).isEqualTo("jit-access-relay");
    assertThat(jit.auditFailurePolicy()).isEqualTo(AuditFailurePolicy.FAIL_CLOSED);
  }

  @Test
  void nullArgumentsAreRejectedByName() {
    JitAccess.Builder b = JitAccess.builder();
    assertThatThrownBy(() -> b.grantTtl(null)).isInstanceOf(NullPointerException.class).hasMessage("grantTtl");
    assertThatThrownBy(() -> b.clock(null)).isInstanceOf(NullPointerException.class).hasMessage("clock");
    assertThatThrownBy(() -> b.policyProvider(null)).isInstanceOf(NullPointerException.class).hasMessage("policyProvider");
    assertThatThrownBy(() -> b.auditSink(null)).isInstanceOf(NullPointerException.class).hasMessage("auditSink");
    assertThatThrownBy(() -> b.signingKey(null)).isInstanceOf(NullPointerException.class).hasMessage("signingKey");
  }

  @Test
  void zeroAndNegativeDurationsAndSizesAreRejectedWithTheValue() {
    JitAccess.Builder b = JitAccess.builder();
    assertThatThrownBy(() -> b.grantTtl(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("grantTtl must be positive but was PT0S");
    assertThatThrownBy(() -> b.maxGrantTtl(Duration.ofSeconds(-1)))
        .hasMessage("maxGrantTtl must be positive but was PT-1S");
    assertThatThrownBy(() -> b.sessionTokenTtl(Duration.ZERO)).hasMessage("sessionTokenTtl must be positive but was PT0S");
    assertThatThrownBy(() -> b.grantCacheSize(0)).hasMessage("grantCacheSize must be positive but was 0");
    assertThatThrownBy(() -> b.authenticationCacheSize(-5)).hasMessage("authenticationCacheSize must be positive but was -5");
    assertThatThrownBy(() -> b.issuer(" ")).hasMessage("issuer must not be blank");
    // a rejected value does not count as set
    b.grantTtl(Duration.ofMinutes(2));
  }

  @Test
  void settingTwiceNamesTheEarlierValue() {
    JitAccess.Builder b = JitAccess.builder().grantTtl(Duration.ofMinutes(5)).policyProvider(new Policy());
    assertThatThrownBy(() -> b.grantTtl(Duration.ofMinutes(7)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("grantTtl was already set to PT5M");
    assertThatThrownBy(() -> b.policyProvider(new Policy()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("policyProvider was already set to test-policy");
  }

  @Test
  void sameSinkTwiceIsRejected() {
    Fixtures.RecordingSink sink = new Fixtures.RecordingSink();
    JitAccess.Builder b = JitAccess.builder().auditSink(sink);
    assertThatThrownBy(() -> b.auditSink(sink)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void buildCrossChecksMaximaAgainstDefaults() {
    assertThatThrownBy(() -> JitAccess.builder().grantTtl(Duration.ofMinutes(10)).maxGrantTtl(Duration.ofMinutes(5)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("maxGrantTtl (PT5M) must not be shorter than grantTtl (PT10M)");
    assertThatThrownBy(() -> JitAccess.builder().maxSessionTokenTtl(Duration.ofHours(1)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxSessionTokenTtl (PT1H) must not be shorter than sessionTokenTtl (PT8H)");
  }

  @Test
  void signingKeyOfTheWrongKindIsRejectedAtOnce() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(1024);
    assertThatThrownBy(() -> JitAccess.builder().signingKey(rsa.generateKeyPair()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2048");
  }

  @Test
  void buildLeavesTheBuilderUnchangedAndEnginesIndependent() {
    Policy policy = new Policy();
    JitAccess.Builder b = JitAccess.builder().clock(clock).identityProvider(new Tokens()).policyProvider(policy);
    JitAccess one = b.build();
    JitAccess two = b.build();
    one.authorize(AccessRequest.of(Subject.of("alice"), "prod"));
    assertThat(two.activeGrants()).isEmpty();
    assertThat(one.publicJwks()).isNotEqualTo(two.publicJwks());
  }

  @Test
  void laterBuilderChangesDoNotAffectABuiltEngine() {
    Fixtures.RecordingSink late = new Fixtures.RecordingSink();
    JitAccess.Builder b = JitAccess.builder().clock(clock).policyProvider(new Policy());
    JitAccess jit = b.build();
    b.auditSink(late);
    jit.authorize(AccessRequest.of(Subject.of("alice"), "prod"));
    assertThat(late.events).isEmpty();
  }

  @Test
  void toBuilderDerivesAVariantWhosePropertiesCanBeSetAgain() {
    JitAccess base = JitAccess.builder().clock(clock).grantTtl(Duration.ofMinutes(3)).issuer("portal").build();
    JitAccess variant = base.toBuilder().grantTtl(Duration.ofMinutes(1)).build();
    assertThat(variant.grantTtl()).isEqualTo(Duration.ofMinutes(1));
    assertThat(variant.issuer()).isEqualTo("portal");
    assertThat(variant.clock()).isSameAs(clock);
  }
}
