package dev.jitaccess.core.internal;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AccessRequestState.Review;
import dev.jitaccess.api.AccessRequestState.Status;
import dev.jitaccess.api.AccessRequestState.Verdict;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Notification;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProviderException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.AccessRequestStore;
import dev.jitaccess.core.ApprovalRule;
import dev.jitaccess.core.EligibilityPolicy;
import dev.jitaccess.core.EligibleRole;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access-request workflow behind {@code JitAccess.requestAccess/approve/deny/cancel/extend}.
 *
 * <p>Every change is read, check, compute, {@link AccessRequestStore#replace compare-and-set}; on a lost race
 * the request is read again and everything is checked again, so concurrent reviewers never lose or duplicate
 * an approval and a request activates exactly once. Side effects (audit, notifications, dropping cached
 * grants) happen only after the winning write. Eligibility and reviewer rights are asked of the policy at
 * each step. Times are whole seconds (like grants), so every store returns what it was given. Thread-safe.
 */
public final class AccessWorkflow {
  private static final Logger log = LoggerFactory.getLogger(AccessWorkflow.class);

  /** Lost races before giving up; each round at least one contender wins, so this is never reached in practice. */
  private static final int MAX_ATTEMPTS = 1000;

  private final AccessRequestStore store;
  private final @Nullable EligibilityPolicy eligibility;
  private final Notifiers notifiers;
  private final AuditDispatcher audit;
  private final InstantSource clock;
  private final BiConsumer<String, String> dropCachedGrants;

  /**
   * @param dropCachedGrants called with (subject id, cluster) when access changes, to drop cached grants
   */
  public AccessWorkflow(
      AccessRequestStore store,
      @Nullable EligibilityPolicy eligibility,
      Notifiers notifiers,
      AuditDispatcher audit,
      InstantSource clock,
      BiConsumer<String, String> dropCachedGrants) {
    this.store = store;
    this.eligibility = eligibility;
    this.notifiers = notifiers;
    this.audit = audit;
    this.clock = clock;
    this.dropCachedGrants = dropCachedGrants;
  }

  /** Creates a request for the given roles (all eligible ones when empty). */
  public AccessRequestState request(AccessRequest request, Set<String> roles) {
    Subject requester = request.subject();
    List<EligibleRole> eligible = eligibleRoles(requester, request.cluster());
    Set<String> eligibleNames = eligible.stream().map(EligibleRole::role).collect(Collectors.toCollection(TreeSet::new));
    Set<String> wanted = roles.isEmpty() ? eligibleNames : new TreeSet<>(roles);
    if (eligibleNames.isEmpty() || !eligibleNames.containsAll(wanted)) {
      Set<String> missing = new TreeSet<>(wanted);
      missing.removeAll(eligibleNames);
      throw refused(requester.id(), request.cluster(), null,
          requester.id() + " is not eligible for role(s) " + (missing.isEmpty() ? wanted : missing)
              + " on cluster " + request.cluster() + "; eligible there: " + eligibleNames);
    }
    List<EligibleRole> matched = eligible.stream().filter(e -> wanted.contains(e.role())).toList();
    List<ApprovalRule> rules = matched.stream().map(EligibleRole::rule).toList();
    Set<Permission> permissions = new LinkedHashSet<>();
    matched.forEach(e -> permissions.addAll(e.permissions()));
    String justification = request.justification();
    if (justification == null) {
      throw new IllegalArgumentException("an access request needs a justification: say why you need " + wanted);
    }
    checkJustification(rules, justification, wanted);
    Duration maxDuration = rules.stream().map(ApprovalRule::maxDuration).min(Duration::compareTo).orElseThrow();
    Duration duration = request.requestedTtl() == null ? maxDuration : request.requestedTtl();
    checkDuration(duration, maxDuration, wanted);
    Duration pendingTimeout = rules.stream().map(ApprovalRule::pendingTimeout).min(Duration::compareTo).orElseThrow();
    int required = rules.stream().mapToInt(ApprovalRule::approvals).max().orElseThrow();
    Instant now = now();
    boolean immediate = required == 0;
    AccessRequestState created =
        new AccessRequestState(
            UUID.randomUUID().toString(), requester, request.cluster(), List.copyOf(wanted),
            List.copyOf(permissions), duration, justification, now, now.plus(pendingTimeout), required,
            immediate ? Status.ACTIVE : Status.PENDING, List.of(), immediate ? now : null,
            immediate ? now.plus(duration) : null, 0, null, false, 0);
    guarded(() -> {
      store.create(created);
      return created;
    });
    Map<String, String> attributes = attributes(created);
    attributes.put("duration", duration.toString());
    attributes.put("requiredApprovals", Integer.toString(required));
    attributes.put("pendingUntil", created.expiresAt().toString());
    audit(created, AuditEvent.Type.REQUESTED, requester.id(), "requested " + wanted + " for " + duration, attributes);
    notifiers.send(new Notification(Notification.Kind.CREATED, created, now, requester.id(), null));
    log.debug("Access request {} by {} for {} on {}", created.id(), requester.id(), wanted, created.cluster());
    if (immediate) {
      activated(created, now);
    }
    return created;
  }

  /** Records an approval or a denial. */
  public AccessRequestState review(String requestId, Subject reviewer, Verdict verdict, @Nullable String comment) {
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      AccessRequestState current = load(requestId);
      Instant now = now();
      checkOpen(current, now, "reviewed");
      List<ApprovalRule> rules = currentRules(current, reviewer.id());
      for (ApprovalRule rule : rules) {
        if (!rule.mayReview(reviewer, current.requester())) {
          String reason = reviewer.id().equals(current.requester().id())
              ? "self-approval is not allowed for " + current.roles() + " on cluster " + current.cluster()
                  + "; ask an approver"
              : reviewer.id() + " may not review access request " + requestId + " for " + current.roles()
                  + " on cluster " + current.cluster() + ": not an approver";
          throw refused(reviewer.id(), current.cluster(), current, reason);
        }
      }
      if (current.reviewedBy(reviewer.id())) {
        throw new IllegalStateException(reviewer.id() + " already reviewed access request " + requestId);
      }
      int required = Math.max(current.requiredApprovals(),
          rules.stream().mapToInt(ApprovalRule::approvals).max().orElse(0));
      RequestDraft draft = new RequestDraft(current);
      draft.reviews.add(new Review(reviewer.id(), verdict, comment, now));
      boolean activates = false;
      if (verdict == Verdict.DENY) {
        draft.status = Status.DENIED;
      } else if (current.approvals() + 1 >= required) {
        activates = true;
        draft.status = Status.ACTIVE;
        draft.activatedAt = now;
        draft.activeUntil = now.plus(current.duration());
      }
      AccessRequestState next = draft.next();
      if (replace(current, next)) {
        reviewed(next, reviewer.id(), verdict, comment, now);
        if (activates) {
          activated(next, now);
        }
        return next;
      }
    }
    throw tooMuchContention(requestId);
  }

  /** Withdraws a pending or active request. */
  public AccessRequestState cancel(String requestId, Subject requester) {
    return change(requestId, requester, "cancelled", (current, now) -> {
      checkOpen(current, now, "cancelled");
      RequestDraft draft = new RequestDraft(current);
      draft.status = Status.CANCELLED;
      return draft;
    }, (next, now) -> {
      audit(next, AuditEvent.Type.CANCELLED, requester.id(), "access request cancelled", attributes(next));
      notifiers.send(new Notification(Notification.Kind.CANCELLED, next, now, requester.id(), null));
      dropCachedGrants.accept(next.requester().id(), next.cluster());
    });
  }

  /** Extends an active request once. */
  public AccessRequestState extend(String requestId, Subject requester, Duration extension, String justification) {
    return change(requestId, requester, "extended", (current, now) -> {
      if (current.statusAt(now) != Status.ACTIVE) {
        throw new IllegalStateException("access request " + requestId + " is " + current.statusAt(now)
            + "; only an active request can be extended");
      }
      if (current.extensions() >= 1) {
        throw new IllegalStateException("access request " + requestId + " was already extended; make a new request");
      }
      List<ApprovalRule> rules = currentRules(current, requester.id());
      checkDuration(extension, rules.stream().map(ApprovalRule::maxDuration).min(Duration::compareTo).orElseThrow(),
          current.roles());
      checkJustification(rules, justification, current.roles());
      RequestDraft draft = new RequestDraft(current);
      draft.activeUntil = Objects.requireNonNull(current.activeUntil()).plus(extension);
      draft.extensions++;
      draft.extensionJustification = justification;
      draft.expiryNotified = false;
      return draft;
    }, (next, now) -> {
      Map<String, String> attributes = attributes(next);
      attributes.put("justification", justification);
      attributes.put("extension", extension.toString());
      attributes.put("activeUntil", String.valueOf(next.activeUntil()));
      audit(next, AuditEvent.Type.EXTENDED, requester.id(), "extended by " + extension, attributes);
      notifiers.send(new Notification(Notification.Kind.EXTENDED, next, now, requester.id(), justification));
    });
  }

  /** Marks the subject's active requests (on one cluster, or all when null) revoked; returns their ids. */
  public List<String> revoke(String subjectId, @Nullable String cluster) {
    List<String> revoked = new ArrayList<>();
    for (AccessRequestState candidate : guarded(() -> store.findByRequester(subjectId))) {
      if (cluster != null && !candidate.cluster().equals(cluster)) {
        continue;
      }
      String id = candidate.id();
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        AccessRequestState current = load(id);
        Instant now = now();
        if (!current.isActiveAt(now)) {
          break;
        }
        RequestDraft draft = new RequestDraft(current);
        draft.status = Status.REVOKED;
        AccessRequestState next = draft.next();
        if (replace(current, next)) {
          revoked.add(id);
          notifiers.send(new Notification(Notification.Kind.REVOKED, next, now, null, null));
          break;
        }
      }
    }
    return revoked;
  }

  /** The requests that grant the subject access on the cluster now. */
  public List<AccessRequestState> active(String subjectId, String cluster, Instant now) {
    return guarded(() -> store.findByRequester(subjectId)).stream()
        .filter(r -> r.cluster().equals(cluster) && r.isActiveAt(now))
        .toList();
  }

  /** Pending requests the reviewer may review and has not reviewed yet. */
  public List<AccessRequestState> toReview(Subject reviewer) {
    Instant now = now();
    List<AccessRequestState> result = new ArrayList<>();
    for (AccessRequestState r : guarded(() -> store.findByStatus(Set.of(Status.PENDING)))) {
      if (r.statusAt(now) == Status.PENDING && !r.reviewedBy(reviewer.id())) {
        List<ApprovalRule> rules = rulesOrEmpty(r);
        if (!rules.isEmpty() && rules.stream().allMatch(rule -> rule.mayReview(reviewer, r.requester()))) {
          result.add(r);
        }
      }
    }
    return List.copyOf(result);
  }

  /** Announces active windows that end within {@code window}, once per window; returns how many. */
  public int notifyExpiringSoon(Duration window) {
    int sent = 0;
    for (AccessRequestState candidate : guarded(() -> store.findByStatus(Set.of(Status.ACTIVE)))) {
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        AccessRequestState current = load(candidate.id());
        Instant now = now();
        if (!current.isActiveAt(now) || current.expiryNotified()
            || Objects.requireNonNull(current.activeUntil()).isAfter(now.plus(window))) {
          break;
        }
        RequestDraft draft = new RequestDraft(current);
        draft.expiryNotified = true;
        AccessRequestState next = draft.next();
        if (replace(current, next)) {
          notifiers.send(new Notification(Notification.Kind.EXPIRING_SOON, next, now, null, null));
          sent++;
          break;
        }
      }
    }
    return sent;
  }

  /**
   * Records, once, every request that lapsed: pending past its expiry without enough approvals, or active past
   * its window. Writes status {@code EXPIRED} and audits {@code EXPIRED}; returns how many.
   */
  public int expireLapsed() {
    int expired = 0;
    for (AccessRequestState candidate :
        guarded(() -> store.findByStatus(Set.of(Status.PENDING, Status.ACTIVE)))) {
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        AccessRequestState current = load(candidate.id());
        Instant now = now();
        if (current.status().isFinal() || current.statusAt(now) != Status.EXPIRED) {
          break;
        }
        RequestDraft draft = new RequestDraft(current);
        draft.status = Status.EXPIRED;
        AccessRequestState next = draft.next();
        if (replace(current, next)) {
          String detail =
              current.status() == Status.PENDING
                  ? "pending request lapsed at " + current.expiresAt() + " without enough approvals"
                  : "active window ended at " + current.activeUntil();
          audit(next, AuditEvent.Type.EXPIRED, next.requester().id(), detail, attributes(next));
          expired++;
          break;
        }
      }
    }
    return expired;
  }

  /** The stored request. */
  public AccessRequestState load(String requestId) {
    Objects.requireNonNull(requestId, "requestId");
    return guarded(() -> store.find(requestId))
        .orElseThrow(() -> new IllegalArgumentException("unknown access request '" + requestId + "'"));
  }

  /** The requester's requests. */
  public List<AccessRequestState> of(String requesterId) {
    return guarded(() -> store.findByRequester(requesterId));
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private interface Step {
    RequestDraft apply(AccessRequestState current, Instant now);
  }

  private interface After {
    void accept(AccessRequestState next, Instant now);
  }

  /** A requester's own change (cancel, extend) with the optimistic-locking loop. */
  private AccessRequestState change(String requestId, Subject requester, String verb, Step step, After after) {
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      AccessRequestState current = load(requestId);
      if (!current.requester().id().equals(requester.id())) {
        throw refused(requester.id(), current.cluster(), current,
            "only the requester " + current.requester().id() + " may have access request " + requestId + " " + verb);
      }
      Instant now = now();
      AccessRequestState next = step.apply(current, now).next();
      if (replace(current, next)) {
        after.accept(next, now);
        return next;
      }
    }
    throw tooMuchContention(requestId);
  }

  private void checkOpen(AccessRequestState current, Instant now, String verb) {
    Status status = current.statusAt(now);
    if (status == Status.EXPIRED && current.status() == Status.PENDING) {
      throw new IllegalStateException("access request " + current.id() + " expired at " + current.expiresAt()
          + " without enough approvals and can no longer be " + verb + "; make a new request");
    }
    boolean open = verb.equals("cancelled") ? !status.isFinal() : status == Status.PENDING;
    if (!open) {
      throw new IllegalStateException("access request " + current.id() + " is already "
          + status.name().toLowerCase(java.util.Locale.ROOT) + " and can no longer be " + verb);
    }
  }

  private List<ApprovalRule> currentRules(AccessRequestState request, String actorId) {
    List<ApprovalRule> rules = rulesOrEmpty(request);
    if (rules.isEmpty()) {
      throw refused(actorId, request.cluster(), request, request.requester().id()
          + " is no longer eligible for " + request.roles() + " on cluster " + request.cluster());
    }
    return rules;
  }

  /** The rules of the bindings that still make the requester eligible for every requested role; empty if not. */
  private List<ApprovalRule> rulesOrEmpty(AccessRequestState request) {
    List<EligibleRole> eligible = eligibleRoles(request.requester(), request.cluster());
    Set<String> names = eligible.stream().map(EligibleRole::role).collect(Collectors.toSet());
    if (!names.containsAll(request.roles())) {
      return List.of();
    }
    return eligible.stream().filter(e -> request.roles().contains(e.role())).map(EligibleRole::rule).toList();
  }

  private List<EligibleRole> eligibleRoles(Subject subject, String cluster) {
    EligibilityPolicy policy = eligibility;
    if (policy == null) {
      throw refused(subject.id(), cluster, null,
          "access requests are not configured: the policy provider does not define eligible roles");
    }
    try {
      return Objects.requireNonNull(policy.eligibleRoles(subject, cluster), "eligibleRoles returned null");
    } catch (RuntimeException e) {
      AccessDeniedException denied = refused(subject.id(), cluster, null,
          "the eligibility policy failed; access requests are refused until it works again");
      denied.initCause(new ProviderException("eligibility", "eligibleRoles failed with " + e.getClass().getName(), e));
      throw denied;
    }
  }

  private static void checkJustification(List<ApprovalRule> rules, String justification, Iterable<String> roles) {
    for (ApprovalRule rule : rules) {
      if (!rule.acceptsJustification(justification)) {
        throw new IllegalArgumentException("justification '" + PolicyRules.printable(justification)
            + "' does not match the pattern '" + rule.justification() + "' required for " + roles);
      }
    }
  }

  private static void checkDuration(Duration duration, Duration max, Iterable<String> roles) {
    if (duration.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          "duration " + duration + " exceeds the maximum " + max + " allowed for " + roles);
    }
    if (duration.getSeconds() < 1) {
      throw new IllegalArgumentException("duration must be at least 1 second but was " + duration);
    }
  }

  private boolean replace(AccessRequestState current, AccessRequestState next) {
    return guarded(() -> store.replace(current.version(), next));
  }

  private void reviewed(AccessRequestState next, String reviewerId, Verdict verdict, @Nullable String comment,
      Instant now) {
    Map<String, String> attributes = attributes(next);
    attributes.put("reviewer", reviewerId);
    if (comment != null) {
      attributes.put("comment", comment);
    }
    attributes.put("approvals", next.approvals() + "/" + next.requiredApprovals());
    boolean approve = verdict == Verdict.APPROVE;
    audit(next, approve ? AuditEvent.Type.APPROVED : AuditEvent.Type.REJECTED, reviewerId,
        approve ? "approved" : "denied", attributes);
    if (!approve) {
      notifiers.send(new Notification(Notification.Kind.DENIED, next, now, reviewerId, comment));
    } else if (next.status() == Status.PENDING) {
      notifiers.send(new Notification(Notification.Kind.APPROVAL_RECORDED, next, now, reviewerId, comment));
    }
  }

  private void activated(AccessRequestState active, Instant now) {
    Map<String, String> attributes = attributes(active);
    attributes.put("reviewers", active.reviews().stream().map(Review::reviewerId).collect(Collectors.joining(",")));
    attributes.put("activeUntil", String.valueOf(active.activeUntil()));
    attributes.put("permissions",
        active.permissions().stream().map(Permission::toString).collect(Collectors.joining(",")));
    audit(active, AuditEvent.Type.ACTIVATED, active.requester().id(), "active until " + active.activeUntil(),
        attributes);
    dropCachedGrants.accept(active.requester().id(), active.cluster());
    Review last = active.reviews().isEmpty() ? null : active.reviews().get(active.reviews().size() - 1);
    notifiers.send(new Notification(Notification.Kind.APPROVED, active, now,
        last == null ? active.requester().id() : last.reviewerId(), last == null ? null : last.comment()));
    log.debug("Access request {} is active until {}", active.id(), active.activeUntil());
  }

  private static Map<String, String> attributes(AccessRequestState r) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("requestId", r.id());
    attributes.put("requester", r.requester().id());
    attributes.put("roles", String.join(",", r.roles()));
    attributes.put("justification", r.justification());
    return attributes;
  }

  private void audit(AccessRequestState r, AuditEvent.Type type, String subjectId, String detail,
      Map<String, String> attributes) {
    audit.dispatch(new AuditEvent(now(), type, subjectId, r.cluster(), null, detail, attributes));
  }

  /** Audits a refusal (type DENIED with the request id) and returns the exception to throw. */
  private AccessDeniedException refused(String subjectId, String cluster, @Nullable AccessRequestState request,
      String reason) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("provider", "access-requests");
    if (request != null) {
      attributes.put("requestId", request.id());
    }
    audit.dispatch(new AuditEvent(now(), AuditEvent.Type.DENIED, subjectId, cluster, null, reason, attributes));
    log.debug("Refused {} on {}: {}", subjectId, cluster, reason);
    return new AccessDeniedException(reason);
  }

  private <T> T guarded(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (IllegalArgumentException | IllegalStateException | java.util.NoSuchElementException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ProviderException(store.id(), "access request store failed with " + e.getClass().getName(), e);
    }
  }

  private IllegalStateException tooMuchContention(String requestId) {
    return new IllegalStateException(
        "access request " + requestId + " changed " + MAX_ATTEMPTS + " times while this change was tried; try again");
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.SECONDS);
  }
}
