package dev.jitaccess.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AccessRequestState.Status;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.ApprovalRule;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.RulePolicyProvider;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

final class JdbcAccessRequestStoreTest {
  static EmbeddedPostgres postgres;
  static DataSource dataSource;
  static final Instant NOW = Instant.parse("2026-03-01T09:00:00Z");

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = EmbeddedPostgres.start();
    dataSource = postgres.getPostgresDatabase();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    postgres.close();
  }

  static AccessRequestState pending(String requester) {
    return new AccessRequestState(
        UUID.randomUUID().toString(),
        new Subject(requester, Set.of("dev", "ops"), Map.of("email", requester + "@example.com")),
        "prod",
        List.of("admin"),
        List.of(Permission.inNamespace("admin", "payments"), Permission.clusterWide("view")),
        Duration.ofMinutes(90),
        "JIRA-42 \"quoted\" outage ünïcode",
        NOW,
        NOW.plus(Duration.ofHours(1)),
        2,
        Status.PENDING,
        List.of(),
        null,
        null,
        0,
        null,
        false,
        0);
  }

  @Test
  void storedRequestsReadBackEqual() {
    JdbcAccessRequestStore store = JdbcAccessRequestStore.create(dataSource);
    AccessRequestState r = pending("alice-" + UUID.randomUUID());
    store.create(r);
    assertThat(store.find(r.id())).contains(r);
    AccessRequestState next = new AccessRequestState(r.id(), r.requester(), r.cluster(), r.roles(), r.permissions(),
        r.duration(), r.justification(), r.createdAt(), r.expiresAt(), r.requiredApprovals(), Status.ACTIVE,
        List.of(new AccessRequestState.Review("bob", AccessRequestState.Verdict.APPROVE, "ok", NOW)),
        NOW, NOW.plus(r.duration()), 1, "JIRA-43", true, 1);
    assertThat(store.replace(0, next)).isTrue();
    assertThat(store.find(r.id())).contains(next);
    assertThat(store.replace(0, next)).isFalse(); // stale version
    assertThat(store.findByRequester(r.requester().id())).containsExactly(next);
    assertThat(store.findByStatus(Set.of(Status.ACTIVE))).contains(next);
    assertThat(store.findByStatus(Set.of(Status.DENIED))).doesNotContain(next);
  }

  @Test
  void duplicatesAndUnknownIdsAreClearErrors() {
    JdbcAccessRequestStore store = JdbcAccessRequestStore.create(dataSource);
    AccessRequestState r = pending("bob-" + UUID.randomUUID());
    store.create(r);
    assertThatThrownBy(() -> store.create(r)).isInstanceOf(IllegalStateException.class).hasMessageContaining("already exists");
    AccessRequestState ghost = pending("ghost");
    AccessRequestState ghostNext = new AccessRequestState(ghost.id(), ghost.requester(), ghost.cluster(), ghost.roles(),
        ghost.permissions(), ghost.duration(), ghost.justification(), ghost.createdAt(), ghost.expiresAt(), 2,
        Status.CANCELLED, List.of(), null, null, 0, null, false, 1);
    assertThatThrownBy(() -> store.replace(0, ghostNext)).isInstanceOf(NoSuchElementException.class);
    assertThat(store.find("nope")).isEmpty();
  }

  @Test
  void migrationRunsTwiceHarmlessly() throws Exception {
    JdbcAccessRequestStore.create(dataSource);
    JdbcAccessRequestStore.create(dataSource);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT version, script FROM jit_access_schema_version ORDER BY version")) {
      List<String> rows = new ArrayList<>();
      while (rs.next()) {
        rows.add(rs.getInt(1) + ":" + rs.getString(2));
      }
      assertThat(rows).containsExactly("1:V1__access_requests.sql");
    }
    assertThat(JdbcAccessRequestStore.schemaVersion()).isEqualTo(1);
  }

  @Test
  void sixteenConcurrentReviewersThenARestartLoseNothing() throws Exception {
    RulePolicyProvider policy = RulePolicyProvider.builder()
        .role("admin", "admin")
        .binding(RulePolicyProvider.Binding.builder().users("carol").role("admin").clusters("prod")
            .eligible(ApprovalRule.approvedBy(3, Set.of(), Set.of("sre"))).build())
        .build();
    List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    InstantSource clock = InstantSource.fixed(NOW);
    JitAccess jit = JitAccess.builder().clock(clock).policyProvider(policy).auditSink(audit::add)
        .accessRequestStore(JdbcAccessRequestStore.create(dataSource)).build();
    AccessRequestState r = jit.requestAccess(new AccessRequest(Subject.of("carol"), "prod", "incident 7", null));

    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<Boolean>> results = new ArrayList<>();
    try {
      for (int i = 0; i < 16; i++) {
        Subject reviewer = Subject.of("reviewer-" + i, "sre");
        results.add(pool.submit(() -> {
          start.await();
          try {
            jit.approve(r.id(), reviewer, "ok " + reviewer.id());
            return true;
          } catch (IllegalStateException e) {
            return false;
          }
        }));
      }
      start.countDown();
      int succeeded = 0;
      for (Future<Boolean> f : results) {
        succeeded += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
      }
      assertThat(succeeded).isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
    assertThat(audit.stream().filter(e -> e.type() == AuditEvent.Type.ACTIVATED)).hasSize(1);
    assertThat(audit.stream().filter(e -> e.type() == AuditEvent.Type.APPROVED)).hasSize(3);

    // A restart: a new store and a new engine on the same database.
    JitAccess restarted = JitAccess.builder().clock(clock).policyProvider(policy)
        .accessRequestStore(JdbcAccessRequestStore.create(dataSource)).build();
    AccessRequestState stored = restarted.findRequest(r.id()).orElseThrow();
    assertThat(stored.status()).isEqualTo(Status.ACTIVE);
    assertThat(stored.reviews()).hasSize(3);
    assertThat(stored.reviews().stream().map(AccessRequestState.Review::reviewerId).distinct()).hasSize(3);
    assertThat(stored.version()).isEqualTo(3);
    assertThat(restarted.authorize(AccessRequest.of(Subject.of("carol"), "prod")).permissions())
        .containsExactly(Permission.clusterWide("admin"));
  }
}
