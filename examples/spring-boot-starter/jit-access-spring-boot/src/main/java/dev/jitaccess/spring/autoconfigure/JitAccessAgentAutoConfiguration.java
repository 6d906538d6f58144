package dev.jitaccess.spring.autoconfigure;

import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.api.spi.ClusterForwarder;
import dev.jitaccess.api.spi.RevocationStore;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.k8s.ConfigMapRevocationStore;
import dev.jitaccess.k8s.KubernetesAccountProvisioner;
import dev.jitaccess.k8s.KubernetesForwarder;
import dev.jitaccess.relay.InMemoryRevocationStore;
import dev.jitaccess.relay.RelayAgent;
import dev.jitaccess.spring.autoconfigure.internal.CredentialFile;
import dev.jitaccess.spring.autoconfigure.internal.PemFiles;
import dev.jitaccess.spring.autoconfigure.internal.TextFiles;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Objects;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the in-cluster agent when {@code jitaccess.agent.enabled=true} and both
 * {@code jit-access-relay} and {@code jit-access-k8s} are on the class path ({@link JitAccessProperties.Agent}).
 *
 * <p>Beans, each backing off when the application defines one of the same type:
 *
 * <ul>
 *   <li>the Kubernetes {@code ApiClient}: {@code Config.defaultClient()}, that is the in-cluster ServiceAccount,
 *       else the current kubeconfig;
 *   <li>an {@link AccountProvisioner}: a {@link KubernetesAccountProvisioner} in {@code jitaccess.agent.namespace}
 *       binding only {@code jitaccess.agent.allowed-cluster-roles};
 *   <li>a {@link ClusterForwarder}: a {@link KubernetesForwarder};
 *   <li>a {@link RevocationStore}: a {@link ConfigMapRevocationStore} in the agent's namespace, or an
 *       {@link InMemoryRevocationStore} with {@code jitaccess.agent.revocation-store=memory};
 *   <li>the {@link GrantVerifier} for {@code jitaccess.agent.cluster}, from the engine's public keys in
 *       {@code jitaccess.agent.jwks-file};
 *   <li>the {@link RelayAgent}, started when it is created (checking its privileges and loading the revocations
 *       first, so a failure there fails the application's start-up) and closed with the context. An
 *       application-defined {@link RelayAgent} bean replaces it and manages its own lifecycle.
 * </ul>
 *
 * @since 0.2.0
 */
@AutoConfiguration(after = JitAccessAutoConfiguration.class)
@ConditionalOnClass(
    value = {RelayAgent.class, KubernetesAccountProvisioner.class},
    name = "io.kubernetes.client.openapi.ApiClient")
@ConditionalOnProperty(prefix = "jitaccess.agent", name = "enabled", havingValue = "true")
@EnableConfigurationProperties(JitAccessProperties.class)
public class JitAccessAgentAutoConfiguration {

  /** Creates the configuration; Spring calls it. */
  public JitAccessAgentAutoConfiguration() {}

  // Bean methods taking or returning client-java types are package-private: no third-party type in this
  // package's public signatures.

  @Bean
  @ConditionalOnMissingBean
  ApiClient jitAccessKubernetesApiClient() {
    try {
      return Config.defaultClient();
    } catch (IOException e) {
      throw new IllegalStateException(
          "jitaccess.agent.enabled=true but the Kubernetes client configuration could not be read (in-cluster"
              + " ServiceAccount, $KUBECONFIG or ~/.kube/config); fix it or define an ApiClient bean",
          e);
    }
  }

  @Bean
  @ConditionalOnMissingBean(AccountProvisioner.class)
  KubernetesAccountProvisioner jitAccessAccountProvisioner(ApiClient apiClient, JitAccessProperties properties) {
    JitAccessProperties.Agent agent = properties.agent();
    KubernetesAccountProvisioner.Builder builder =
        KubernetesAccountProvisioner.builder()
            .apiClient(apiClient)
            .namespace(agent.namespace())
            .allowedClusterRoles(new LinkedHashSet<>(agent.allowedClusterRoles()));
    if (agent.deniedNamespaces() != null) {
      builder.deniedNamespaces(new LinkedHashSet<>(agent.deniedNamespaces()));
    }
    try {
      builder.idleTimeout(agent.idleTimeout());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("jitaccess.agent.idle-timeout: " + e.getMessage(), e);
    }
    try {
      builder.tokenTtl(agent.tokenTtl());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("jitaccess.agent.token-ttl: " + e.getMessage(), e);
    }
    try {
      return builder.build();
    } catch (IllegalStateException e) {
      // the only cross-check: the ServiceAccount namespace is among the denied ones
      throw new IllegalArgumentException(
          "jitaccess.agent.namespace / jitaccess.agent.denied-namespaces: " + e.getMessage(), e);
    }
  }

  @Bean
  @ConditionalOnMissingBean(ClusterForwarder.class)
  KubernetesForwarder jitAccessClusterForwarder(ApiClient apiClient) {
    return KubernetesForwarder.builder().apiClient(apiClient).build();
  }

  @Bean
  @ConditionalOnMissingBean(RevocationStore.class)
  RevocationStore jitAccessRevocationStore(ApiClient apiClient, JitAccessProperties properties) {
    JitAccessProperties.Agent agent = properties.agent();
    return switch (agent.revocationStore()) {
      case CONFIGMAP ->
          ConfigMapRevocationStore.builder().apiClient(apiClient).namespace(agent.namespace()).build();
      case MEMORY -> new InMemoryRevocationStore();
    };
  }

  /**
   * The verifier of the grants the relay forwards, for this agent's cluster only.
   *
   * @param properties the properties
   * @return the verifier
   * @throws IllegalArgumentException naming the property, if the JWKS file cannot be read or holds no public key
   */
  @Bean
  @ConditionalOnMissingBean
  public GrantVerifier jitAccessAgentGrantVerifier(JitAccessProperties properties) {
    JitAccessProperties.Agent agent = properties.agent();
    Path jwksFile = Objects.requireNonNull(agent.jwksFile(), "jwksFile");
    String jwks = TextFiles.read(jwksFile, "jitaccess.agent.jwks-file");
    GrantVerifier.Builder builder = GrantVerifier.builder();
    try {
      builder.jwks(jwks);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "jitaccess.agent.jwks-file: " + jwksFile.toAbsolutePath() + ": " + e.getMessage(), e);
    }
    return builder
        .issuer(agent.issuer() != null ? agent.issuer() : properties.issuer())
        .cluster(Objects.requireNonNull(agent.cluster(), "cluster"))
        .build();
  }

  /**
   * The agent, already started: it has checked its privileges, loaded the revocations and begun dialing the
   * relay in the background. Closed with the context.
   *
   * @param properties the properties
   * @param grantVerifier the grant verifier
   * @param provisioner the account provisioner
   * @param forwarder the cluster forwarder
   * @param revocationStore the revocation store
   * @return the started agent
   * @throws IllegalArgumentException naming the property, if the credential or relay CA file cannot be read or
   *     the sweep period is out of range
   * @throws dev.jitaccess.api.RelayException if the agent refuses to start: the revocations could not be
   *     loaded, or it holds excess privileges and {@code jitaccess.agent.refuse-overprivileged=true}
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public RelayAgent jitAccessRelayAgent(
      JitAccessProperties properties,
      GrantVerifier grantVerifier,
      AccountProvisioner provisioner,
      ClusterForwarder forwarder,
      RevocationStore revocationStore) {
    JitAccessProperties.Agent agent = properties.agent();
    RelayAgent.Builder builder =
        RelayAgent.builder()
            .relayUri(Objects.requireNonNull(agent.relayUri(), "relayUri"))
            .credential(
                new CredentialFile(
                    Objects.requireNonNull(agent.credentialFile(), "credentialFile"),
                    "jitaccess.agent.credential-file"))
            .grantVerifier(grantVerifier)
            .provisioner(provisioner)
            .forwarder(forwarder)
            .revocationStore(revocationStore)
            .refuseOverprivileged(agent.refuseOverprivileged());
    if (agent.relayCa() != null) {
      builder.trustedCertificates(PemFiles.certificates(agent.relayCa(), "jitaccess.agent.relay-ca"));
    }
    try {
      builder.sweepPeriod(agent.sweepPeriod());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("jitaccess.agent.sweep-period: " + e.getMessage(), e);
    }
    RelayAgent relayAgent = builder.build();
    // Started here rather than as an init method: Spring does not destroy a bean whose init method threw, and
    // an agent that failed to start must still be closed (its sweeper and worker threads).
    try {
      relayAgent.start();
    } catch (RuntimeException e) {
      relayAgent.close();
      throw e;
    }
    return relayAgent;
  }
}
