package dev.jitaccess.spring.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.api.spi.ClusterForwarder;
import dev.jitaccess.api.spi.RevocationStore;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.k8s.ConfigMapRevocationStore;
import dev.jitaccess.k8s.KubernetesAccountProvisioner;
import dev.jitaccess.k8s.KubernetesForwarder;
import dev.jitaccess.relay.InMemoryRevocationStore;
import dev.jitaccess.relay.RelayAgent;
import dev.jitaccess.relay.RelayServer;
import dev.jitaccess.testkit.TestCertificates;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1ClusterRoleBindingList;
import io.kubernetes.client.openapi.models.V1ListMeta;
import io.kubernetes.client.openapi.models.V1RoleBindingList;
import io.kubernetes.client.openapi.models.V1ResourceAttributes;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SelfSubjectAccessReviewSpec;
import io.kubernetes.client.openapi.models.V1ServiceAccountList;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewStatus;
import io.kubernetes.client.util.ClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

final class JitAccessAgentAutoConfigurationTest {
  private static final String CLUSTER = "prod";
  private static final String NS = "jit-access";
  private static final String CONFIGMAP =
      "/api/v1/namespaces/" + NS + "/configmaps/" + ConfigMapRevocationStore.Builder.DEFAULT_NAME;
  private static final String SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
  private static final String RBAC = "/apis/rbac.authorization.k8s.io/v1";

  /** A fake kube-apiserver answering the agent's start-up calls: privilege reviews, revocations, sweeps. */
  @RegisterExtension
  static final WireMockExtension kube =
      WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  JitAccessAutoConfiguration.class,
                  JitAccessRelayAutoConfiguration.class,
                  JitAccessAgentAutoConfiguration.class));

  @TempDir Path dir;

  private final TestCertificates certificates = TestCertificates.create("relay");
  private final JitAccess engine = JitAccess.builder().build();
  private ApiClient kubeClient;

  @BeforeEach
  void fakeKubernetes() {
    kubeClient = new ClientBuilder().setBasePath(kube.baseUrl()).build();
    kube.stubFor(post(urlPathEqualTo(SSAR)).willReturn(json(201, review(false))));
    kube.stubFor(get(urlPathEqualTo(CONFIGMAP)).willReturn(json(404, notFound())));
    kube.stubFor(
        get(urlPathEqualTo("/api/v1/namespaces/" + NS + "/serviceaccounts"))
            .willReturn(json(200, new V1ServiceAccountList().apiVersion("v1").items(List.of()).metadata(new V1ListMeta()))));
    kube.stubFor(
        get(urlPathEqualTo(RBAC + "/clusterrolebindings"))
            .willReturn(json(200, new V1ClusterRoleBindingList().items(List.of()).metadata(new V1ListMeta()))));
    kube.stubFor(
        get(urlPathEqualTo(RBAC + "/rolebindings"))
            .willReturn(json(200, new V1RoleBindingList().items(List.of()).metadata(new V1ListMeta()))));
  }

  private static ResponseDefinitionBuilder json(int status, Object model) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(JSON.serialize(model));
  }

  private static V1SelfSubjectAccessReview review(boolean allowed) {
    return new V1SelfSubjectAccessReview()
        .apiVersion("authorization.k8s.io/v1")
        .kind("SelfSubjectAccessReview")
        .spec(new V1SelfSubjectAccessReviewSpec().resourceAttributes(new V1ResourceAttributes().verb("get")))
        .status(new V1SubjectAccessReviewStatus().allowed(allowed));
  }

  private static V1Status notFound() {
    return new V1Status().kind("Status").apiVersion("v1").status("Failure").reason("NotFound").code(404);
  }

  private Path write(String name, String content) {
    try {
      return Files.writeString(dir.resolve(name), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Agent properties for {@code engine}'s credential and keys, dialing {@code relayUri}. */
  private String[] agentOn(JitAccess issuer, String relayUri) {
    return new String[] {
      "jitaccess.agent.enabled=true",
      "jitaccess.agent.relay-uri=" + relayUri,
      "jitaccess.agent.credential-file="
          + write("agent.jwt", issuer.issueAgentCredential(CLUSTER, Duration.ofHours(1)) + "\n"),
      "jitaccess.agent.relay-ca=" + write("relay-ca.pem", certificates.caPem()),
      "jitaccess.agent.jwks-file=" + write("jwks.json", issuer.publicJwks()),
      "jitaccess.agent.cluster=" + CLUSTER,
      "jitaccess.agent.allowed-cluster-roles=view,edit"
    };
  }

  /** A port nothing listens on: the agent keeps dialing it in the background. */
  private static String unreachableRelay() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return "https://127.0.0.1:" + socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String[] with(String[] properties, String... more) {
    List<String> all = new ArrayList<>(Arrays.asList(properties));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  /** The error in a start-up failure's cause chain that names a property (wrappers keep the original as cause). */
  private static Throwable propertyError(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().startsWith("jitaccess.")) {
        return t;
      }
    }
    throw new AssertionError("no error naming a jitaccess.* property in the start-up failure", failure);
  }

  private static Grant grant(String cluster) {
    Instant now = Instant.now();
    return new Grant(
        "grant-" + cluster,
        Subject.of("alice"),
        cluster,
        List.of(Permission.clusterWide("view")),
        now,
        now.plus(Duration.ofMinutes(5)));
  }

  @Test
  void agentIsOffByDefaultWithDocumentedDefaults() {
    runner.run(
        context -> {
          assertThat(context)
              .hasNotFailed()
              .doesNotHaveBean(RelayAgent.class)
              .doesNotHaveBean(ApiClient.class)
              .doesNotHaveBean(AccountProvisioner.class)
              .doesNotHaveBean(GrantVerifier.class);
          JitAccessProperties.Agent agent = context.getBean(JitAccessProperties.class).agent();
          assertThat(agent.enabled()).isFalse();
          assertThat(agent.namespace()).isEqualTo("jit-access");
          assertThat(agent.allowedClusterRoles()).isEmpty();
          assertThat(agent.idleTimeout()).isEqualTo(Duration.ofHours(8));
          assertThat(agent.tokenTtl()).isEqualTo(Duration.ofMinutes(10));
          assertThat(agent.sweepPeriod()).isEqualTo(Duration.ofMinutes(5));
          assertThat(agent.refuseOverprivileged()).isFalse();
          assertThat(agent.revocationStore()).isEqualTo(JitAccessProperties.Agent.RevocationStoreType.CONFIGMAP);
        });
    assertThat(kube.getAllServeEvents()).isEmpty();
  }

  @Test
  void agentStartsWithTheContextConnectsToTheRelayAndClosesWithIt() {
    certificates.writeServerPem(dir);
    AtomicReference<RelayAgent> agentRef = new AtomicReference<>();
    runner
        .withPropertyValues(
            "jitaccess.relay.enabled=true",
            "jitaccess.relay.bind-address=127.0.0.1",
            "jitaccess.relay.port=0",
            "jitaccess.relay.tunnel-port=0",
            "jitaccess.relay.tls-key=" + dir.resolve("key.pem"),
            "jitaccess.relay.tls-certificate=" + dir.resolve("chain.pem"))
        .run(
            relayContext -> {
              assertThat(relayContext).hasNotFailed();
              JitAccess relayEngine = relayContext.getBean(JitAccess.class);
              int tunnelPort = relayContext.getBean(RelayServer.class).tunnelPort();
              runner
                  .withBean(ApiClient.class, () -> kubeClient)
                  .withPropertyValues(agentOn(relayEngine, "https://127.0.0.1:" + tunnelPort))
                  .run(
                      context -> {
                        assertThat(context).hasNotFailed().hasSingleBean(RelayAgent.class);
                        assertThat(context.getBean(ApiClient.class)).isSameAs(kubeClient);
                        assertThat(context.getBean(AccountProvisioner.class))
                            .isInstanceOf(KubernetesAccountProvisioner.class);
                        assertThat(context.getBean(ClusterForwarder.class)).isInstanceOf(KubernetesForwarder.class);
                        assertThat(context.getBean(RevocationStore.class))
                            .isInstanceOf(ConfigMapRevocationStore.class);
                        RelayAgent agent = context.getBean(RelayAgent.class);
                        agentRef.set(agent);
                        // started with the context: privileges checked, revocations loaded, tunnel up
                        kube.verify(postRequestedFor(urlPathEqualTo(SSAR)));
                        kube.verify(getRequestedFor(urlPathEqualTo(CONFIGMAP)));
                        await()
                            .atMost(Duration.ofSeconds(20))
                            .alias("the agent authenticates to the relay with the credential file over the relay CA")
                            .until(agent::isConnected);

                        GrantVerifier verifier = context.getBean(GrantVerifier.class);
                        Grant prod = grant(CLUSTER);
                        assertThat(verifier.verify(relayEngine.signGrant(prod)).id()).isEqualTo(prod.id());
                        assertThatThrownBy(() -> verifier.verify(relayEngine.signGrant(grant("staging"))))
                            .isInstanceOf(AuthenticationException.class);
                        assertThatThrownBy(() -> verifier.verify(engine.signGrant(prod)))
                            .as("a grant signed by another engine")
                            .isInstanceOf(AuthenticationException.class);
                      });
              await()
                  .atMost(Duration.ofSeconds(10))
                  .alias("closing the context closes the agent's tunnel")
                  .until(() -> !agentRef.get().isConnected());
              assertThatThrownBy(() -> agentRef.get().start())
                  .as("the context started the agent")
                  .isInstanceOf(IllegalStateException.class);
            });
  }

  @Test
  void memoryRevocationStoreLeavesTheConfigMapAlone() {
    runner
        .withBean(ApiClient.class, () -> kubeClient)
        .withPropertyValues(with(agentOn(engine, unreachableRelay()), "jitaccess.agent.revocation-store=memory"))
        .run(
            context -> {
              assertThat(context).hasNotFailed().hasSingleBean(RelayAgent.class);
              assertThat(context.getBean(RevocationStore.class)).isInstanceOf(InMemoryRevocationStore.class);
              assertThat(context.getBean(RelayAgent.class).isConnected()).isFalse();
            });
    kube.verify(0, getRequestedFor(urlPathEqualTo(CONFIGMAP)));
    kube.verify(postRequestedFor(urlPathEqualTo(SSAR)));
  }

  @Test
  void applicationBeansReplaceTheProvisionerAndTheStore() {
    AccountProvisioner mine =
        new AccountProvisioner() {
          @Override
          public ProvisionedAccount ensure(Grant grant) {
            throw new UnsupportedOperationException("not called by this test");
          }

          @Override
          public void remove(String subjectId) {}
        };
    InMemoryRevocationStore store = new InMemoryRevocationStore();
    runner
        .withBean(ApiClient.class, () -> kubeClient)
        .withBean("myProvisioner", AccountProvisioner.class, () -> mine)
        .withBean("myStore", RevocationStore.class, () -> store)
        .withPropertyValues(agentOn(engine, unreachableRelay()))
        .run(
            context -> {
              assertThat(context).hasNotFailed().hasSingleBean(RelayAgent.class);
              assertThat(context).getBean(AccountProvisioner.class).isSameAs(mine);
              assertThat(context).getBean(RevocationStore.class).isSameAs(store);
              assertThat(context).doesNotHaveBean(KubernetesAccountProvisioner.class);
            });
    kube.verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void overprivilegedAgentRefusesToStartWhenAsked() {
    kube.stubFor(post(urlPathEqualTo(SSAR)).willReturn(json(201, review(true))));
    runner
        .withBean(ApiClient.class, () -> kubeClient)
        .withPropertyValues(with(agentOn(engine, unreachableRelay()), "jitaccess.agent.refuse-overprivileged=true"))
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .isInstanceOf(RelayException.class)
                    .hasMessageContaining("impersonate"));
  }

  @Test
  void emptyAllowedClusterRolesFailStartUpNamingTheProperty() {
    String[] properties = agentOn(engine, unreachableRelay());
    properties[6] = "jitaccess.agent.allowed-cluster-roles=";
    runner
        .withBean(ApiClient.class, () -> kubeClient)
        .withPropertyValues(properties)
        .run(
            context ->
                assertThat(propertyError(context.getStartupFailure()))
                    .hasMessageStartingWith(
                        "jitaccess.agent.allowed-cluster-roles must not be empty when jitaccess.agent.enabled=true"));
  }

  @Test
  void invalidClusterIdFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.agent.cluster=Prod_1")
        .run(
            context ->
                assertThat(propertyError(context.getStartupFailure()))
                    .hasMessageStartingWith("jitaccess.agent.cluster must be 1-63 characters of [a-z0-9-]")
                    .hasMessageContaining("Prod_1"));
  }

  @Test
  void missingCredentialFileFailsStartUpNamingTheProperty() {
    String[] properties = agentOn(engine, unreachableRelay());
    properties[2] = "jitaccess.agent.credential-file=" + dir.resolve("missing.jwt");
    runner
        .withBean(ApiClient.class, () -> kubeClient)
        .withPropertyValues(properties)
        .run(
            context ->
                assertThat(propertyError(context.getStartupFailure()))
                    .hasMessageStartingWith("jitaccess.agent.credential-file: cannot read")
                    .hasMessageContaining("missing.jwt"));
  }

  @Test
  void enabledWithoutRelayUriFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.agent.enabled=true")
        .run(
            context ->
                assertThat(propertyError(context.getStartupFailure()))
                    .hasMessageStartingWith(
                        "jitaccess.agent.relay-uri is required when jitaccess.agent.enabled=true"));
  }

  @Test
  void plainHttpRelayUriFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.agent.relay-uri=http://relay.example.com:8444")
        .run(
            context ->
                assertThat(propertyError(context.getStartupFailure()))
                    .hasMessageStartingWith("jitaccess.agent.relay-uri must be https://host:port"));
  }

  @Test
  void tokenTtlBelowTheKubernetesMinimumFailsStartUpNamingTheProperty() {
    runner
        .withBean(ApiClient.class, () -> kubeClient)
        .withPropertyValues(with(agentOn(engine, unreachableRelay()), "jitaccess.agent.token-ttl=5m"))
        .run(
            context ->
                assertThat(propertyError(context.getStartupFailure()))
                    .hasMessageStartingWith("jitaccess.agent.token-ttl: "));
  }

  @Test
  void jwksFileWithoutKeysFailsStartUpNamingTheProperty() {
    String[] properties = agentOn(engine, unreachableRelay());
    properties[4] = "jitaccess.agent.jwks-file=" + write("not-jwks.json", "{\"keys\":[]}");
    runner
        .withBean(ApiClient.class, () -> kubeClient)
        .withPropertyValues(properties)
        .run(
            context ->
                assertThat(propertyError(context.getStartupFailure()))
                    .hasMessageStartingWith("jitaccess.agent.jwks-file: "));
  }

  @Test
  void noAgentBeansWithoutTheKubernetesClasses() {
    runner
        .withClassLoader(new FilteredClassLoader(KubernetesAccountProvisioner.class))
        .withPropertyValues(agentOn(engine, unreachableRelay()))
        .run(
            context ->
                assertThat(context)
                    .hasNotFailed()
                    .doesNotHaveBean("jitAccessRelayAgent")
                    .doesNotHaveBean("jitAccessKubernetesApiClient")
                    .doesNotHaveBean(GrantVerifier.class));
    kube.verify(0, anyRequestedFor(anyUrl()));
  }

  @Test
  void noAgentBeansWithoutTheRelayClasses() {
    runner
        .withClassLoader(new FilteredClassLoader(RelayAgent.class))
        .withPropertyValues(agentOn(engine, unreachableRelay()))
        .run(
            context ->
                assertThat(context)
                    .hasNotFailed()
                    .doesNotHaveBean("jitAccessRelayAgent")
                    .doesNotHaveBean("jitAccessAccountProvisioner"));
  }
}
