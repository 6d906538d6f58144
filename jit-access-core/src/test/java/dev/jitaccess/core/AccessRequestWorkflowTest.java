package dev.jitaccess.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AccessRequestState.Status;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Notification;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.testkit.MutableInstantSource;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

final class AccessRequestWorkflowTest {
  static final String POLICY =
      """
      roles:
        viewer: [view]
        admin: [admin]
        debug: [pod-exec]
      bindings:
        - groups: [dev]
          role: viewer
          clusters: [prod]
        - groups: [dev]
          role: admin
          clusters: [prod]
          namespaces: [payments]
          activation: eligible
          approvals: 2
          approvers: {users: [bob, carol, dave], groups: [sre]}
          maxDuration: 4h
          justification: "^JIRA-[0-9]+"
          pendingTimeout: 30m
        - users: [alice]
          role: debug
          clusters: [prod]
          activation: eligible
          selfApproval: true
          approvals: 0
          maxDuration: 1h
      """;

  static final Instant START = Instant.parse("2026-03-01T09:00:00Z");
  static final Subject ALICE = Subject.of("alice", "dev");
  static final Subject BOB = Subject.of("bob");
  static final Subject CAROL = Subject.of("carol");
  static final Subject SRE = Subject.of("sam", "sre");
  static final Subject EVE = Subject.of("eve", "dev");
  static final Permission ADMIN = Permission.inNamespace("admin", "payments");
  static final Permission VIEW = Permission.clusterWide("view");

  final MutableInstantSource clock = MutableInstantSource.at(START);
  final RecordingSink audit = new RecordingSink();
  final List<Notification> notifications = new CopyOnWriteArrayList<>();
  final JitAccess jit =
      JitAccess.builder()
          .clock(clock)
          .policyProvider(RulePolicyProvider.fromYaml(new StringReader(POLICY), "policy.yaml"))
          .auditSink(audit)
          .notifier(notifications::add)
          .build();

  AccessRequestState requestAdmin(Duration duration) {
    return jit.requestAccess(new AccessRequest(ALICE, "prod", "JIRA-42 payments outage", duration), Set.of("admin"));
  }

  @Test
  void eligibleBindingGrantsNothingByItself() {
    Grant grant = jit.authorize(AccessRequest.of(ALICE, "prod"));
    assertThat(grant.permissions()).containsExactly(VIEW);
    assertThatThrownBy(() -> jit.authorize(AccessRequest.of(Subject.of("alice"), "prod")))
        .isInstanceOf(AccessDeniedException.class)
        .hasMessageContaining("eligible role(s) [debug] need an approved access request");
  }

  @Test
  void requestIsPendingWithItsDetails() {
    AccessRequestState r = requestAdmin(Duration.ofHours(2));
    assertThat(r.status()).isEqualTo(Status.PENDING);
    assertThat(r.roles()).containsExactly("admin");
    assertThat(r.cluster()).isEqualTo("prod");
    assertThat(r.permissions()).containsExactly(ADMIN);
    assertThat(r.duration()).isEqualTo(Duration.ofHours(2));
    assertThat(r.justification()).isEqualTo("JIRA-42 payments outage");
    assertThat(r.expiresAt()).isEqualTo(START.plus(Duration.ofMinutes(30)));
    assertThat(r.requiredApprovals()).isEqualTo(2);
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions()).containsExactly(VIEW);
    assertThat(notifications).extracting(Notification::kind).containsExactly(Notification.Kind.CREATED);
  }

  @Test
  void enoughApprovalsActivateForTheDurationStartingAtApproval() {
    AccessRequestState r = requestAdmin(Duration.ofHours(2));
    jit.authorize(AccessRequest.of(ALICE, "prod")); // a cached standing grant must not hide the approval
    clock.advance(Duration.ofMinutes(10));
    AccessRequestState afterBob = jit.approve(r.id(), BOB, "ok");
    assertThat(afterBob.status()).isEqualTo(Status.PENDING);
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions()).containsExactly(VIEW);
    clock.advance(Duration.ofMinutes(10));
    AccessRequestState active = jit.approve(r.id(), SRE, null);

    Instant approvedAt = START.plus(Duration.ofMinutes(20));
    assertThat(active.status()).isEqualTo(Status.ACTIVE);
    assertThat(active.activatedAt()).isEqualTo(approvedAt);
    assertThat(active.activeUntil()).isEqualTo(approvedAt.plus(Duration.ofHours(2)));
    Grant grant = jit.authorize(AccessRequest.of(ALICE, "prod"));
    assertThat(grant.permissions()).containsExactlyInAnyOrder(VIEW, ADMIN);
    assertThat(grant.justification()).isEqualTo("JIRA-42 payments outage");

    AuditEvent granted = audit.ofType(AuditEvent.Type.GRANTED).get(audit.ofType(AuditEvent.Type.GRANTED).size() - 1);
    assertThat(granted.grantId()).isEqualTo(grant.id());
    assertThat(granted.attributes()).containsEntry("requestId", r.id());
  }

  @Test
  void grantIsCappedByTheApprovedWindow() {
    AccessRequestState r = jit.requestAccess(
        new AccessRequest(ALICE, "prod", "JIRA-1", Duration.ofMinutes(3)), Set.of("admin"));
    jit.approve(r.id(), BOB, null);
    jit.approve(r.id(), CAROL, null);
    Grant grant = jit.authorize(AccessRequest.of(ALICE, "prod"));
    assertThat(grant.expiresAt()).isEqualTo(START.plus(Duration.ofMinutes(3)));
    clock.advance(Duration.ofMinutes(3));
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions()).containsExactly(VIEW);
    assertThat(jit.findRequest(r.id()).orElseThrow().statusAt(clock.instant())).isEqualTo(Status.EXPIRED);
  }

  @Test
  void zeroApprovalsWithSelfApprovalIsActiveAtOnce() {
    AccessRequestState r = jit.requestAccess(
        new AccessRequest(ALICE, "prod", "debugging a crash loop", null), Set.of("debug"));
    assertThat(r.status()).isEqualTo(Status.ACTIVE);
    assertThat(r.activeUntil()).isEqualTo(START.plus(Duration.ofHours(1)));
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions())
        .contains(Permission.clusterWide("pod-exec"));
    assertThat(notifications).extracting(Notification::kind)
        .containsExactly(Notification.Kind.CREATED, Notification.Kind.APPROVED);
  }

  @Test
  void everyStepIsAuditedWithRequestIdJustificationAndReviewers() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    jit.approve(r.id(), BOB, "looks right");
    jit.approve(r.id(), CAROL, null);
    Grant grant = jit.authorize(AccessRequest.of(ALICE, "prod"));

    AuditEvent requested = audit.ofType(AuditEvent.Type.REQUESTED).get(0);
    assertThat(requested.subjectId()).isEqualTo("alice");
    assertThat(requested.attributes())
        .containsEntry("requestId", r.id())
        .containsEntry("justification", "JIRA-42 payments outage")
        .containsEntry("roles", "admin");
    assertThat(audit.ofType(AuditEvent.Type.APPROVED))
        .extracting(e -> e.attributes().get("reviewer"))
        .containsExactly("bob", "carol");
    assertThat(audit.ofType(AuditEvent.Type.APPROVED).get(0).attributes()).containsEntry("comment", "looks right");
    AuditEvent activated = audit.ofType(AuditEvent.Type.ACTIVATED).get(0);
    assertThat(activated.attributes()).containsEntry("requestId", r.id()).containsEntry("reviewers", "bob,carol");
    assertThat(audit.ofType(AuditEvent.Type.GRANTED)).anySatisfy(e -> {
      assertThat(e.grantId()).isEqualTo(grant.id());
      assertThat(e.attributes()).containsEntry("requestId", r.id());
    });
  }

  @Test
  void unknownRequestIsRefused() {
    assertThatThrownBy(() -> jit.approve("no-such-id", BOB, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown access request 'no-such-id'");
    assertThat(jit.findRequest("no-such-id")).isEmpty();
  }

  @Test
  void selfApprovalIsRefusedWhereNotAllowed() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    assertThatThrownBy(() -> jit.approve(r.id(), ALICE, null))
        .isInstanceOf(AccessDeniedException.class)
        .hasMessageContaining("self-approval is not allowed");
    assertThat(jit.findRequest(r.id()).orElseThrow().reviews()).isEmpty();
    assertThat(audit.ofType(AuditEvent.Type.DENIED)).anySatisfy(e ->
        assertThat(e.attributes()).containsEntry("requestId", r.id()));
  }

  @Test
  void reviewerWithoutTheRightIsRefused() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    assertThatThrownBy(() -> jit.approve(r.id(), EVE, null))
        .isInstanceOf(AccessDeniedException.class)
        .hasMessageContaining("eve may not review")
        .hasMessageContaining("not an approver");
    assertThatThrownBy(() -> jit.deny(r.id(), EVE, "no"))
        .isInstanceOf(AccessDeniedException.class);
  }

  @Test
  void durationAboveTheMaximumIsRefused() {
    assertThatThrownBy(() -> requestAdmin(Duration.ofHours(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration PT5H exceeds the maximum PT4H allowed for [admin]");
  }

  @Test
  void justificationNotMatchingThePatternIsRefused() {
    assertThatThrownBy(() -> jit.requestAccess(
            new AccessRequest(ALICE, "prod", "because", Duration.ofHours(1)), Set.of("admin")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("justification 'because' does not match the pattern '^JIRA-[0-9]+'");
    assertThatThrownBy(() -> jit.requestAccess(new AccessRequest(ALICE, "prod", null, null), Set.of("admin")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs a justification");
  }

  @Test
  void roleTheSubjectIsNotEligibleForIsRefused() {
    assertThatThrownBy(() -> jit.requestAccess(
            new AccessRequest(EVE, "prod", "JIRA-1", null), Set.of("debug")))
        .isInstanceOf(AccessDeniedException.class)
        .hasMessageContaining("eve is not eligible for role(s) [debug] on cluster prod");
  }

  @Test
  void approvingAnExpiredRequestIsRefused() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    clock.advance(Duration.ofMinutes(30));
    assertThatThrownBy(() -> jit.approve(r.id(), BOB, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("expired at " + START.plus(Duration.ofMinutes(30)));
  }

  @Test
  void approvingTwiceBySameReviewerIsRefused() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    jit.approve(r.id(), BOB, null);
    assertThatThrownBy(() -> jit.approve(r.id(), BOB, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("bob already reviewed access request " + r.id());
    assertThat(jit.findRequest(r.id()).orElseThrow().approvals()).isEqualTo(1);
  }

  @Test
  void actingOnADecidedRequestIsRefused() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    AccessRequestState denied = jit.deny(r.id(), BOB, "not during the freeze");
    assertThat(denied.status()).isEqualTo(Status.DENIED);
    assertThat(notifications).extracting(Notification::kind).contains(Notification.Kind.DENIED);
    assertThat(audit.ofType(AuditEvent.Type.REJECTED)).hasSize(1);
    assertThatThrownBy(() -> jit.approve(r.id(), CAROL, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is already denied");
    assertThatThrownBy(() -> jit.cancel(r.id(), ALICE)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void onlyTheRequesterCancelsAndCancellingEndsAccess() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    jit.approve(r.id(), BOB, null);
    jit.approve(r.id(), CAROL, null);
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions()).contains(ADMIN);
    assertThatThrownBy(() -> jit.cancel(r.id(), BOB)).isInstanceOf(AccessDeniedException.class);
    assertThat(jit.cancel(r.id(), ALICE).status()).isEqualTo(Status.CANCELLED);
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions()).containsExactly(VIEW);
  }

  @Test
  void revokeEndsAnActiveRequest() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    jit.approve(r.id(), BOB, null);
    jit.approve(r.id(), CAROL, null);
    jit.authorize(AccessRequest.of(ALICE, "prod"));
    jit.revoke("alice", "prod");
    assertThat(jit.findRequest(r.id()).orElseThrow().status()).isEqualTo(Status.REVOKED);
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions()).containsExactly(VIEW);
    assertThat(audit.ofType(AuditEvent.Type.REVOKED).get(0).attributes()).containsEntry("requestId", r.id());
  }

  @Test
  void anActiveRequestCanBeExtendedOnceWithinTheMaximum() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    jit.approve(r.id(), BOB, null);
    jit.approve(r.id(), CAROL, null);
    clock.advance(Duration.ofMinutes(50));
    assertThatThrownBy(() -> jit.extend(r.id(), ALICE, Duration.ofHours(5), "JIRA-43"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exceeds the maximum PT4H");
    assertThatThrownBy(() -> jit.extend(r.id(), ALICE, Duration.ofHours(1), "still broken"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not match the pattern");
    assertThatThrownBy(() -> jit.extend(r.id(), BOB, Duration.ofHours(1), "JIRA-43"))
        .isInstanceOf(AccessDeniedException.class);
    AccessRequestState extended = jit.extend(r.id(), ALICE, Duration.ofHours(1), "JIRA-43 still broken");
    assertThat(extended.activeUntil()).isEqualTo(START.plus(Duration.ofHours(2)));
    assertThat(extended.extensionJustification()).isEqualTo("JIRA-43 still broken");
    assertThat(audit.ofType(AuditEvent.Type.EXTENDED).get(0).attributes())
        .containsEntry("justification", "JIRA-43 still broken");
    assertThatThrownBy(() -> jit.extend(r.id(), ALICE, Duration.ofMinutes(5), "JIRA-44"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already extended");
    clock.advance(Duration.ofMinutes(30)); // past the original end
    assertThat(jit.authorize(AccessRequest.of(ALICE, "prod")).permissions()).contains(ADMIN);
  }

  @Test
  void expiringSoonIsAnnouncedOncePerWindow() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    jit.approve(r.id(), BOB, null);
    jit.approve(r.id(), CAROL, null);
    notifications.clear();
    assertThat(jit.notifyExpiringSoon(Duration.ofMinutes(10))).isZero();
    clock.advance(Duration.ofMinutes(51));
    assertThat(jit.notifyExpiringSoon(Duration.ofMinutes(10))).isEqualTo(1);
    assertThat(jit.notifyExpiringSoon(Duration.ofMinutes(10))).isZero();
    assertThat(notifications).extracting(Notification::kind).containsExactly(Notification.Kind.EXPIRING_SOON);
    assertThat(notifications.get(0).request().id()).isEqualTo(r.id());
    jit.extend(r.id(), ALICE, Duration.ofMinutes(30), "JIRA-43");
    clock.advance(Duration.ofMinutes(25)); // the window now ends at +90 min: 14 min to go
    assertThat(jit.notifyExpiringSoon(Duration.ofMinutes(10))).isZero();
    clock.advance(Duration.ofMinutes(5));
    assertThat(jit.notifyExpiringSoon(Duration.ofMinutes(10))).isEqualTo(1);
  }

  @Test
  void lapsedRequestsAreRecordedAsExpiredOnceWithAnAuditEvent() {
    AccessRequestState pending = requestAdmin(Duration.ofHours(1));
    AccessRequestState active =
        jit.requestAccess(new AccessRequest(ALICE, "prod", "debugging a crash loop", null), Set.of("debug"));
    assertThat(jit.expireLapsedRequests()).isZero();

    clock.advance(Duration.ofMinutes(31)); // the pending request lapsed at +30 min; the active one runs to +60
    assertThat(jit.expireLapsedRequests()).isEqualTo(1);
    assertThat(jit.findRequest(pending.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
    assertThat(jit.findRequest(active.id()).orElseThrow().status()).isEqualTo(Status.ACTIVE);

    clock.advance(Duration.ofMinutes(30));
    assertThat(jit.expireLapsedRequests()).isEqualTo(1);
    assertThat(jit.expireLapsedRequests()).isZero();
    assertThat(jit.findRequest(active.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
    assertThat(audit.ofType(AuditEvent.Type.EXPIRED))
        .extracting(e -> e.attributes().get("requestId"))
        .containsExactly(pending.id(), active.id());
    assertThat(audit.ofType(AuditEvent.Type.EXPIRED).get(0).detail()).contains("without enough approvals");
  }

  @Test
  void reviewerInboxListsWhatTheyMayReview() {
    AccessRequestState r = requestAdmin(Duration.ofHours(1));
    assertThat(jit.requestsToReview(BOB)).extracting(AccessRequestState::id).containsExactly(r.id());
    assertThat(jit.requestsToReview(SRE)).hasSize(1);
    assertThat(jit.requestsToReview(EVE)).isEmpty();
    assertThat(jit.requestsToReview(ALICE)).isEmpty();
    jit.approve(r.id(), BOB, null);
    assertThat(jit.requestsToReview(BOB)).isEmpty();
    assertThat(jit.requestsOf("alice")).extracting(AccessRequestState::id).containsExactly(r.id());
  }

  @Test
  void aFailingNotifierNeverBreaksTheWorkflow() {
    JitAccess engine = jit.toBuilder().notifier(n -> {
          throw new IllegalStateException("chat is down");
        }).build();
    AccessRequestState r = engine.requestAccess(
        new AccessRequest(ALICE, "prod", "JIRA-7", Duration.ofHours(1)), Set.of("admin"));
    engine.approve(r.id(), BOB, null);
    assertThat(engine.approve(r.id(), CAROL, null).status()).isEqualTo(Status.ACTIVE);
  }
}
