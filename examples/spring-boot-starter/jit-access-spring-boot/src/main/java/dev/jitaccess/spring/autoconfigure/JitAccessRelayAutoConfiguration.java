package dev.jitaccess.spring.autoconfigure;

import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.RelayServer;
import dev.jitaccess.spring.autoconfigure.internal.PemFiles;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the relay kubectl talks to, when {@code jitaccess.relay.enabled=true} and
 * {@code jit-access-relay} is on the class path. The relay starts with the context and closes with it; an
 * application-defined {@link RelayServer} bean replaces it (and then manages its own lifecycle).
 *
 * @since 0.2.0
 */
@AutoConfiguration(after = JitAccessAutoConfiguration.class)
@ConditionalOnClass(RelayServer.class)
@ConditionalOnProperty(prefix = "jitaccess.relay", name = "enabled", havingValue = "true")
@EnableConfigurationProperties(JitAccessProperties.class)
public class JitAccessRelayAutoConfiguration {

  /** Creates the configuration; Spring calls it. */
  public JitAccessRelayAutoConfiguration() {}

  /**
   * The relay, started when created and closed with the context.
   *
   * @param jitAccess the engine
   * @param properties the properties
   * @return the relay (not yet started; Spring calls {@link RelayServer#start()})
   * @throws IllegalArgumentException naming the property, if the bind address, the TLS key or certificate
   *     cannot be used
   */
  @Bean(initMethod = "start", destroyMethod = "close")
  @ConditionalOnMissingBean
  public RelayServer jitAccessRelayServer(JitAccess jitAccess, JitAccessProperties properties) {
    JitAccessProperties.Relay relay = properties.relay();
    InetAddress address;
    try {
      address = InetAddress.getByName(relay.bindAddress());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "jitaccess.relay.bind-address: cannot resolve '" + relay.bindAddress() + "'", e);
    }
    RelayServer.Builder builder =
        RelayServer.builder()
            .jitAccess(jitAccess)
            .bindAddress(new InetSocketAddress(address, relay.port()))
            .tunnelBindAddress(new InetSocketAddress(address, relay.tunnelPort()))
            .tls(
                PemFiles.privateKey(Objects.requireNonNull(relay.tlsKey(), "tlsKey"), "jitaccess.relay.tls-key"),
                PemFiles.certificates(
                    Objects.requireNonNull(relay.tlsCertificate(), "tlsCertificate"),
                    "jitaccess.relay.tls-certificate"));
    if (relay.externalUrl() != null) {
      try {
        builder.externalUrl(relay.externalUrl());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("jitaccess.relay.external-url: " + e.getMessage(), e);
      }
    }
    return builder.build();
  }
}
