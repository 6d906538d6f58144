package dev.jitaccess.examples.quickstart;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.JsonLinesAuditSink;
import dev.jitaccess.core.RulePolicyProvider;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The quickstart: embeds the engine the way a portal does and walks through one access lifecycle.
 *
 * <ol>
 *   <li>load the sample policy (alice may operate the {@code shop} namespace of cluster {@code demo}),
 *   <li>issue session tokens for alice and bob, as a portal does when it hands out a kubeconfig,
 *   <li>authorize alice (granted) and bob (denied), and verify alice's signed grant as the agent would,
 *   <li>revoke alice: her grant and her session token stop working at once,
 *   <li>print the audit trail and verify its hash chain.
 * </ol>
 *
 * <p>Each step checks that it behaved as described; the program exits with status 1 if one did not. Run it with
 * {@code ./demo}; the test suite runs it too.
 */
public final class Quickstart {
  private final PrintStream out;
  private final List<String> failures = new ArrayList<>();

  Quickstart(PrintStream out) {
    this.out = out;
  }

  /**
   * Runs the walkthrough.
   *
   * @param args optional: the directory for the audit file (default: a new temporary directory)
   * @throws IOException if the audit file cannot be written
   */
  public static void main(String[] args) throws IOException {
    Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("jit-access-quickstart");
    int failures = new Quickstart(System.out).run(dir);
    if (failures > 0) {
      System.exit(1);
    }
  }

  /** Runs every step and returns how many misbehaved. */
  int run(Path dir) throws IOException {
    Path auditFile = dir.resolve("audit.jsonl");
    RulePolicyProvider policy;
    try (Reader yaml =
        new InputStreamReader(
            Objects.requireNonNull(Quickstart.class.getResourceAsStream("/policy.yaml"), "policy.yaml"),
            StandardCharsets.UTF_8)) {
      policy = RulePolicyProvider.fromYaml(yaml, "policy.yaml");
    }
    try (JsonLinesAuditSink audit = JsonLinesAuditSink.builder().path(auditFile).build()) {
      JitAccess jit = JitAccess.builder().policyProvider(policy).auditSink(audit).build();

      step("1. A portal issues session tokens (they go into the users' kubeconfigs)");
      String alice = jit.issueSessionToken(Subject.of("alice@example.com", "developers"));
      String bob = jit.issueSessionToken(Subject.of("bob@example.com"));
      out.println("   alice and bob each have a signed session token, valid for 8 hours");

      step("2. alice's kubectl call reaches the relay: authenticate, evaluate the policy, grant");
      Grant grant = jit.authorize(alice, "demo");
      out.println("   granted " + grant.permissions() + " until " + grant.expiresAt() + " (grant " + grant.id() + ")");
      check(grant.permissions().size() == 2, "alice should hold view cluster-wide and edit in shop");

      step("3. The agent in cluster 'demo' verifies the signed grant before it provisions anything");
      GrantVerifier agentSide =
          GrantVerifier.builder().jwks(jit.publicJwks()).issuer(jit.issuer()).cluster("demo").build();
      Grant verified = agentSide.verify(jit.signGrant(grant));
      out.println("   verified grant " + verified.id() + " for " + verified.subject().id());
      check(verified.equals(grant), "the verified grant should equal the one the engine made");

      step("4. bob is in no binding: denied");
      expectDenied(() -> jit.authorize(bob, "demo"));

      step("5. Revoke alice: her grant and her session token stop working at once");
      jit.revoke("alice@example.com");
      check(jit.activeGrants("alice@example.com").isEmpty(), "alice should have no active grant");
      try {
        jit.authorize(alice, "demo");
        check(false, "alice's old session token should be refused after the revoke");
      } catch (AuthenticationException e) {
        out.println("   refused: " + e.getMessage());
      }
    }

    step("6. The audit trail (" + auditFile + ")");
    for (String line : Files.readAllLines(auditFile, StandardCharsets.UTF_8)) {
      out.println("   " + line);
    }
    JsonLinesAuditSink.VerificationResult chain = JsonLinesAuditSink.verify(auditFile);
    out.println("   hash chain: " + (chain.valid() ? "intact" : "BROKEN: " + chain.problem()) + ", "
        + chain.linesChecked() + " records");
    check(chain.valid() && chain.linesChecked() >= 4, "the audit chain should verify with at least 4 records");

    out.println();
    out.println(failures.isEmpty() ? "Every step behaved as described." : "Steps that misbehaved: " + failures);
    return failures.size();
  }

  private void expectDenied(Runnable call) {
    try {
      call.run();
      check(false, "the call should have been denied");
    } catch (AccessDeniedException e) {
      out.println("   denied: " + e.reason());
    }
  }

  private void step(String title) {
    out.println();
    out.println(title);
  }

  private void check(boolean condition, String expectation) {
    if (!condition) {
      failures.add(expectation);
      out.println("   UNEXPECTED: " + expectation);
    }
  }
}
