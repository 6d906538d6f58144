package dev.jitaccess.examples.quickstart;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.RbacAuthorizationV1Api;
import io.kubernetes.client.openapi.apis.VersionApi;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster the demo's agent serves: the current kubeconfig's when it answers quickly, otherwise the
 * {@link Sandbox}.
 *
 * @param apiClient the agent's client (the agent's own credentials: the kubeconfig's user, or none)
 * @param description one line for the console
 * @param sandbox whether this is the sandbox (no RBAC enforcement)
 * @param onClose what to run at the end
 */
record DemoCluster(ApiClient apiClient, String description, boolean sandbox, Runnable onClose)
    implements AutoCloseable {
  /** The namespace the agent keeps its ServiceAccounts in (it must exist). */
  static final String AGENT_NAMESPACE = "jit-access";

  /**
   * A ClusterRole the demo creates in a real cluster so that a grant can create namespaces (the built-in
   * {@code edit} and {@code view} cannot). The sandbox does not enforce RBAC, so there it is just a name.
   */
  static final String NAMESPACE_ROLE = "jit-access-demo-namespaces";

  private static final int PROBE_TIMEOUT_MILLIS = 2_000;

  /** The sandbox, always. */
  static DemoCluster sandbox(InstantSource clock) {
    Sandbox sandbox = Sandbox.start(clock);
    return new DemoCluster(
        sandbox.apiClient(),
        "SANDBOX: an in-process Kubernetes API at " + sandbox.url()
            + " (fabric8 mock server, CRUD mode). It has NO RBAC ENFORCEMENT: the bindings the agent creates"
            + " are stored, not enforced.",
        true,
        sandbox::close);
  }

  /** The current kubeconfig's cluster if its {@code /version} answers within 2 s, otherwise the sandbox. */
  static DemoCluster choose(InstantSource clock) {
    return reachableKubeconfig().orElseGet(() -> sandbox(clock));
  }

  private static Optional<DemoCluster> reachableKubeconfig() {
    try {
      ApiClient probe = Config.defaultClient();
      probe.setConnectTimeout(PROBE_TIMEOUT_MILLIS);
      probe.setReadTimeout(PROBE_TIMEOUT_MILLIS);
      String version = new VersionApi(probe).getCode().execute().getGitVersion();
      ApiClient client = Config.defaultClient();
      prepare(client);
      return Optional.of(
          new DemoCluster(
              client,
              "the current kubeconfig's cluster at " + client.getBasePath() + " (Kubernetes " + version
                  + "); Kubernetes RBAC enforces every grant",
              false,
              () -> {}));
    } catch (IOException | ApiException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The agent's namespace and the demo's namespace ClusterRole, created if missing. */
  private static void prepare(ApiClient client) throws ApiException {
    try {
      new CoreV1Api(client)
          .createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(AGENT_NAMESPACE)))
          .execute();
    } catch (ApiException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
    V1ClusterRole role =
        new V1ClusterRole()
            .metadata(
                new V1ObjectMeta()
                    .name(NAMESPACE_ROLE)
                    .labels(Map.of("app.kubernetes.io/part-of", "jit-access-demo")))
            .rules(
                List.of(
                    new V1PolicyRule()
                        .apiGroups(List.of(""))
                        .resources(List.of("namespaces"))
                        .verbs(List.of("get", "list", "watch", "create", "delete"))));
    try {
      new RbacAuthorizationV1Api(client).createClusterRole(role).execute();
    } catch (ApiException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  @Override
  public void close() {
    onClose.run();
  }
}
