package dev.jitaccess.examples.portal;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * A small self-service portal on the jit-access Spring Boot starter. Run it with
 * {@code ./mvnw -pl examples/spring-boot-portal spring-boot:run} and open http://localhost:8080/.
 */
@SpringBootApplication
@EnableConfigurationProperties(PortalProperties.class)
public class PortalApplication {

  /** Spring creates it. */
  public PortalApplication() {}

  /**
   * Starts the portal.
   *
   * @param args Spring Boot arguments, e.g. {@code --server.port=9090}
   */
  public static void main(String[] args) {
    SpringApplication.run(PortalApplication.class, args);
  }
}
