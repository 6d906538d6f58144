package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AccessRequestState.Status;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class AccessRequestConcurrencyTest {

  @Test
  void sixteenConcurrentReviewersRecordExactlyTheNeededApprovalsAndActivateOnce() throws Exception {
    RulePolicyProvider policy = RulePolicyProvider.builder()
        .role("admin", "admin")
        .binding(RulePolicyProvider.Binding.builder().users("alice").role("admin").clusters("prod")
            .eligible(ApprovalRule.approvedBy(3, Set.of(), Set.of("sre"))).build())
        .build();
    RecordingSink audit = new RecordingSink();
    JitAccess jit = JitAccess.builder()
        .clock(MutableInstantSource.at(Instant.parse("2026-03-01T09:00:00Z")))
        .policyProvider(policy).auditSink(audit).build();
    AccessRequestState r = jit.requestAccess(new AccessRequest(Subject.of("alice"), "prod", "incident", null));

    int reviewers = 16;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(reviewers);
    List<Future<Boolean>> results = new ArrayList<>();
    try {
      for (int i = 0; i < reviewers; i++) {
        Subject reviewer = Subject.of("reviewer-" + i, "sre");
        results.add(pool.submit(() -> {
          start.await();
          try {
            jit.approve(r.id(), reviewer, null);
            return true;
          } catch (IllegalStateException e) {
            return false; // already active
          }
        }));
      }
      start.countDown();
      int succeeded = 0;
      for (Future<Boolean> f : results) {
        succeeded += f.get(30, TimeUnit.SECONDS) ? 1 : 0;
      }
      assertThat(succeeded).isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
    AccessRequestState stored = jit.findRequest(r.id()).orElseThrow();
    assertThat(stored.status()).isEqualTo(Status.ACTIVE);
    assertThat(stored.reviews()).hasSize(3);
    assertThat(stored.reviews().stream().map(AccessRequestState.Review::reviewerId).distinct()).hasSize(3);
    assertThat(audit.ofType(AuditEvent.Type.APPROVED)).hasSize(3);
    assertThat(audit.ofType(AuditEvent.Type.ACTIVATED)).hasSize(1);
  }
}
