package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class RulePolicyEligibilityYamlTest {
  static RulePolicyProvider load(String yaml) {
    return RulePolicyProvider.fromYaml(new StringReader(yaml), "policy.yaml");
  }

  @Test
  void eligibleBindingCarriesItsApprovalRule() {
    RulePolicyProvider policy = load(AccessRequestWorkflowTest.POLICY);
    List<EligibleRole> roles = policy.eligibleRoles(Subject.of("alice", "dev"), "prod");
    assertThat(roles).extracting(EligibleRole::role).containsExactly("admin", "debug");
    ApprovalRule admin = roles.get(0).rule();
    assertThat(admin).isEqualTo(new ApprovalRule(false, 2, Set.of("bob", "carol", "dave"), Set.of("sre"),
        Duration.ofHours(4), "^JIRA-[0-9]+", Duration.ofMinutes(30)));
    assertThat(roles.get(0).permissions()).containsExactly(Permission.inNamespace("admin", "payments"));
    assertThat(roles.get(1).rule().selfApproval()).isTrue();
    assertThat(policy.eligibleRoles(Subject.of("eve"), "prod")).isEmpty();
    assertThat(policy.eligibleRoles(Subject.of("alice", "dev"), "staging")).isEmpty();
  }

  @Test
  void defaultsAreOneApprovalOneHourAndNoSelfApproval() {
    RulePolicyProvider policy = load("""
        roles: {admin: [admin]}
        bindings:
          - users: [alice]
            role: admin
            clusters: ["*"]
            activation: eligible
            approvers: {groups: [sre]}
        """);
    ApprovalRule rule = policy.bindings().get(0).eligibility();
    assertThat(rule).isEqualTo(ApprovalRule.approvedBy(1, Set.of(), Set.of("sre")));
    assertThat(rule.pendingTimeout()).isEqualTo(Duration.ofHours(1));
    assertThat(rule.maxDuration()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void approvalKeysOnAnActiveBindingAreRefused() {
    assertThatThrownBy(() -> load("""
        roles: {admin: [admin]}
        bindings:
          - users: [alice]
            role: admin
            clusters: ["*"]
            approvals: 2
        """))
        .isInstanceOf(PolicyFileException.class)
        .hasMessageContaining("policy.yaml:6:5: 'approvals' applies only to eligible bindings");
  }

  @Test
  void invalidApprovalRulesAreRefusedWithTheirPosition() {
    assertThatThrownBy(() -> load("""
        roles: {admin: [admin]}
        bindings:
          - users: [alice]
            role: admin
            clusters: ["*"]
            activation: eligible
            approvals: 0
        """))
        .isInstanceOf(PolicyFileException.class)
        .hasMessageContaining("needs selfApproval: true");
    assertThatThrownBy(() -> load("""
        roles: {admin: [admin]}
        bindings:
          - users: [alice]
            role: admin
            clusters: ["*"]
            activation: eligible
            selfApproval: "yes please"
        """))
        .isInstanceOf(PolicyFileException.class)
        .hasMessageContaining("'selfApproval' must be true or false");
    assertThatThrownBy(() -> load("""
        roles: {admin: [admin]}
        bindings:
          - users: [alice]
            role: admin
            clusters: ["*"]
            activation: sometimes
        """))
        .isInstanceOf(PolicyFileException.class)
        .hasMessageContaining("activation must be 'active' or 'eligible'");
    assertThatThrownBy(() -> load("""
        roles: {admin: [admin]}
        bindings:
          - users: [alice]
            role: admin
            clusters: ["*"]
            activation: eligible
            approvers: {users: [bob]}
            justification: "JIRA-("
        """))
        .isInstanceOf(PolicyFileException.class)
        .hasMessageContaining("justification must be a valid regular expression");
  }
}
