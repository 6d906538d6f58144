package dev.jitaccess.examples.quickstart;

import static dev.jitaccess.examples.quickstart.DemoEnvironment.ALICE;
import static dev.jitaccess.examples.quickstart.DemoEnvironment.BOB;
import static dev.jitaccess.examples.quickstart.DemoEnvironment.CLUSTER;

import dev.jitaccess.api.Grant;
import dev.jitaccess.core.JsonLinesAuditSink;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** The demo's steps: printed for a person to try (interactive mode) or run and checked (script mode). */
final class DemoSteps {
  /** The reason the engine gives for bob (see policy.yaml). */
  static final String BOB_DENIAL = "no binding allows " + BOB + " on cluster " + CLUSTER;

  private final DemoEnvironment env;
  private final Kubectl kubectl;
  private final PrintStream out;
  private final List<String> failures = new ArrayList<>();

  DemoSteps(DemoEnvironment env, Kubectl kubectl, PrintStream out) {
    this.env = env;
    this.kubectl = kubectl;
    this.out = out;
  }

  void printSetup() {
    out.println();
    out.println("jit-access demo");
    out.println("  cluster '" + CLUSTER + "': " + env.cluster.description());
    out.println("  relay:   https://localhost:" + env.relay.port() + "/clusters/" + CLUSTER
        + " (TLS with a certificate made for this run; agents dial port " + env.relay.tunnelPort() + ")");
    out.println("  agent:   connected to the relay, serving cluster '" + CLUSTER + "' with ClusterRoles "
        + DemoEnvironment.ALLOWED_CLUSTER_ROLES);
    out.println("  policy:  " + ALICE + " may operate cluster '" + CLUSTER + "' (view, edit, create namespaces); "
        + BOB + " may only view clusters named staging*");
    out.println("  users:   " + env.aliceKubeconfig + " (alice), " + env.bobKubeconfig + " (bob)");
    out.println("  audit:   " + env.auditFile + " (JSON lines, SHA-256 hash chain)");
    if (env.cluster.sandbox()) {
      out.println();
      out.println("  NOTE: this is the SANDBOX. It has NO RBAC ENFORCEMENT: jit-access decides who gets in and");
      out.println("  creates the ServiceAccount and bindings, but the sandbox does not enforce them. Point your");
      out.println("  kubeconfig at a real cluster (kind, k3s, ...) to see Kubernetes enforce each grant.");
    }
  }

  void printInstructions() {
    String alice = "kubectl --kubeconfig " + env.aliceKubeconfig;
    String bob = "kubectl --kubeconfig " + env.bobKubeconfig;
    out.println();
    out.println("Try these in another terminal:");
    out.println("  1. alice lists namespaces (granted; the agent creates her ServiceAccount):");
    out.println("       " + alice + " get ns");
    out.println("  2. alice creates a namespace:");
    out.println("       " + alice + " create -f " + env.namespaceManifest + " " + validate());
    out.println("  3. bob is denied (Forbidden); --raw skips kubectl's discovery, so it prints the reason:");
    out.println("       " + bob + " get ns");
    out.println("       " + bob + " get --raw /clusters/" + CLUSTER + "/api/v1/namespaces");
    out.println("  4. revoke alice: type 'revoke alice' here, then repeat step 1: she is refused at once");
    out.println("  5. the audit trail: cat " + env.auditFile + "   (type 'verify' here to check its hash chain)");
    out.println();
    out.println("Commands here: revoke alice | revoke bob | grants | verify | quit   (or Ctrl-C)");
  }

  /** Handles one interactive command. */
  void command(String command) {
    switch (command) {
      case "revoke alice" -> revoke(ALICE);
      case "revoke bob" -> revoke(BOB);
      case "grants" -> {
        List<Grant> grants = env.jit.activeGrants();
        out.println(grants.isEmpty() ? "no active grants" : "");
        grants.forEach(g -> out.println("  " + g.subject().id() + " on " + g.cluster() + ": " + g.permissions()
            + " until " + g.expiresAt()));
      }
      case "verify" -> {
        JsonLinesAuditSink.VerificationResult chain = JsonLinesAuditSink.verify(env.auditFile);
        out.println("hash chain: " + (chain.valid() ? "intact" : "BROKEN: " + chain.problem()) + ", "
            + chain.linesChecked() + " records");
      }
      case "" -> { }
      default -> out.println("unknown command '" + command + "'; use revoke alice | revoke bob | grants | verify"
          + " | quit");
    }
  }

  /** The sandbox publishes no OpenAPI schema for kubectl's client-side validation. */
  private String validate() {
    return env.cluster.sandbox() ? "--validate=false" : "--validate=true";
  }

  private void revoke(String subject) {
    env.jit.revoke(subject);
    out.println("revoked " + subject + ": grants and session tokens refused from now on, the agent removes the"
        + " ServiceAccount and closes open streams");
  }

  /**
   * Runs every step with the real kubectl and checks it.
   *
   * @return whether every step behaved as described
   */
  boolean runScript() throws IOException, InterruptedException {
    String namespace = "jit-demo-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(3));

    step("1. alice lists namespaces", env.aliceKubeconfig, "get", "ns");
    Kubectl.Result list = last;
    check(list.exit() == 0 && list.output().contains("default") && list.output().contains("NAME"),
        "alice should list the namespaces");
    List<String> accounts = agentAccounts();
    out.println("   the agent's ServiceAccounts in namespace " + DemoCluster.AGENT_NAMESPACE + ": " + accounts);
    check(accounts.size() == 1, "the agent should have provisioned one ServiceAccount (alice's)");

    Path manifest = env.writeNamespaceManifest(namespace);
    step("2. alice creates a namespace", env.aliceKubeconfig, "create", "-f", manifest.toString(), validate());
    check(last.exit() == 0 && last.output().contains("namespace/" + namespace + " created"),
        "alice should create namespace " + namespace);
    step("   ... and deletes it again", env.aliceKubeconfig, "delete", "namespace", namespace, "--wait=false");
    check(last.exit() == 0 && last.output().contains("deleted"), "alice should delete namespace " + namespace);

    step("3. bob is denied (--raw skips discovery, so kubectl prints the relay's reason)", env.bobKubeconfig,
        "get", "--raw", "/clusters/" + CLUSTER + "/api/v1/namespaces");
    check(last.exit() != 0 && last.output().contains("Forbidden") && last.output().contains(BOB_DENIAL),
        "bob should be denied with the reason '" + BOB_DENIAL + "'");

    out.println();
    out.println("4. revoke alice (jit.revoke(\"" + ALICE + "\")), then alice lists namespaces again");
    env.jit.revoke(ALICE);
    check(env.jit.activeGrants(ALICE).isEmpty(), "alice should have no active grant after the revoke");
    step("", env.aliceKubeconfig, "get", "ns");
    check(last.exit() != 0
            && (last.output().contains("Unauthorized") || last.output().contains("must be logged in")),
        "alice should be refused after the revoke");
    check(awaitNoAgentAccounts(), "the agent should remove alice's ServiceAccount after the revoke");

    out.println();
    out.println("5. the audit trail: " + env.auditFile);
    String audit = Files.readString(env.auditFile, StandardCharsets.UTF_8);
    audit.lines().forEach(line -> out.println("   " + line));
    JsonLinesAuditSink.VerificationResult chain = JsonLinesAuditSink.verify(env.auditFile);
    out.println("   hash chain: " + (chain.valid() ? "intact" : "BROKEN: " + chain.problem()) + ", "
        + chain.linesChecked() + " records");
    check(chain.valid(), "the audit hash chain should verify");
    for (String type : List.of("\"GRANTED\"", "\"DENIED\"", "\"REVOKED\"", "\"REQUEST\"")) {
      check(audit.contains(type), "the audit trail should have a " + type + " record");
    }

    out.println();
    out.println(failures.isEmpty() ? "Every step behaved as described." : "Steps that misbehaved: " + failures);
    return failures.isEmpty();
  }

  private Kubectl.Result last;

  private void step(String title, Path kubeconfig, String... args) throws IOException, InterruptedException {
    if (!title.isEmpty()) {
      out.println();
      out.println(title);
    }
    out.println("   $ kubectl --kubeconfig " + kubeconfig + " " + String.join(" ", args));
    last = kubectl.run(kubeconfig, args);
    last.output().lines().forEach(line -> out.println("   " + line));
    out.println("   (exit " + last.exit() + ")");
  }

  private List<String> agentAccounts() {
    try {
      List<V1ServiceAccount> items =
          new CoreV1Api(env.cluster.apiClient())
              .listNamespacedServiceAccount(DemoCluster.AGENT_NAMESPACE)
              .execute()
              .getItems();
      return items.stream().map(sa -> sa.getMetadata().getName()).filter(name -> name.startsWith("jit-")).toList();
    } catch (ApiException e) {
      failures.add("cannot list ServiceAccounts: HTTP " + e.getCode());
      return List.of();
    }
  }

  /** The agent removes accounts asynchronously, after the relay pushed the revocation: poll for 10 s. */
  private boolean awaitNoAgentAccounts() throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      if (agentAccounts().isEmpty()) {
        out.println("   the agent removed alice's ServiceAccount");
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  private void check(boolean condition, String expectation) {
    if (!condition) {
      failures.add(expectation);
      out.println("   UNEXPECTED: " + expectation);
    }
  }
}
