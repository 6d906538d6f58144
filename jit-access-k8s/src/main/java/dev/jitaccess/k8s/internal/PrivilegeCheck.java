package dev.jitaccess.k8s.internal;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AuthorizationV1Api;
import io.kubernetes.client.openapi.models.V1ResourceAttributes;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReviewSpec;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewStatus;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Asks kube-apiserver, one {@code SelfSubjectAccessReview} per dangerous privilege, whether the agent's own
 * identity holds more than it needs (SECURITY 19). Any authenticated identity may create these reviews
 * ({@code system:basic-user}), so the check needs no RBAC of its own. Thread-safe.
 */
public final class PrivilegeCheck {
  private static final String RBAC_GROUP = "rbac.authorization.k8s.io";

  /** One privilege the agent must not hold. */
  private record Probe(String description, V1ResourceAttributes attributes) {}

  private static final List<Probe> PROBES =
      List.of(
          probe("impersonate users", "impersonate", "", "users", null),
          probe("impersonate groups", "impersonate", "", "groups", null),
          probe("impersonate serviceaccounts", "impersonate", "", "serviceaccounts", null),
          probe("escalate clusterroles", "escalate", RBAC_GROUP, "clusterroles", null),
          probe("bind the cluster-admin ClusterRole", "bind", RBAC_GROUP, "clusterroles", "cluster-admin"),
          probe("do anything (* on *, as cluster-admin)", "*", "*", "*", null),
          probe("get secrets in all namespaces", "get", "", "secrets", null));

  private final AuthorizationV1Api api;
  private final KubeCalls calls;

  /**
   * Creates the check.
   *
   * @param client the agent's Kubernetes client
   * @param calls how calls are retried
   */
  public PrivilegeCheck(ApiClient client, KubeCalls calls) {
    this.api = new AuthorizationV1Api(client);
    this.calls = calls;
  }

  private static Probe probe(
      String description, String verb, String group, String resource, @Nullable String name) {
    V1ResourceAttributes attributes =
        new V1ResourceAttributes().verb(verb).group(group).resource(resource).name(name);
    return new Probe(description, attributes);
  }

  /**
   * Runs every probe.
   *
   * @return one finding per privilege held, naming it and what to do
   * @throws dev.jitaccess.api.ProvisioningException if a review could not be made
   */
  public List<String> findings() {
    List<String> findings = new ArrayList<>();
    for (Probe probe : PROBES) {
      V1SelfSubjectAccessReview review =
          new V1SelfSubjectAccessReview()
              .apiVersion("authorization.k8s.io/v1")
              .kind("SelfSubjectAccessReview")
              .spec(new V1SelfSubjectAccessReviewSpec().resourceAttributes(probe.attributes()));
      V1SelfSubjectAccessReview answer =
          calls.run(
              "review own privilege to " + probe.description(),
              () -> api.createSelfSubjectAccessReview(review).execute());
      V1SubjectAccessReviewStatus status = answer.getStatus();
      if (status != null && Boolean.TRUE.equals(status.getAllowed())) {
        findings.add(
            "the agent's identity may "
                + probe.description()
                + " cluster-wide; it needs only the RBAC in deploy/agent-rbac.yaml, remove the binding that"
                + " grants this");
      }
    }
    return List.copyOf(findings);
  }
}
