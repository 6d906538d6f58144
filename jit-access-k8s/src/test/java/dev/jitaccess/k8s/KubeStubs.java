package dev.jitaccess.k8s;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.jitaccess.api.Permission;
import dev.jitaccess.k8s.internal.Names;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1ClusterRoleBindingList;
import io.kubernetes.client.openapi.models.V1ListMeta;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1RoleBindingList;
import io.kubernetes.client.openapi.models.V1RoleRef;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1ServiceAccountList;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import io.kubernetes.client.openapi.models.V1TokenRequestStatus;
import java.lang.reflect.Type;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * kube-apiserver answers for WireMock, built from client-java's own models and serialized with its JSON, so
 * they have the real API's shapes.
 */
final class KubeStubs {
  static final String NS = "jit-access";
  static final String SA_PATH = "/api/v1/namespaces/" + NS + "/serviceaccounts";
  static final String RBAC = "/apis/rbac.authorization.k8s.io/v1";
  static final String CRB_PATH = RBAC + "/clusterrolebindings";
  static final String RB_ALL_PATH = RBAC + "/rolebindings";

  private KubeStubs() {}

  static String saPath(String name) {
    return SA_PATH + "/" + name;
  }

  static String tokenPath(String name) {
    return SA_PATH + "/" + name + "/token";
  }

  static String crbPath(String name) {
    return CRB_PATH + "/" + name;
  }

  static String rbPath(String namespace) {
    return RBAC + "/namespaces/" + namespace + "/rolebindings";
  }

  static String rbPath(String namespace, String name) {
    return rbPath(namespace) + "/" + name;
  }

  static String saName(String subjectId) {
    return Names.serviceAccount(Names.subjectHash(subjectId));
  }

  static String bindingName(String subjectId, Permission permission) {
    return Names.binding(Names.subjectHash(subjectId), permission);
  }

  static ResponseDefinitionBuilder json(int status, Object model) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(JSON.serialize(model));
  }

  static ResponseDefinitionBuilder status(int code, String reason, String message) {
    V1Status status =
        new V1Status()
            .kind("Status")
            .apiVersion("v1")
            .metadata(new V1ListMeta())
            .status("Failure")
            .reason(reason)
            .message(message)
            .code(code);
    return json(code, status);
  }

  /** What kube-apiserver answers to a deleted binding. */
  static ResponseDefinitionBuilder deleted(String kind, String name) {
    V1Status status =
        new V1Status()
            .kind("Status")
            .apiVersion("v1")
            .metadata(new V1ListMeta())
            .status("Success")
            .details(
                new io.kubernetes.client.openapi.models.V1StatusDetails()
                    .name(name)
                    .group("rbac.authorization.k8s.io")
                    .kind(kind)
                    .uid("6c1f0e52-8a7d-4c3b-9f20-" + Math.abs(name.hashCode())));
    return json(200, status);
  }

  static ResponseDefinitionBuilder notFound() {
    return status(404, "NotFound", "not found");
  }

  static ResponseDefinitionBuilder alreadyExists() {
    return status(409, "AlreadyExists", "already exists");
  }

  static Map<String, String> labels(String subjectId) {
    return Map.of(
        Names.MANAGED_BY_LABEL,
        Names.MANAGED_BY_VALUE,
        Names.SUBJECT_HASH_LABEL,
        Names.subjectHash(subjectId));
  }

  /** A ServiceAccount as jit-access creates it. */
  static V1ServiceAccount managedAccount(String subjectId, @Nullable String expiresAt) {
    Map<String, String> annotations =
        expiresAt == null
            ? Map.of(Names.SUBJECT_ANNOTATION, subjectId)
            : Map.of(Names.SUBJECT_ANNOTATION, subjectId, Names.EXPIRES_AT_ANNOTATION, expiresAt);
    return new V1ServiceAccount()
        .apiVersion("v1")
        .kind("ServiceAccount")
        .metadata(
            new V1ObjectMeta()
                .name(saName(subjectId))
                .namespace(NS)
                .uid("0b4a3c2e-1d6f-4e58-9a7b-" + Math.abs(subjectId.hashCode()))
                .resourceVersion("1001")
                .creationTimestamp(OffsetDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC))
                .labels(labels(subjectId))
                .annotations(annotations));
  }

  static V1ClusterRoleBinding managedClusterBinding(String subjectId, String role) {
    return new V1ClusterRoleBinding()
        .apiVersion("rbac.authorization.k8s.io/v1")
        .kind("ClusterRoleBinding")
        .metadata(bindingMeta(subjectId, bindingName(subjectId, Permission.clusterWide(role))))
        .roleRef(roleRef(role))
        .subjects(subjects(subjectId));
  }

  static V1RoleBinding managedBinding(String subjectId, String role, String namespace) {
    return new V1RoleBinding()
        .apiVersion("rbac.authorization.k8s.io/v1")
        .kind("RoleBinding")
        .metadata(
            bindingMeta(subjectId, bindingName(subjectId, Permission.inNamespace(role, namespace)))
                .namespace(namespace))
        .roleRef(roleRef(role))
        .subjects(subjects(subjectId));
  }

  private static V1ObjectMeta bindingMeta(String subjectId, String name) {
    return new V1ObjectMeta()
        .name(name)
        .resourceVersion("2002")
        .labels(labels(subjectId))
        .annotations(
            Map.of(
                Names.SUBJECT_ANNOTATION,
                subjectId,
                Names.SERVICE_ACCOUNT_ANNOTATION,
                NS + "/" + saName(subjectId)));
  }

  private static V1RoleRef roleRef(String role) {
    return new V1RoleRef().apiGroup("rbac.authorization.k8s.io").kind("ClusterRole").name(role);
  }

  private static List<RbacV1Subject> subjects(String subjectId) {
    return List.of(new RbacV1Subject().kind("ServiceAccount").name(saName(subjectId)).namespace(NS));
  }

  static V1ServiceAccountList accountList(List<V1ServiceAccount> items, @Nullable String next) {
    return new V1ServiceAccountList()
        .apiVersion("v1")
        .kind("ServiceAccountList")
        .metadata(new V1ListMeta().resourceVersion("5000")._continue(next))
        .items(items);
  }

  static V1ClusterRoleBindingList clusterBindingList(List<V1ClusterRoleBinding> items) {
    return new V1ClusterRoleBindingList()
        .apiVersion("rbac.authorization.k8s.io/v1")
        .kind("ClusterRoleBindingList")
        .metadata(new V1ListMeta().resourceVersion("5000"))
        .items(items);
  }

  static V1RoleBindingList bindingList(List<V1RoleBinding> items) {
    return new V1RoleBindingList()
        .apiVersion("rbac.authorization.k8s.io/v1")
        .kind("RoleBindingList")
        .metadata(new V1ListMeta().resourceVersion("5000"))
        .items(items);
  }

  static AuthenticationV1TokenRequest tokenAnswer(
      String subjectId, String token, long askedSeconds, Instant expiresAt) {
    return new AuthenticationV1TokenRequest()
        .apiVersion("authentication.k8s.io/v1")
        .kind("TokenRequest")
        .metadata(new V1ObjectMeta().name(saName(subjectId)).namespace(NS))
        .spec(
            new V1TokenRequestSpec()
                .audiences(List.of("https://kubernetes.default.svc.cluster.local"))
                .expirationSeconds(askedSeconds))
        .status(
            new V1TokenRequestStatus()
                .token(token)
                .expirationTimestamp(OffsetDateTime.ofInstant(expiresAt, ZoneOffset.UTC)));
  }

  /** Both binding lists answer with the given items for any selector. */
  static void stubBindingLists(List<V1ClusterRoleBinding> cluster, List<V1RoleBinding> namespaced) {
    stubFor(get(urlPathEqualTo(CRB_PATH)).willReturn(json(200, clusterBindingList(cluster))));
    stubFor(get(urlPathEqualTo(RB_ALL_PATH)).willReturn(json(200, bindingList(namespaced))));
  }

  /** Everything a first provisioning of the subject needs, answering 201 with the given bodies. */
  static void stubFirstProvision(String subjectId, String token, Instant tokenExpiresAt) {
    String sa = saName(subjectId);
    stubFor(post(urlPathEqualTo(SA_PATH)).willReturn(json(201, managedAccount(subjectId, null))));
    stubFor(patch(urlPathEqualTo(saPath(sa))).willReturn(json(200, managedAccount(subjectId, null))));
    stubBindingLists(List.of(), List.of());
    stubFor(
        post(urlPathEqualTo(CRB_PATH))
            .willReturn(json(201, managedClusterBinding(subjectId, "view"))));
    stubFor(
        post(WireMock.urlPathMatching(RBAC + "/namespaces/[^/]+/rolebindings"))
            .willReturn(json(201, managedBinding(subjectId, "edit", "team-a"))));
    stubFor(
        post(urlPathEqualTo(tokenPath(sa)))
            .willReturn(json(201, tokenAnswer(subjectId, token, 600, tokenExpiresAt))));
    stubFor(delete(urlPathEqualTo(saPath(sa))).willReturn(json(200, managedAccount(subjectId, null))));
  }

  static List<LoggedRequest> requests(RequestPatternBuilder pattern) {
    return WireMock.findAll(pattern);
  }

  static <T> T body(LoggedRequest request, Type type) {
    return JSON.deserialize(request.getBodyAsString(), type);
  }

  static String selector(String subjectId) {
    return Names.MANAGED_SELECTOR + "," + Names.SUBJECT_HASH_LABEL + "=" + Names.subjectHash(subjectId);
  }
}
