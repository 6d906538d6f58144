package dev.jitaccess.it;

import dev.jitaccess.testkit.TestCertificates;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1APIGroupList;
import io.kubernetes.client.openapi.models.V1APIResource;
import io.kubernetes.client.openapi.models.V1APIResourceList;
import io.kubernetes.client.openapi.models.V1APIVersions;
import io.kubernetes.client.openapi.models.V1ClusterRoleBindingList;
import io.kubernetes.client.openapi.models.V1ListMeta;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1NamespaceList;
import io.kubernetes.client.openapi.models.V1NamespaceStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1RoleBindingList;
import io.kubernetes.client.openapi.models.V1ServerAddressByClientCIDR;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1TokenRequestStatus;
import io.kubernetes.client.openapi.models.V1WatchEvent;
import io.kubernetes.client.openapi.models.VersionInfo;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

/**
 * A kube-apiserver stand-in: WireMock over HTTPS (a BouncyCastle certificate of its own CA) answering discovery,
 * {@code namespaces} (list, create, watch) and the calls jit-access provisioning makes, with the real API's JSON
 * built from client-java's models.
 */
final class KubeApiStub implements AutoCloseable {
  /** The token the stubbed TokenRequest API issues. */
  static final String SA_TOKEN = "sa-token-e2e";

  static final String SA_NAMESPACE = "jit-access";
  static final String SERVICE_ACCOUNTS = "/api/v1/namespaces/" + SA_NAMESPACE + "/serviceaccounts";
  static final String RBAC = "/apis/rbac.authorization.k8s.io/v1";
  static final String NAMESPACES = "/api/v1/namespaces";
  static final List<String> NAMESPACE_NAMES = List.of("default", "kube-system", "team-a");

  private static final OffsetDateTime CREATED = OffsetDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

  private final TestCertificates certs = TestCertificates.create("kube-apiserver");
  private final WireMockServer server;

  KubeApiStub(Path dir) {
    String password = UUID.randomUUID().toString();
    Path keyStore = certs.writePkcs12(dir.resolve("kube-apiserver.p12"), password);
    server =
        new WireMockServer(
            options()
                .httpDisabled(true)
                .dynamicHttpsPort()
                .bindAddress("127.0.0.1")
                .keystorePath(keyStore.toString())
                .keystoreType("PKCS12")
                .keystorePassword(password)
                .keyManagerPassword(password)
                .containerThreads(20)
                // Jetty's gzip buffers a dribbled body until its end; kube-apiserver does not compress watches.
                .gzipDisabled(true));
    server.start();
    stubDiscovery();
    stubNamespaces();
    stubProvisioning();
  }

  /** {@code https://localhost:<port>} */
  String baseUrl() {
    return "https://localhost:" + server.httpsPort();
  }

  /** A client that trusts only this stub's CA, verifying the host name; no credentials of its own. */
  ApiClient apiClient() {
    ApiClient client = new ApiClient();
    client.setBasePath(baseUrl());
    client.setVerifyingSsl(true);
    client.setSslCaCert(new ByteArrayInputStream(certs.caPem().getBytes(StandardCharsets.US_ASCII)));
    return client;
  }

  WireMockServer server() {
    return server;
  }

  /**
   * Every request the stub received, except the agent's own housekeeping at start and on its sweep period:
   * the privilege self-check (SelfSubjectAccessReviews) and the idle sweep's listings of everything labelled
   * {@code app.kubernetes.io/managed-by=jit-access}. Those run on the agent's schedule, not on a user's call.
   */
  List<LoggedRequest> requests() {
    return server.findAll(RequestPatternBuilder.allRequests()).stream()
        .filter(r -> !isHousekeeping(r))
        .toList();
  }

  /** The agent's start-up and sweep requests. */
  List<LoggedRequest> housekeepingRequests() {
    return server.findAll(RequestPatternBuilder.allRequests()).stream().filter(KubeApiStub::isHousekeeping).toList();
  }

  private static boolean isHousekeeping(LoggedRequest r) {
    String url = r.getUrl();
    if (url.startsWith("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")) {
      return true;
    }
    String decoded = java.net.URLDecoder.decode(url, StandardCharsets.UTF_8);
    return "GET".equals(r.getMethod().getName())
        && decoded.contains("labelSelector=app.kubernetes.io/managed-by=jit-access")
        && !decoded.contains("subject-hash");
  }

  List<LoggedRequest> requests(RequestPatternBuilder pattern) {
    return server.findAll(pattern);
  }

  /** The requests kubectl made (recognised by its User-Agent), that is the forwarded ones. */
  List<LoggedRequest> kubectlRequests() {
    return requests().stream()
        .filter(r -> r.containsHeader("User-Agent") && r.getHeader("User-Agent").startsWith("kubectl"))
        .toList();
  }

  /** The ServiceAccount creations (provisioning). */
  int serviceAccountCreations() {
    return requests(RequestPatternBuilder.newRequestPattern(
                com.github.tomakehurst.wiremock.http.RequestMethod.POST, urlPathEqualTo(SERVICE_ACCOUNTS)))
        .size();
  }

  int clusterRoleBindingCreations() {
    return requests(RequestPatternBuilder.newRequestPattern(
                com.github.tomakehurst.wiremock.http.RequestMethod.POST, urlPathEqualTo(RBAC + "/clusterrolebindings")))
        .size();
  }

  int tokenRequests() {
    return requests(RequestPatternBuilder.newRequestPattern(
                com.github.tomakehurst.wiremock.http.RequestMethod.POST,
                urlPathMatching(SERVICE_ACCOUNTS + "/[^/]+/token")))
        .size();
  }

  int serviceAccountDeletions() {
    return requests(RequestPatternBuilder.newRequestPattern(
                com.github.tomakehurst.wiremock.http.RequestMethod.DELETE,
                urlPathMatching(SERVICE_ACCOUNTS + "/[^/]+")))
        .size();
  }

  // ---------------------------------------------------------------------------------------------- discovery

  private void stubDiscovery() {
    server.stubFor(
        get(urlPathEqualTo("/version"))
            .willReturn(
                json(
                    200,
                    new VersionInfo()
                        .major("1")
                        .minor("32")
                        .gitVersion("v1.32.4")
                        .gitCommit("59526cd4867447956156ae3a602fcbac10a2c335")
                        .gitTreeState("clean")
                        .buildDate("2025-04-22T16:02:27Z")
                        .goVersion("go1.23.6")
                        .compiler("gc")
                        .platform("linux/amd64"))));
    server.stubFor(
        get(urlPathEqualTo("/api"))
            .willReturn(
                json(
                    200,
                    new V1APIVersions()
                        .kind("APIVersions")
                        .versions(List.of("v1"))
                        .serverAddressByClientCIDRs(
                            List.of(
                                new V1ServerAddressByClientCIDR()
                                    .clientCIDR("0.0.0.0/0")
                                    .serverAddress("10.0.0.1:6443"))))));
    server.stubFor(
        get(urlPathEqualTo("/apis"))
            .willReturn(json(200, new V1APIGroupList().kind("APIGroupList").apiVersion("v1").groups(List.of()))));
    server.stubFor(
        get(urlPathEqualTo("/api/v1"))
            .willReturn(
                json(
                    200,
                    new V1APIResourceList()
                        .kind("APIResourceList")
                        .groupVersion("v1")
                        .resources(
                            List.of(
                                new V1APIResource()
                                    .name("namespaces")
                                    .singularName("namespace")
                                    .namespaced(false)
                                    .kind("Namespace")
                                    .verbs(List.of("create", "delete", "get", "list", "patch", "update", "watch"))
                                    .shortNames(List.of("ns"))
                                    .storageVersionHash("Q3oi5N2YM8M="),
                                new V1APIResource()
                                    .name("namespaces/status")
                                    .singularName("")
                                    .namespaced(false)
                                    .kind("Namespace")
                                    .verbs(List.of("get", "patch", "update")))))));
  }

  // --------------------------------------------------------------------------------------------- namespaces

  static V1Namespace namespace(String name, String resourceVersion) {
    return new V1Namespace()
        .apiVersion("v1")
        .kind("Namespace")
        .metadata(
            new V1ObjectMeta()
                .name(name)
                .uid(UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString())
                .resourceVersion(resourceVersion)
                .creationTimestamp(CREATED)
                .labels(java.util.Map.of("kubernetes.io/metadata.name", name)))
        .status(new V1NamespaceStatus().phase("Active"));
  }

  private void stubNamespaces() {
    List<V1Namespace> items = NAMESPACE_NAMES.stream().map(n -> namespace(n, "100")).toList();
    server.stubFor(
        get(urlPathEqualTo(NAMESPACES))
            .withQueryParam("watch", absent())
            .willReturn(
                json(
                    200,
                    new V1NamespaceList()
                        .apiVersion("v1")
                        .kind("NamespaceList")
                        .metadata(new V1ListMeta().resourceVersion("4711"))
                        .items(items))));
  }

  /**
   * Creating a namespace answers 201 with the created object named {@code name}, as kube-apiserver does.
   * (kubectl sends built-in types as protobuf and accepts JSON back.)
   */
  void stubCreateNamespace(String name) {
    server.stubFor(post(urlPathEqualTo(NAMESPACES)).willReturn(json(201, namespace(name, "4720"))));
  }

  /**
   * A watch of namespaces that sends two ADDED events as two chunks {@code gap} apart, then ends. Give names of
   * equal length: WireMock cuts the body into halves, so each chunk holds exactly one event line.
   */
  void stubWatch(String first, String second, Duration gap) {
    String body =
        JSON.serialize(new V1WatchEvent().type("ADDED")._object(namespace(first, "4712")))
            + "\n"
            + JSON.serialize(new V1WatchEvent().type("ADDED")._object(namespace(second, "4713")))
            + "\n";
    server.stubFor(
        get(urlPathEqualTo(NAMESPACES))
            .withQueryParam("watch", matching("true|1"))
            .willReturn(
                aResponse()
                    .withStatus(200)
                    .withHeader("Content-Type", "application/json")
                    .withHeader("Transfer-Encoding", "chunked")
                    .withBody(body)
                    .withChunkedDribbleDelay(2, (int) gap.multipliedBy(2).toMillis())));
  }

  // ------------------------------------------------------------------------------------------- provisioning

  private void stubProvisioning() {
    ResponseDefinitionBuilder echoCreated =
        aResponse()
            .withStatus(201)
            .withHeader("Content-Type", "application/json")
            .withBody("{{{request.body}}}")
            .withTransformers("response-template");
    server.stubFor(post(urlPathEqualTo(SERVICE_ACCOUNTS)).willReturn(echoCreated));
    server.stubFor(post(urlPathEqualTo(RBAC + "/clusterrolebindings")).willReturn(echoCreated));
    server.stubFor(post(urlPathMatching(RBAC + "/namespaces/[^/]+/rolebindings")).willReturn(echoCreated));
    server.stubFor(
        get(urlPathEqualTo(RBAC + "/clusterrolebindings"))
            .willReturn(
                json(
                    200,
                    new V1ClusterRoleBindingList()
                        .apiVersion("rbac.authorization.k8s.io/v1")
                        .kind("ClusterRoleBindingList")
                        .metadata(new V1ListMeta().resourceVersion("5000"))
                        .items(List.of()))));
    server.stubFor(
        get(urlPathEqualTo(RBAC + "/rolebindings"))
            .willReturn(
                json(
                    200,
                    new V1RoleBindingList()
                        .apiVersion("rbac.authorization.k8s.io/v1")
                        .kind("RoleBindingList")
                        .metadata(new V1ListMeta().resourceVersion("5000"))
                        .items(List.of()))));
    server.stubFor(
        patch(urlPathMatching(SERVICE_ACCOUNTS + "/[^/]+"))
            .willReturn(json(200, new V1ServiceAccount().apiVersion("v1").kind("ServiceAccount"))));
    server.stubFor(
        delete(urlPathMatching(SERVICE_ACCOUNTS + "/[^/]+"))
            .willReturn(json(200, new V1ServiceAccount().apiVersion("v1").kind("ServiceAccount"))));
    Instant expires = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
    server.stubFor(
        post(urlPathMatching(SERVICE_ACCOUNTS + "/[^/]+/token"))
            .willReturn(
                json(
                    201,
                    new AuthenticationV1TokenRequest()
                        .apiVersion("authentication.k8s.io/v1")
                        .kind("TokenRequest")
                        .status(
                            new V1TokenRequestStatus()
                                .token(SA_TOKEN)
                                .expirationTimestamp(OffsetDateTime.ofInstant(expires, ZoneOffset.UTC))))));
    // The agent's privilege self-check: a least-privilege agent is allowed none of what it asks about.
    server.stubFor(
        post(urlPathEqualTo("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"))
            .willReturn(
                aResponse()
                    .withStatus(201)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
                            + "\"spec\":{},\"status\":{\"allowed\":false}}")));
    // Anything else is a 404 Status, as kube-apiserver answers.
    server.stubFor(
        any(anyUrl())
            .atPriority(10)
            .willReturn(
                json(
                    404,
                    new V1Status()
                        .kind("Status")
                        .apiVersion("v1")
                        .metadata(new V1ListMeta())
                        .status("Failure")
                        .reason("NotFound")
                        .message("the server could not find the requested resource")
                        .code(404))));
  }

  private static ResponseDefinitionBuilder json(int status, Object model) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(JSON.serialize(model));
  }

  @Override
  public void close() {
    server.stop();
  }
}
