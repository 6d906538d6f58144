package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.RulePolicyProvider.Binding;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

final class RulePolicyProviderTest {

  private static final RulePolicyProvider POLICY =
      RulePolicyProvider.builder()
          .role("viewer", "view")
          .role("operator", "edit", "view")
          .binding(
              Binding.builder()
                  .users("alice@example.com")
                  .role("operator")
                  .clusters("prod-*")
                  .namespaces("payments", "shop")
                  .maxTtl(Duration.ofHours(2))
                  .build())
          .binding(Binding.builder().groups("sre").role("viewer").clusters("*").build())
          .binding(
              Binding.builder()
                  .users("bob")
                  .role("viewer")
                  .clusters("staging", "dev-?")
                  .maxTtl(Duration.ofMinutes(20))
                  .build())
          .build();

  private static Decision evaluate(RulePolicyProvider policy, Subject subject, String cluster) {
    return policy.evaluate(AccessRequest.of(subject, cluster));
  }

  @Test
  void userBindingGrantsItsRolesInItsNamespacesForItsMaxTtl() {
    Decision decision = evaluate(POLICY, Subject.of("alice@example.com"), "prod-eu-1");

    assertThat(decision)
        .isEqualTo(
            new Decision.Granted(
                List.of(
                    Permission.inNamespace("edit", "payments"),
                    Permission.inNamespace("edit", "shop"),
                    Permission.inNamespace("view", "payments"),
                    Permission.inNamespace("view", "shop")),
                Duration.ofHours(2)));
  }

  @Test
  void groupBindingWithoutNamespacesIsClusterWideWithTheDefaultMaxTtl() {
    Decision decision = evaluate(POLICY, Subject.of("carol", "sre"), "anything-1");

    assertThat(decision)
        .isEqualTo(new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofHours(1)));
    assertThat(RulePolicyProvider.DEFAULT_MAX_TTL).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void clusterGlobsMatchWholeIdsOnly() {
    assertThat(evaluate(POLICY, Subject.of("alice@example.com"), "prod-1")).isInstanceOf(Decision.Granted.class);
    assertThat(evaluate(POLICY, Subject.of("alice@example.com"), "preprod-1")).isInstanceOf(Decision.Denied.class);
    assertThat(evaluate(POLICY, Subject.of("alice@example.com"), "prod")).isInstanceOf(Decision.Denied.class);
    assertThat(evaluate(POLICY, Subject.of("bob"), "dev-a")).isInstanceOf(Decision.Granted.class);
    assertThat(evaluate(POLICY, Subject.of("bob"), "dev-ab")).isInstanceOf(Decision.Denied.class);
    assertThat(evaluate(POLICY, Subject.of("bob"), "staging")).isInstanceOf(Decision.Granted.class);
    assertThat(evaluate(POLICY, Subject.of("bob"), "staging-2")).isInstanceOf(Decision.Denied.class);
  }

  @Test
  void noMatchingBindingIsDeniedWithTheSubjectAndCluster() {
    assertThat(evaluate(POLICY, Subject.of("mallory", "devs"), "prod-1"))
        .isEqualTo(Decision.denied("no binding allows mallory on cluster prod-1"));
  }

  @Test
  void usersAndGroupsMatchExactlyAndCaseSensitively() {
    assertThat(evaluate(POLICY, Subject.of("Alice@example.com"), "prod-1")).isInstanceOf(Decision.Denied.class);
    assertThat(evaluate(POLICY, Subject.of("carol", "SRE"), "prod-1")).isInstanceOf(Decision.Denied.class);
    assertThat(evaluate(POLICY, Subject.of("sre"), "prod-1"))
        .as("a user id never matches a group binding")
        .isInstanceOf(Decision.Denied.class);
  }

  @Test
  void matchingBindingsMergeTheirPermissionsAndTakeTheSmallestMaxTtl() {
    Decision decision = evaluate(POLICY, Subject.of("alice@example.com", "sre"), "prod-1");

    // view cluster-wide (sre) makes the namespaced view redundant; edit stays namespaced.
    assertThat(decision)
        .isEqualTo(
            new Decision.Granted(
                List.of(
                    Permission.inNamespace("edit", "payments"),
                    Permission.inNamespace("edit", "shop"),
                    Permission.clusterWide("view")),
                Duration.ofHours(1)));
  }

  @Test
  void smallestMaxTtlWinsWhateverTheBindingOrder() {
    Decision decision = evaluate(POLICY, Subject.of("bob", "sre"), "staging");

    assertThat(decision).isInstanceOfSatisfying(
        Decision.Granted.class, g -> assertThat(g.maxTtl()).isEqualTo(Duration.ofMinutes(20)));
  }

  @Test
  void emptyPolicyDeniesEverything() {
    RulePolicyProvider empty = RulePolicyProvider.builder().build();

    assertThat(evaluate(empty, Subject.of("root", "system:masters"), "prod-1"))
        .isInstanceOf(Decision.Denied.class);
  }

  @Test
  void bindingNamingAnUnknownRoleFailsTheBuild() {
    RulePolicyProvider.Builder builder =
        RulePolicyProvider.builder()
            .role("viewer", "view")
            .binding(Binding.builder().users("alice").role("operater").clusters("*").build());

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("binding #1 names role 'operater' which is not defined; defined roles: [viewer]");
  }

  @Test
  void bindingNeedsAUserOrAGroup() {
    assertThatThrownBy(() -> Binding.builder().role("viewer").clusters("*").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a binding needs at least one user or group");
  }

  @Test
  void bindingNeedsRoleAndClusters() {
    assertThatThrownBy(() -> Binding.builder().users("a").clusters("*").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("role must be set");
    assertThatThrownBy(() -> Binding.builder().users("a").role("viewer").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("clusters must be set");
  }

  @Test
  void namespacesMustBeConcreteNames() {
    assertThatThrownBy(() -> Binding.builder().namespaces("pay*"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace 'pay*' is a glob");
    assertThatThrownBy(() -> Binding.builder().namespaces("*"))
        .hasMessageContaining("leave 'namespaces' out of the binding");
    assertThatThrownBy(() -> Binding.builder().namespaces("Payments"))
        .hasMessageContaining("can never match a namespace");
    assertThatThrownBy(() -> Binding.builder().namespaces())
        .hasMessageContaining("at least one namespace");
  }

  @Test
  void clusterGlobsThatCanNeverMatchAreRefused() {
    assertThatThrownBy(() -> Binding.builder().clusters("Prod-*"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a valid cluster glob");
    assertThatThrownBy(() -> Binding.builder().clusters("*-"))
        .hasMessageContaining("can never match a cluster id");
    assertThatThrownBy(() -> Binding.builder().clusters("a".repeat(64) + "*"))
        .hasMessageContaining("can never match a cluster id");
    assertThatThrownBy(() -> Binding.builder().clusters("prod/1")).hasMessageContaining("not a valid cluster glob");
  }

  @Test
  void rolesAreCheckedAtOnce() {
    assertThatThrownBy(() -> RulePolicyProvider.builder().role("viewer"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("role 'viewer' must name at least one ClusterRole");
    assertThatThrownBy(() -> RulePolicyProvider.builder().role("viewer", "view").role("viewer", "edit"))
        .hasMessage("role 'viewer' is already defined");
    assertThatThrownBy(() -> RulePolicyProvider.builder().role("bad", "a/b"))
        .hasMessageContaining("clusterRole must be a Kubernetes object name");
  }

  @Test
  void bindingPropertiesMayBeSetOnlyOnceAndTtlMustBePositive() {
    assertThatThrownBy(() -> Binding.builder().role("a").role("b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("role was already set to a");
    assertThatThrownBy(() -> Binding.builder().maxTtl(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxTtl must be positive but was PT0S");
  }

  @Test
  void buildLeavesTheBuilderReusableAndThePolicyUnaffectedByLaterChanges() {
    RulePolicyProvider.Builder builder = RulePolicyProvider.builder().role("viewer", "view");
    RulePolicyProvider first = builder.build();
    builder.binding(Binding.builder().users("alice").role("viewer").clusters("*").build());

    assertThat(evaluate(first, Subject.of("alice"), "c1")).isInstanceOf(Decision.Denied.class);
    assertThat(evaluate(builder.build(), Subject.of("alice"), "c1")).isInstanceOf(Decision.Granted.class);
  }
}
