package dev.jitaccess.examples.portal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;

import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.RelayServer;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.web.servlet.AutoConfigureMockMvc;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpHeaders;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.yaml.snakeyaml.Yaml;

/** The kubeconfig download with the relay enabled (a self-signed certificate made by the test). */
@SpringBootTest(
    properties = {
      "jitaccess.policy-file=src/test/resources/test-policy.yaml",
      "jitaccess.audit.file=target/portal-kubeconfig-test-audit.jsonl",
      "jitaccess.audit.log=false",
      "jitaccess.relay.enabled=true",
      "jitaccess.relay.bind-address=127.0.0.1",
      "jitaccess.relay.port=0",
      "jitaccess.relay.tunnel-port=0",
      "portal.clusters=dev,prod"
    })
@AutoConfigureMockMvc
final class PortalKubeconfigTest {
  @Autowired MockMvc mvc;
  @Autowired RelayServer relay;
  @Autowired JitAccess jit;

  @DynamicPropertySource
  static void tls(DynamicPropertyRegistry registry) throws Exception {
    Path dir = Files.createTempDirectory("portal-tls");
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    X500Name name = new X500Name("CN=localhost");
    Instant now = Instant.now();
    var certificate =
        new JcaX509CertificateConverter()
            .getCertificate(
                new JcaX509v3CertificateBuilder(
                        name,
                        BigInteger.ONE,
                        Date.from(now.minus(1, ChronoUnit.HOURS)),
                        Date.from(now.plus(1, ChronoUnit.DAYS)),
                        name,
                        pair.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
    Path key = Files.writeString(dir.resolve("relay.key"), pem(new JcaPKCS8Generator(pair.getPrivate(), null).generate()));
    Path cert = Files.writeString(dir.resolve("relay.crt"), pem(certificate));
    registry.add("jitaccess.relay.tls-key", key::toString);
    registry.add("jitaccess.relay.tls-certificate", cert::toString);
  }

  @Test
  void kubeconfigPointsAtTheRelayWithASessionTokenForTheCaller() throws Exception {
    MvcResult result =
        mvc.perform(get("/api/kubeconfig/dev").header("X-Demo-User", "ann").header("X-Demo-Groups", "dev"))
            .andReturn();
    assertThat(result.getResponse().getStatus()).isEqualTo(200);
    assertThat(result.getResponse().getContentType()).startsWith("application/yaml");
    assertThat(result.getResponse().getHeader(HttpHeaders.CONTENT_DISPOSITION))
        .isEqualTo("attachment; filename=\"dev.kubeconfig.yaml\"");

    String yaml = result.getResponse().getContentAsString();
    assertThat(yaml).contains("server: https://127.0.0.1:" + relay.port() + "/clusters/dev");
    // The token in it is a session token of the engine for ann: authorizing with it yields ann's grant.
    String token = tokenOf(yaml);
    assertThat(jit.authorize(token, "dev").subject().id()).isEqualTo("ann");
  }

  @Test
  void kubeconfigForAnUnknownClusterIs400() throws Exception {
    MvcResult result =
        mvc.perform(get("/api/kubeconfig/nope").header("X-Demo-User", "ann")).andReturn();
    assertThat(result.getResponse().getStatus()).isEqualTo(400);
    assertThat(result.getResponse().getContentAsString()).contains("unknown cluster 'nope'");
  }

  private static String tokenOf(String kubeconfig) {
    Map<?, ?> doc = new Yaml().load(kubeconfig);
    Map<?, ?> user = (Map<?, ?>) ((Map<?, ?>) ((List<?>) doc.get("users")).get(0)).get("user");
    return (String) user.get("token");
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
