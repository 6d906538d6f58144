package dev.jitaccess.examples.quickstart;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import com.google.gson.JsonObject;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1APIGroup;
import io.kubernetes.client.openapi.models.V1APIGroupList;
import io.kubernetes.client.openapi.models.V1APIResource;
import io.kubernetes.client.openapi.models.V1APIResourceList;
import io.kubernetes.client.openapi.models.V1APIVersions;
import io.kubernetes.client.openapi.models.V1GroupVersionForDiscovery;
import io.kubernetes.client.openapi.models.V1ServerAddressByClientCIDR;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import io.kubernetes.client.openapi.models.V1TokenRequestStatus;
import java.net.InetAddress;
import okhttp3.Protocol;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.regex.Pattern;

/**
 * The sandbox cluster: an in-process Kubernetes API (fabric8's mock server in CRUD mode) that stores what it is
 * sent and answers lists, gets, creates, patches and deletes like kube-apiserver, plus what CRUD mode cannot do:
 * API discovery for kubectl and the TokenRequest subresource ({@code POST .../serviceaccounts/<name>/token}).
 *
 * <p>It has <b>no authentication and no RBAC</b>: the bindings the agent creates are stored, not enforced. It
 * shows the flow, not Kubernetes' authorization. Plain HTTP on the loopback address: only the agent's
 * {@code ApiClient} talks to it; kubectl talks to the relay over TLS.
 */
final class Sandbox implements AutoCloseable {
  static final List<String> NAMESPACES = List.of("default", "kube-system", "jit-access", "shop");

  private static final Pattern TOKEN_REQUEST =
      Pattern.compile("/api/v1/namespaces/[a-z0-9-]+/serviceaccounts/[a-z0-9-]+/token");
  private static final Duration DEFAULT_TOKEN_TTL = Duration.ofHours(1);

  /** The mock server logs every request at INFO through java.util.logging; the demo prints its own story. */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private final KubernetesMockServer server;
  private final InstantSource clock;
  private final SecureRandom random = new SecureRandom();

  private Sandbox(InstantSource clock) {
    this.clock = clock;
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
    Dispatcher crud = new KubernetesMixedDispatcher(expectations);
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), expectations, new SandboxDispatcher(crud), false);
  }

  /** Starts a sandbox on the loopback address with the namespaces of {@link #NAMESPACES}. */
  static Sandbox start(InstantSource clock) {
    Sandbox sandbox = new Sandbox(clock);
    sandbox.server.init(InetAddress.getLoopbackAddress(), 0);
    try (KubernetesClient client = sandbox.server.createClient()) {
      for (String name : NAMESPACES) {
        client
            .namespaces()
            .resource(
                new NamespaceBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .addToLabels("kubernetes.io/metadata.name", name)
                    .endMetadata()
                    .withNewStatus()
                    .withPhase("Active")
                    .endStatus()
                    .build())
            .create();
      }
    }
    return sandbox;
  }

  /** {@code http://<loopback>:<port>} */
  String url() {
    String url = server.url("/");
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /**
   * A client for the agent: no credentials (the sandbox checks none), HTTP/2 without TLS (prior knowledge), as
   * the agent speaks HTTP/2 to a real kube-apiserver over TLS.
   */
  ApiClient apiClient() {
    ApiClient client = new ApiClient();
    client.setBasePath(url());
    // HTTP/2 as with a real kube-apiserver: the relay copies the answer's header names into HTTP/2 frames, which
    // take lower-case names only, and the mock server writes "Content-Length" when it speaks HTTP/1.1.
    client.setHttpClient(client.getHttpClient().newBuilder().protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE)).build());
    return client;
  }

  @Override
  public void close() {
    server.destroy();
  }

  /** Discovery and TokenRequest first; everything else goes to fabric8's CRUD store. */
  private final class SandboxDispatcher extends Dispatcher {
    private final Dispatcher crud;
    private final Map<String, String> discovery = discoveryDocuments();

    SandboxDispatcher(Dispatcher crud) {
      this.crud = crud;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String path = request.getPath();
      int query = path.indexOf('?');
      String bare = query < 0 ? path : path.substring(0, query);
      if (request.getMethod().equals("GET") && discovery.containsKey(bare)) {
        return json(200, discovery.get(bare));
      }
      if (request.getMethod().equals("POST") && TOKEN_REQUEST.matcher(bare).matches()) {
        return json(201, tokenRequest(request.getUtf8Body()));
      }
      if (bare.startsWith("/openapi/")) {
        // No schema: kubectl then validates nothing client-side (as with an API server that has no OpenAPI).
        return json(404, status(404, "NotFound", "the sandbox publishes no OpenAPI schema"));
      }
      String contentType = request.getHeader("Content-Type");
      if (contentType != null && contentType.contains("protobuf")) {
        return json(415, status(415, "UnsupportedMediaType",
            "the sandbox stores JSON only; send the object as JSON, e.g. kubectl create -f <file.yaml>"));
      }
      if (request.getMethod().equals("POST") || request.getMethod().equals("PUT")) {
        return crud.dispatch(withTypeMeta(request, bare));
      }
      return crud.dispatch(request);
    }

    @Override
    public void shutdown() {
      crud.shutdown();
    }
  }

  /**
   * kube-apiserver takes an object without {@code apiVersion} and {@code kind} (the URL names the type), and
   * client-java sends them so; the CRUD store needs them: fill them in from the URL.
   */
  private static RecordedRequest withTypeMeta(RecordedRequest request, String path) {
    // Reading the body drains it: the request passed on always gets a fresh buffer.
    String body = request.getUtf8Body();
    if (body != null && body.trim().startsWith("{")) {
      JsonObject object = JSON.getGson().fromJson(body, JsonObject.class);
      String[] segments = path.split("/");
      for (int i = segments.length - 1; i >= 0 && !object.has("kind"); i--) {
        String[] type = TYPES.get(segments[i]);
        if (type != null) {
          object.addProperty("apiVersion", type[0]);
          object.addProperty("kind", type[1]);
          body = JSON.getGson().toJson(object);
        }
      }
    }
    Buffer buffer = new Buffer(body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8));
    return new RecordedRequest(
        request.getHttpVersion(), request.method(), request.getPath(), request.getHeaders(), buffer);
  }

  private static final Map<String, String[]> TYPES =
      Map.of(
          "namespaces", new String[] {"v1", "Namespace"},
          "serviceaccounts", new String[] {"v1", "ServiceAccount"},
          "configmaps", new String[] {"v1", "ConfigMap"},
          "rolebindings", new String[] {"rbac.authorization.k8s.io/v1", "RoleBinding"},
          "clusterrolebindings", new String[] {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
          "clusterroles", new String[] {"rbac.authorization.k8s.io/v1", "ClusterRole"});

  /** Answers a TokenRequest as kube-apiserver does: a token and its expiry, {@code expirationSeconds} honoured. */
  private String tokenRequest(String body) {
    AuthenticationV1TokenRequest request = JSON.deserialize(body, AuthenticationV1TokenRequest.class);
    V1TokenRequestSpec spec = request.getSpec();
    Duration ttl =
        spec != null && spec.getExpirationSeconds() != null
            ? Duration.ofSeconds(spec.getExpirationSeconds())
            : DEFAULT_TOKEN_TTL;
    byte[] bytes = new byte[24];
    random.nextBytes(bytes);
    request
        .apiVersion("authentication.k8s.io/v1")
        .kind("TokenRequest")
        .status(
            new V1TokenRequestStatus()
                .token("sandbox-" + HexFormat.of().formatHex(bytes))
                .expirationTimestamp(
                    clock.instant().plus(ttl).truncatedTo(ChronoUnit.SECONDS).atOffset(ZoneOffset.UTC)));
    return JSON.serialize(request);
  }

  private static String status(int code, String reason, String message) {
    return JSON.serialize(
        new V1Status().apiVersion("v1").kind("Status").status("Failure").code(code).reason(reason).message(message));
  }

  private static MockResponse json(int status, String body) {
    return new MockResponse()
        .setResponseCode(status)
        .setHeader("Content-Type", "application/json")
        .setBody(body);
  }

  /** Legacy (not aggregated) discovery for the core group and RBAC, enough for kubectl's resource mapping. */
  private static Map<String, String> discoveryDocuments() {
    List<String> rw = List.of("create", "delete", "get", "list", "patch", "update", "watch");
    V1GroupVersionForDiscovery rbacV1 =
        new V1GroupVersionForDiscovery().groupVersion("rbac.authorization.k8s.io/v1").version("v1");
    return Map.of(
        "/api",
        JSON.serialize(
            new V1APIVersions()
                .kind("APIVersions")
                .versions(List.of("v1"))
                .serverAddressByClientCIDRs(
                    List.of(new V1ServerAddressByClientCIDR().clientCIDR("0.0.0.0/0").serverAddress("127.0.0.1")))),
        "/apis",
        JSON.serialize(
            new V1APIGroupList()
                .kind("APIGroupList")
                .apiVersion("v1")
                .groups(
                    List.of(
                        new V1APIGroup()
                            .name("rbac.authorization.k8s.io")
                            .versions(List.of(rbacV1))
                            .preferredVersion(rbacV1)))),
        "/api/v1",
        JSON.serialize(
            new V1APIResourceList()
                .kind("APIResourceList")
                .groupVersion("v1")
                .resources(
                    List.of(
                        resource("namespaces", "Namespace", false, rw, "ns"),
                        resource("serviceaccounts", "ServiceAccount", true, rw, "sa"),
                        resource("configmaps", "ConfigMap", true, rw, "cm"),
                        resource("pods", "Pod", true, rw, "po")))),
        "/apis/rbac.authorization.k8s.io/v1",
        JSON.serialize(
            new V1APIResourceList()
                .kind("APIResourceList")
                .groupVersion("rbac.authorization.k8s.io/v1")
                .resources(
                    List.of(
                        resource("clusterrolebindings", "ClusterRoleBinding", false, rw, null),
                        resource("rolebindings", "RoleBinding", true, rw, null),
                        resource("clusterroles", "ClusterRole", false, rw, null)))));
  }

  private static V1APIResource resource(
      String plural, String kind, boolean namespaced, List<String> verbs, String shortName) {
    V1APIResource resource =
        new V1APIResource()
            .name(plural)
            .singularName(kind.toLowerCase(java.util.Locale.ROOT))
            .namespaced(namespaced)
            .kind(kind)
            .verbs(verbs);
    return shortName == null ? resource : resource.shortNames(List.of(shortName));
  }
}
