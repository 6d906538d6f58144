package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisioningException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.RbacAuthorizationV1Api;
import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1ClusterRoleBindingList;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1RoleBindingList;
import io.kubernetes.client.openapi.models.V1RoleRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/** Lists, creates, adopts and deletes the RoleBindings and ClusterRoleBindings jit-access manages. */
final class Bindings {
  private static final String RBAC_GROUP = "rbac.authorization.k8s.io";

  private final RbacAuthorizationV1Api rbac;
  private final KubeCalls calls;
  private final int pageSize;
  private final Executor executor;

  Bindings(ApiClient client, KubeCalls calls, int pageSize) {
    this(client, calls, pageSize, Runnable::run);
  }

  /** With {@code executor} running the RoleBinding list while the caller lists the ClusterRoleBindings. */
  Bindings(ApiClient client, KubeCalls calls, int pageSize, Executor executor) {
    this.rbac = new RbacAuthorizationV1Api(client);
    this.calls = calls;
    this.pageSize = pageSize;
    this.executor = executor;
  }

  /** Every managed binding matching the label selector, ClusterRoleBindings first, all pages. */
  /**
   * Starts {@link #list} on the executor, for a caller with something else to do meanwhile (a read only: it
   * changes nothing in the cluster).
   */
  CompletableFuture<List<BindingRef>> listLater(String labelSelector) {
    return CompletableFuture.supplyAsync(() -> list(labelSelector), executor);
  }

  List<BindingRef> list(String labelSelector) {
    // The two lists are independent: the RoleBindings are listed meanwhile on the executor.
    CompletableFuture<List<BindingRef>> roleBindings =
        CompletableFuture.supplyAsync(() -> listRoleBindings(labelSelector), executor);
    List<BindingRef> all;
    try {
      all = listClusterRoleBindings(labelSelector);
    } finally {
      ConcurrentCalls.awaitQuietly(roleBindings); // never leave a call running behind a failure
    }
    all.addAll(ConcurrentCalls.join(roleBindings));
    return all;
  }

  private List<BindingRef> listClusterRoleBindings(String labelSelector) {
    List<BindingRef> all = new ArrayList<>();
    Pages.<V1ClusterRoleBinding>all(
            calls,
            "list ClusterRoleBindings (" + labelSelector + ")",
            token -> {
              V1ClusterRoleBindingList list =
                  rbac.listClusterRoleBinding()
                      .labelSelector(labelSelector)
                      .limit(pageSize)
                      ._continue(token)
                      .execute();
              return new Pages.Page<>(list.getItems(), continueOf(list.getMetadata()));
            })
        .forEach(b -> all.add(BindingRef.of(b)));
    return all;
  }

  private List<BindingRef> listRoleBindings(String labelSelector) {
    List<BindingRef> all = new ArrayList<>();
    Pages.<V1RoleBinding>all(
            calls,
            "list RoleBindings in all namespaces (" + labelSelector + ")",
            token -> {
              V1RoleBindingList list =
                  rbac.listRoleBindingForAllNamespaces()
                      .labelSelector(labelSelector)
                      .limit(pageSize)
                      ._continue(token)
                      .execute();
              return new Pages.Page<>(list.getItems(), continueOf(list.getMetadata()));
            })
        .forEach(b -> all.add(BindingRef.of(b)));
    return all;
  }

  private static @Nullable String continueOf(io.kubernetes.client.openapi.models.@Nullable V1ListMeta meta) {
    return meta == null ? null : meta.getContinue();
  }

  /**
   * Creates the binding for one permission, or adopts an existing one that is ours and binds exactly the
   * role to the account.
   *
   * @throws ProvisioningException if a binding of that name exists and is not ours (name squatting)
   */
  void createOrAdopt(Owner owner, String name, Permission permission) {
    V1ObjectMeta meta =
        new V1ObjectMeta()
            .name(name)
            .labels(owner.labels())
            .annotations(
                Map.of(
                    Names.SUBJECT_ANNOTATION,
                    owner.subjectId(),
                    Names.SERVICE_ACCOUNT_ANNOTATION,
                    owner.namespace() + "/" + owner.serviceAccount()));
    V1RoleRef roleRef =
        new V1RoleRef().apiGroup(RBAC_GROUP).kind("ClusterRole").name(permission.clusterRole());
    List<RbacV1Subject> subjects =
        List.of(
            new RbacV1Subject()
                .kind("ServiceAccount")
                .name(owner.serviceAccount())
                .namespace(owner.namespace()));
    String ns = permission.namespace();
    String display = ns == null ? "clusterrolebinding/" + name : "rolebinding/" + ns + "/" + name;
    if (ns == null) {
      V1ClusterRoleBinding body =
          new V1ClusterRoleBinding().metadata(meta).roleRef(roleRef).subjects(subjects);
      calls.createOrAdopt(
          "create ClusterRoleBinding " + name,
          () -> rbac.createClusterRoleBinding(body).execute(),
          () -> rbac.readClusterRoleBinding(name).execute(),
          existing -> {
            checkAdoptable(BindingRef.of(existing), display, owner, permission);
            return existing;
          });
    } else {
      V1RoleBinding body =
          new V1RoleBinding().metadata(meta.namespace(ns)).roleRef(roleRef).subjects(subjects);
      calls.createOrAdopt(
          "create RoleBinding " + ns + "/" + name,
          () -> rbac.createNamespacedRoleBinding(ns, body).execute(),
          () -> rbac.readNamespacedRoleBinding(name, ns).execute(),
          existing -> {
            checkAdoptable(BindingRef.of(existing), display, owner, permission);
            return existing;
          });
    }
  }

  private static void checkAdoptable(
      BindingRef existing, String display, Owner owner, Permission permission) {
    if (!existing.isOwnedBy(owner.subjectId())) {
      throw new ProvisioningException(
          display
              + " already exists but was not created by jit-access for this subject (missing the "
              + Names.MANAGED_BY_LABEL
              + " label or the "
              + Names.SUBJECT_ANNOTATION
              + " annotation); refusing to adopt it. Delete it if it is not needed.",
          409,
          false,
          null);
    }
    if (!existing.bindsExactly(permission.clusterRole(), owner.namespace(), owner.serviceAccount())) {
      throw new ProvisioningException(
          display
              + " carries jit-access's marks but does not bind exactly ClusterRole "
              + permission.clusterRole()
              + " to "
              + owner.namespace()
              + "/"
              + owner.serviceAccount()
              + "; refusing to use it. Delete it so that it can be recreated.",
          409,
          false,
          null);
    }
  }

  /**
   * Deletes a binding.
   *
   * @return true if deleted, false if it was already gone
   */
  boolean delete(BindingRef binding) {
    String ns = binding.namespace();
    if (ns == null) {
      return calls.delete(
          "delete " + binding.displayName(),
          () -> rbac.deleteClusterRoleBinding(binding.name()).execute());
    }
    return calls.delete(
        "delete " + binding.displayName(),
        () -> rbac.deleteNamespacedRoleBinding(binding.name(), ns).execute());
  }

  /**
   * The subject's account, as its bindings must name it.
   *
   * @param subjectId the raw subject id
   * @param subjectHash its hash
   * @param namespace the ServiceAccount's namespace
   * @param serviceAccount the ServiceAccount's name
   */
  record Owner(String subjectId, String subjectHash, String namespace, String serviceAccount) {
    Owner {
      Objects.requireNonNull(subjectId, "subjectId");
    }

    Map<String, String> labels() {
      return Map.of(
          Names.MANAGED_BY_LABEL, Names.MANAGED_BY_VALUE, Names.SUBJECT_HASH_LABEL, subjectHash);
    }

    String selector() {
      return Names.MANAGED_SELECTOR + "," + Names.SUBJECT_HASH_LABEL + "=" + subjectHash;
    }
  }
}
