package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AccessRequest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/** Writes kubeconfig files that point kubectl at the relay, with SnakeYAML. */
public final class KubeconfigWriter {

  private KubeconfigWriter() {}

  /**
   * Writes a kubeconfig.
   *
   * @param relay the relay's base URL ({@code https://host:port})
   * @param user the kubeconfig user name
   * @param cluster the cluster id
   * @param bearerToken the token kubectl sends
   * @param trustAnchor the certificate kubectl trusts for the relay
   * @return the YAML text
   * @throws IllegalArgumentException if the cluster id is invalid, a name is blank or the certificate unusable
   */
  public static String write(URI relay, String user, String cluster, String bearerToken, X509Certificate trustAnchor) {
    AccessRequest.checkCluster(cluster);
    if (user == null || user.isBlank()) {
      throw new IllegalArgumentException("user must not be blank");
    }
    if (bearerToken == null || bearerToken.isBlank()) {
      throw new IllegalArgumentException("bearerToken must not be blank");
    }
    String context = user + "@" + cluster;
    Map<String, Object> clusterEntry = new LinkedHashMap<>();
    clusterEntry.put("server", relay.toString().replaceAll("/+$", "") + PathPolicy.PREFIX + cluster);
    clusterEntry.put("certificate-authority-data", base64Pem(trustAnchor));
    Map<String, Object> contextEntry = new LinkedHashMap<>();
    contextEntry.put("cluster", cluster);
    contextEntry.put("user", user);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("apiVersion", "v1");
    root.put("kind", "Config");
    root.put("clusters", List.of(Map.of("name", cluster, "cluster", clusterEntry)));
    root.put("users", List.of(Map.of("name", user, "user", Map.of("token", bearerToken))));
    root.put("contexts", List.of(Map.of("name", context, "context", contextEntry)));
    root.put("current-context", context);
    root.put("preferences", Map.of());
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setSplitLines(false);
    return new Yaml(options).dump(root);
  }

  private static String base64Pem(X509Certificate certificate) {
    try {
      String pem =
          "-----BEGIN CERTIFICATE-----\n"
              + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
              + "\n-----END CERTIFICATE-----\n";
      return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("the relay certificate cannot be encoded", e);
    }
  }
}
