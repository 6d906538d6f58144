package dev.jitaccess.k8s.internal;

import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1RoleRef;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A RoleBinding or ClusterRoleBinding as read from the cluster, in one shape.
 *
 * @param namespace the RoleBinding's namespace, or null for a ClusterRoleBinding
 * @param name the binding's name
 * @param labels its labels (empty if none)
 * @param annotations its annotations (empty if none)
 * @param roleKind the kind in its roleRef
 * @param roleName the name in its roleRef
 * @param subjects its subjects (empty if none)
 */
record BindingRef(
    @Nullable String namespace,
    String name,
    Map<String, String> labels,
    Map<String, String> annotations,
    @Nullable String roleKind,
    @Nullable String roleName,
    List<RbacV1Subject> subjects) {

  static BindingRef of(V1ClusterRoleBinding binding) {
    return of(null, binding.getMetadata(), binding.getRoleRef(), binding.getSubjects());
  }

  static BindingRef of(V1RoleBinding binding) {
    V1ObjectMeta meta = binding.getMetadata();
    return of(
        meta == null ? null : meta.getNamespace(), meta, binding.getRoleRef(), binding.getSubjects());
  }

  private static BindingRef of(
      @Nullable String namespace,
      @Nullable V1ObjectMeta meta,
      @Nullable V1RoleRef roleRef,
      @Nullable List<RbacV1Subject> subjects) {
    V1ObjectMeta m = meta == null ? new V1ObjectMeta() : meta;
    return new BindingRef(
        namespace,
        Objects.requireNonNullElse(m.getName(), ""),
        m.getLabels() == null ? Map.of() : m.getLabels(),
        m.getAnnotations() == null ? Map.of() : m.getAnnotations(),
        roleRef == null ? null : roleRef.getKind(),
        roleRef == null ? null : roleRef.getName(),
        subjects == null ? List.of() : subjects);
  }

  boolean isClusterWide() {
    return namespace == null;
  }

  /** {@code clusterrolebinding/<name>} or {@code rolebinding/<namespace>/<name>}. */
  String displayName() {
    return isClusterWide() ? "clusterrolebinding/" + name : "rolebinding/" + namespace + "/" + name;
  }

  /** Whether it carries our managed-by label and the given raw subject id. */
  boolean isOwnedBy(String subjectId) {
    return Names.MANAGED_BY_VALUE.equals(labels.get(Names.MANAGED_BY_LABEL))
        && subjectId.equals(annotations.get(Names.SUBJECT_ANNOTATION));
  }

  /**
   * Whether deleting it can only take access away from jit-access's own accounts: every subject is a
   * {@code jit-} ServiceAccount in the given namespace. A managed-by label alone is not enough, because
   * whoever can label a binding could otherwise make the agent delete someone else's binding.
   */
  boolean bindsOnlyJitAccounts(String saNamespace) {
    for (RbacV1Subject subject : subjects) {
      String name = subject.getName();
      if (!"ServiceAccount".equals(subject.getKind())
          || !saNamespace.equals(subject.getNamespace())
          || name == null
          || !name.startsWith(Names.PREFIX)) {
        return false;
      }
    }
    return true;
  }

  /** Whether it binds exactly the ClusterRole to exactly the one ServiceAccount. */
  boolean bindsExactly(String clusterRole, String saNamespace, String saName) {
    if (!"ClusterRole".equals(roleKind) || !clusterRole.equals(roleName) || subjects.size() != 1) {
      return false;
    }
    RbacV1Subject subject = subjects.get(0);
    return "ServiceAccount".equals(subject.getKind())
        && saName.equals(subject.getName())
        && saNamespace.equals(subject.getNamespace());
  }
}
