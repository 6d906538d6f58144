package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ProvisioningException;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1ServiceAccountList;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import io.kubernetes.client.openapi.models.V1TokenRequestStatus;
import io.kubernetes.client.util.PatchUtils;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The ServiceAccounts jit-access manages in its namespace, and their bound tokens. */
final class ServiceAccounts {
  private final ApiClient client;
  private final CoreV1Api core;
  private final KubeCalls calls;
  private final String namespace;
  private final int pageSize;

  ServiceAccounts(ApiClient client, KubeCalls calls, String namespace, int pageSize) {
    this.client = client;
    this.core = new CoreV1Api(client);
    this.calls = calls;
    this.namespace = namespace;
    this.pageSize = pageSize;
  }

  /**
   * Creates the account (the owner record, labelled and annotated), or adopts an existing one that carries
   * our marks for the same subject and brings its annotations up to date.
   *
   * @throws ProvisioningException if an account of that name exists and is not ours
   */
  void createOrAdopt(Bindings.Owner owner, Map<String, String> annotations) {
    String name = owner.serviceAccount();
    V1ServiceAccount body =
        new V1ServiceAccount()
            .metadata(
                new V1ObjectMeta()
                    .name(name)
                    .namespace(namespace)
                    .labels(owner.labels())
                    .annotations(annotations))
            .automountServiceAccountToken(false);
    KubeCalls.Outcome<V1ServiceAccount> outcome =
        calls.createOrAdopt(
            "create ServiceAccount " + namespace + "/" + name,
            () -> core.createNamespacedServiceAccount(namespace, body).execute(),
            () -> core.readNamespacedServiceAccount(name, namespace).execute(),
            existing -> checkAdoptable(existing, owner));
    if (!outcome.created()) {
      if (!patchAnnotations(name, annotations)) {
        throw new ProvisioningException(
            "ServiceAccount " + namespace + "/" + name + " vanished while it was being adopted; retry",
            404,
            true,
            null);
      }
    }
  }

  private V1ServiceAccount checkAdoptable(V1ServiceAccount existing, Bindings.Owner owner) {
    V1ObjectMeta meta = existing.getMetadata();
    Map<String, String> labels = meta == null ? null : meta.getLabels();
    Map<String, String> annotations = meta == null ? null : meta.getAnnotations();
    boolean ours =
        labels != null
            && Names.MANAGED_BY_VALUE.equals(labels.get(Names.MANAGED_BY_LABEL))
            && owner.subjectHash().equals(labels.get(Names.SUBJECT_HASH_LABEL))
            && annotations != null
            && owner.subjectId().equals(annotations.get(Names.SUBJECT_ANNOTATION));
    if (!ours) {
      throw new ProvisioningException(
          "ServiceAccount "
              + namespace
              + "/"
              + owner.serviceAccount()
              + " already exists but was not created by jit-access for this subject (missing the "
              + Names.MANAGED_BY_LABEL
              + " label or the "
              + Names.SUBJECT_ANNOTATION
              + " annotation); refusing to adopt it. Delete it if it is not needed.",
          409,
          false,
          null);
    }
    return existing;
  }

  /**
   * Merges annotations into the account (a JSON merge patch of {@code metadata.annotations}).
   *
   * @return false if the account does not exist
   */
  boolean patchAnnotations(String name, Map<String, String> annotations) {
    V1Patch patch =
        new V1Patch(JSON.serialize(Map.of("metadata", Map.of("annotations", annotations))));
    return calls
        .read(
            "update the annotations of ServiceAccount " + namespace + "/" + name,
            () ->
                PatchUtils.patch(
                    V1ServiceAccount.class,
                    () -> core.patchNamespacedServiceAccount(name, namespace, patch).buildCall(null),
                    V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
                    client))
        .isPresent();
  }

  /**
   * Asks for a bound token through the TokenRequest API.
   *
   * @throws ProvisioningException if the request failed or the answer has no token or expiry
   */
  IssuedToken requestToken(String name, Duration ttl, List<String> audiences, Instant now) {
    AuthenticationV1TokenRequest request =
        new AuthenticationV1TokenRequest()
            .spec(new V1TokenRequestSpec().expirationSeconds(ttl.toSeconds()).audiences(audiences));
    String what = "request a token for ServiceAccount " + namespace + "/" + name;
    AuthenticationV1TokenRequest answer =
        calls.run(what, () -> core.createNamespacedServiceAccountToken(name, namespace, request).execute());
    V1TokenRequestStatus status = answer.getStatus();
    String token = status == null ? null : status.getToken();
    OffsetDateTime expires = status == null ? null : status.getExpirationTimestamp();
    if (token == null || token.isBlank() || expires == null) {
      throw new ProvisioningException(
          "Could not " + what + ": the answer has no token or no expirationTimestamp", 0, true, null);
    }
    return new IssuedToken(token, now, expires.toInstant());
  }

  /**
   * Deletes an account, which invalidates every token issued for it.
   *
   * @return true if deleted, false if it was already gone
   */
  boolean delete(String name) {
    return calls.delete(
        "delete ServiceAccount " + namespace + "/" + name,
        () -> core.deleteNamespacedServiceAccount(name, namespace).execute());
  }

  /** Every ServiceAccount labelled managed-by=jit-access in the namespace, all pages. */
  List<V1ServiceAccount> listManaged() {
    return Pages.all(
        calls,
        "list ServiceAccounts in " + namespace,
        token -> {
          V1ServiceAccountList list =
              core.listNamespacedServiceAccount(namespace)
                  .labelSelector(Names.MANAGED_SELECTOR)
                  .limit(pageSize)
                  ._continue(token)
                  .execute();
          return new Pages.Page<>(list.getItems(), continueOf(list));
        });
  }

  private static @Nullable String continueOf(V1ServiceAccountList list) {
    return list.getMetadata() == null ? null : list.getMetadata().getContinue();
  }
}
