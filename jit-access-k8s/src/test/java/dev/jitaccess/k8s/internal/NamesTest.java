package dev.jitaccess.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.Permission;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class NamesTest {
  private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

  @Test
  void base32FollowsRfc4648() {
    assertThat(Names.base32("f".getBytes(StandardCharsets.US_ASCII))).isEqualTo("my");
    assertThat(Names.base32("foobar".getBytes(StandardCharsets.US_ASCII))).isEqualTo("mzxw6ytboi");
  }

  @Test
  void hostileSubjectIdsGiveValidDistinctNames() {
    List<String> ids =
        List.of(
            "Alice@Example.COM",
            "alice@example.com",
            "../admin",
            "x".repeat(300),
            "system:serviceaccount:kube-system:x",
            "a.b",
            "a-b",
            "a_b",
            "ünïcødé");
    Set<String> names = new HashSet<>();
    for (String id : ids) {
      String hash = Names.subjectHash(id);
      String name = Names.serviceAccount(hash);
      assertThat(name).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL).startsWith("jit-");
      assertThat(hash).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL);
      assertThat(Names.serviceAccountOrNull(hash)).isEqualTo(name);
      names.add(name);
    }
    assertThat(names).hasSize(ids.size());
  }

  @Test
  void namesAreDeterministic() {
    assertThat(Names.subjectHash("bob")).isEqualTo(Names.subjectHash("bob"));
    assertThat(Names.binding(Names.subjectHash("bob"), Permission.clusterWide("view")))
        .isEqualTo(Names.binding(Names.subjectHash("bob"), Permission.clusterWide("view")));
  }

  @Test
  void bindingNamesDifferPerRoleAndScopeAndStayValid() {
    String hash = Names.subjectHash("bob");
    List<Permission> permissions =
        List.of(
            Permission.clusterWide("view"),
            Permission.inNamespace("view", "a"),
            Permission.inNamespace("view", "b"),
            Permission.clusterWide("edit"),
            Permission.inNamespace("edit", "a"),
            Permission.clusterWide("r".repeat(253)),
            Permission.clusterWide("system:aggregate-to-view"));
    Set<String> names = new HashSet<>();
    for (Permission permission : permissions) {
      String name = Names.binding(hash, permission);
      assertThat(name).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL).startsWith("jit-" + hash + "-");
      names.add(name);
    }
    assertThat(names).hasSize(permissions.size());
  }

  @Test
  void malformedSubjectHashLabelsHaveNoOwner() {
    assertThat(Names.serviceAccountOrNull(null)).isNull();
    assertThat(Names.serviceAccountOrNull("")).isNull();
    assertThat(Names.serviceAccountOrNull("../../etc")).isNull();
    assertThat(Names.serviceAccountOrNull("A".repeat(32))).isNull();
    assertThat(Names.serviceAccountOrNull("a".repeat(33))).isNull();
  }

  @Test
  void dnsLabelCheckRejectsBadNames() {
    assertThat(Names.isDnsLabel("team-a")).isTrue();
    assertThat(Names.isDnsLabel("-a")).isFalse();
    assertThat(Names.isDnsLabel("a-")).isFalse();
    assertThat(Names.isDnsLabel("A")).isFalse();
    assertThat(Names.isDnsLabel("..")).isFalse();
    assertThat(Names.isDnsLabel("a".repeat(64))).isFalse();
    assertThat(Names.isDnsLabel("a".repeat(63))).isTrue();
  }
}
