package dev.jitaccess.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class RecordValidationTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void subjectIsStrippedAndCopied() {
    Set<String> groups = new HashSet<>(Set.of("dev"));
    Map<String, String> attributes = new HashMap<>(Map.of("email", "a@example.com"));
    Subject subject = new Subject("  alice ", groups, attributes);
    groups.add("admins");
    attributes.put("role", "root");

    assertThat(subject.id()).isEqualTo("alice");
    assertThat(subject.groups()).containsExactly("dev");
    assertThat(subject.attributes()).containsOnlyKeys("email");
    assertThatThrownBy(() -> subject.groups().add("x")).isInstanceOf(UnsupportedOperationException.class);
    assertThat(subject.isMemberOf("dev")).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "bad\nid", "tab\tid"})
  void subjectRejectsBlankAndControlCharacters(String id) {
    assertThatThrownBy(() -> Subject.of(id)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id");
  }

  @Test
  void subjectRejectsOverlongIdsAndNullGroups() {
    assertThatThrownBy(() -> Subject.of("x".repeat(1025)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 1024");
    assertThatNullPointerException().isThrownBy(() -> new Subject("a", null, Map.of()));
    assertThatThrownBy(() -> Subject.of("a", " ")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void permissionValidatesNames() {
    assertThat(Permission.clusterWide("view").isClusterWide()).isTrue();
    assertThat(Permission.inNamespace("edit", "payments").namespace()).isEqualTo("payments");
    assertThat(Permission.clusterWide("system:aggregate-to-view").clusterRole()).contains(":");
  }

  @ParameterizedTest
  @ValueSource(strings = {"..", "kube system", "UPPER", "-lead", "trail-", "a/b", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
  void permissionRejectsHostileNamespaces(String namespace) {
    assertThatThrownBy(() -> Permission.inNamespace("view", namespace))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "a/b", "a b", "%2e%2e"})
  void permissionRejectsHostileRoleNames(String role) {
    assertThatThrownBy(() -> Permission.clusterWide(role))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("clusterRole");
  }

  @Test
  void accessRequestChecksClusterJustificationAndTtl() {
    Subject alice = Subject.of("alice");
    AccessRequest blank = new AccessRequest(alice, "prod-1", "   ", null);
    assertThat(blank.justification()).isNull();
    assertThat(AccessRequest.of(alice, "prod-1").requestedTtl()).isNull();

    assertThatThrownBy(() -> AccessRequest.of(alice, "../prod"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cluster");
    assertThatThrownBy(() -> new AccessRequest(alice, "prod", null, Duration.ZERO))
        .hasMessage("requestedTtl must be positive but was PT0S");
    assertThatThrownBy(() -> new AccessRequest(alice, "prod", "x".repeat(1025), null))
        .hasMessageContaining("at most 1024");
  }

  @Test
  void grantedNeedsPermissionsAndPositiveTtl() {
    assertThatThrownBy(() -> Decision.granted(Duration.ofMinutes(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Decision.denied");
    assertThatThrownBy(() -> Decision.granted(Duration.ofSeconds(-1), Permission.clusterWide("view")))
        .hasMessage("maxTtl must be positive but was PT-1S");
    Decision.Granted granted =
        Decision.granted(Duration.ofMinutes(5), Permission.clusterWide("view"), Permission.clusterWide("view"));
    assertThat(granted.permissions()).hasSize(1);
    assertThatThrownBy(() -> Decision.denied(" ")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void grantCopiesPermissionsAndOrdersTimes() {
    List<Permission> permissions = new ArrayList<>(List.of(Permission.clusterWide("view")));
    Grant grant =
        new Grant("g1", Subject.of("alice"), "prod", permissions, T0, T0.plusSeconds(300), "JIRA-1");
    permissions.clear();
    assertThat(grant.permissions()).hasSize(1);
    assertThat(grant.lifetime()).isEqualTo(Duration.ofMinutes(5));
    assertThat(grant.isExpiredAt(T0.plusSeconds(299))).isFalse();
    assertThat(grant.isExpiredAt(T0.plusSeconds(300))).isTrue();
    assertThatThrownBy(
            () -> new Grant("g1", Subject.of("alice"), "prod", List.of(Permission.clusterWide("view")), T0, T0))
        .hasMessageContaining("expiresAt must be after issuedAt");
  }

  @Test
  void provisionedAccountNeverPrintsItsToken() {
    ProvisionedAccount account =
        new ProvisionedAccount("jit-access", "jit-abc", "eyJhbGciOiJSUzI1NiJ9.secret.sig", T0);
    assertThat(account.toString()).doesNotContain("secret").doesNotContain("eyJ").contains("jit-abc");
  }

  @Test
  void auditEventCopiesAttributes() {
    Map<String, String> attributes = new HashMap<>(Map.of("path", "/api"));
    AuditEvent event = new AuditEvent(T0, AuditEvent.Type.REQUEST, "alice", "prod", "g1", null, attributes);
    attributes.put("x", "y");
    assertThat(event.attributes()).containsOnlyKeys("path");
    assertThat(new AuditEvent(T0, AuditEvent.Type.DENIED, null, null, null, "no").attributes()).isEmpty();
  }

  @Test
  void accessDeniedCarriesItsReason() {
    AccessDeniedException e = new AccessDeniedException("no binding");
    assertThat(e.reason()).isEqualTo("no binding");
    assertThat(e).hasMessage("access denied: no binding").isInstanceOf(JitAccessException.class);
    assertThat(new ProviderException("opa", "timed out", null)).hasMessage("opa: timed out");
    assertThat(new ProvisioningException("throttled", 429, true, null).isRetryable()).isTrue();
  }
}
