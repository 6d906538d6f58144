package dev.jitaccess.examples.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.RulePolicyProvider;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The policy file shipped with the sample (application.yaml points at it) loads and says what its comments say. */
final class SamplePolicyTest {
  private final RulePolicyProvider policy = RulePolicyProvider.fromYaml(Path.of("policy.yaml"));

  @Test
  void developersViewEveryClusterAndAliceOperatesDev() {
    assertThat(policy.evaluate(AccessRequest.of(Subject.of("bob", "dev"), "prod")))
        .isInstanceOfSatisfying(
            Decision.Granted.class, g -> assertThat(g.permissions()).containsExactly(Permission.clusterWide("view")));
    assertThat(policy.evaluate(AccessRequest.of(Subject.of("alice"), "dev")))
        .isInstanceOfSatisfying(
            Decision.Granted.class, g -> assertThat(g.permissions()).contains(Permission.clusterWide("edit")));
    assertThat(policy.evaluate(AccessRequest.of(Subject.of("mallory"), "dev"))).isInstanceOf(Decision.Denied.class);
  }

  @Test
  void developersAreEligibleToOperateProd() {
    assertThat(policy.eligibleRoles(Subject.of("bob", "dev"), "prod"))
        .singleElement()
        .satisfies(r -> assertThat(r.role()).isEqualTo("operator"));
  }
}
