package dev.jitaccess.core;

import static dev.jitaccess.core.Fixtures.ALICE_TOKEN;
import static dev.jitaccess.core.Fixtures.EDIT;
import static dev.jitaccess.core.Fixtures.START;
import static dev.jitaccess.core.Fixtures.VIEW;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProviderException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.Fixtures.Policy;
import dev.jitaccess.core.Fixtures.RecordingSink;
import dev.jitaccess.core.Fixtures.Tokens;
import dev.jitaccess.testkit.MutableInstantSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * SECURITY #30: 500 concurrent requests for one (subject, cluster) exactly when its cached grant expires, with a
 * slow policy, cost one evaluation and leave no thread stuck. Each caller has its own platform thread; the policy
 * holds the evaluation on a latch that the test opens only once the other 499 callers are parked waiting for it,
 * so the stampede cannot hide behind a fast evaluation. Time is the fake clock; every wait is bounded, none sleeps.
 *
 * <p>The engine has no timeout on policy evaluation (a provider may block). The waiters share the evaluation's
 * failure too, may give up (an interrupt), and neither other subjects nor a revoke are dragged into one key's
 * evaluation.
 */
final class AuthorizeStampedeTest {
  private static final int CALLERS = 500;
  /** How long the callers may take once the evaluation returns (the whole stampede takes well under a second). */
  private static final Duration BOUND = Duration.ofSeconds(5);

  private final MutableInstantSource clock = MutableInstantSource.at(START);
  private final Tokens tokens = new Tokens();
  private final Policy policy = new Policy();
  private final RecordingSink sink = new RecordingSink();
  private final JitAccess jit = Fixtures.engine(clock, tokens, policy, sink).build();
  /** Opened by the test: the held evaluation returns. */
  private final CountDownLatch release = new CountDownLatch(1);
  /** The thread of the first held evaluation. */
  private final AtomicReference<Thread> evaluator = new AtomicReference<>();
  private final AtomicReferenceArray<Thread> callerThreads = new AtomicReferenceArray<>(CALLERS);
  private final List<Thread> poolThreads = new CopyOnWriteArrayList<>();
  /** One platform thread per caller, and one spare for a late caller or a revoke. */
  private final ExecutorService pool =
      Executors.newFixedThreadPool(
          CALLERS + 1,
          task -> {
            Thread t = new Thread(task, "stampede-" + poolThreads.size());
            t.setDaemon(true);
            poolThreads.add(t);
            return t;
          });
  private Grant expired;

  @AfterEach
  void releaseAndStop() throws InterruptedException {
    release.countDown();
    pool.shutdownNow();
    assertThat(pool.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS)).as("every thread ended").isTrue();
  }

  @Test
  void fiveHundredCallersAtExpiryShareOneSlowEvaluation() throws Exception {
    List<Future<Grant>> results = stampedeAtExpiry(r -> held(EDIT));
    pollUntil(() -> parked(CALLERS - 1));
    assertThat(policy.calls).as("evaluations: the expired grant's and one for all 500 callers").hasValue(2);
    assertThat(blocked()).as("callers waiting for the evaluation in flight").isEqualTo(CALLERS - 1);

    release.countDown();
    List<Object> outcomes = outcomes(results);

    assertThat(outcomes).allSatisfy(o -> assertThat(o).isInstanceOf(Grant.class));
    Set<Grant> handedOut = grants(outcomes);
    assertThat(handedOut)
        .singleElement()
        .satisfies(g -> assertThat(g.id()).isNotEqualTo(expired.id()))
        .satisfies(g -> assertThat(g.permissions()).isEqualTo(EDIT.permissions()));
    assertThat(jit.activeGrants("alice")).containsExactlyElementsOf(handedOut);
    assertThat(policy.calls).hasValue(2);
    assertThat(tokens.calls).as("authentications: the token's cached one had expired too").hasValue(2);
    assertThat(sink.ofType(AuditEvent.Type.GRANTED)).hasSize(2);
  }

  @Test
  void failedSharedEvaluationDeniesEveryWaiterCachesNothingAndTheNextCallEvaluatesAgain() throws Exception {
    List<Future<Grant>> results = stampedeAtExpiry(r -> failing());
    pollUntil(() -> parked(CALLERS - 1));
    release.countDown();
    List<Object> outcomes = outcomes(results);

    assertThat(outcomes)
        .allSatisfy(
            o -> {
              assertThat(o).isInstanceOf(AccessDeniedException.class);
              assertThat((Throwable) o)
                  .hasMessageContaining("policy provider 'test-policy' failed")
                  .cause()
                  .isInstanceOfSatisfying(
                      ProviderException.class, p -> assertThat(p.providerId()).isEqualTo("test-policy"));
            });
    assertThat(jit.activeGrants("alice")).as("nothing cached").isEmpty();

    int evaluations = policy.calls.get();
    policy.answering(VIEW);
    assertThat(jit.authorize(ALICE_TOKEN, "prod").permissions()).isEqualTo(VIEW.permissions());
    assertThat(policy.calls).as("the next call evaluates again").hasValue(evaluations + 1);
  }

  @Test
  void waitersShareTheFailureOfTheSharedEvaluation() throws Exception {
    List<Future<Grant>> results = stampedeAtExpiry(r -> failing());
    pollUntil(() -> parked(CALLERS - 1));
    release.countDown();

    assertThat(outcomes(results)).allSatisfy(o -> assertThat(o).isInstanceOf(AccessDeniedException.class));
    assertThat(policy.calls).as("evaluations: the expired grant's and the one shared failure").hasValue(2);
  }

  /**
   * The engine has no timeout on policy evaluation (PolicyProvider: "they may block"; JitAccess.evaluate calls it
   * directly): waiters wait as long as the evaluation does, whatever the engine's clock says, and so does a
   * caller arriving an hour later.
   */
  @Test
  void hungEvaluationHasNoTimeoutSoEveryCallerForTheKeyWaitsUntilItReturns() throws Exception {
    List<Future<Grant>> results = new ArrayList<>(stampedeAtExpiry(r -> held(EDIT)));
    pollUntil(() -> parked(CALLERS - 1));

    clock.advance(Duration.ofHours(1));
    results.add(pool.submit(() -> jit.authorize(ALICE_TOKEN, "prod")));
    pollUntil(() -> parked(CALLERS));
    assertThat(blocked()).as("callers waiting, the late one included").isEqualTo(CALLERS);
    assertThat(results).noneMatch(Future::isDone);
    assertThat(policy.calls).hasValue(2);

    release.countDown();
    assertThat(grants(outcomes(results))).singleElement().isIn(jit.activeGrants("alice"));
    assertThat(policy.calls).hasValue(2);
  }

  @Test
  void evaluatingCallerThatGivesUpIsReleasedPromptlyAndNoWaiterGetsAGrantFromIt() throws Exception {
    List<Future<Grant>> results = stampedeAtExpiry(r -> held(EDIT));
    pollUntil(() -> parked(CALLERS - 1));

    Thread givingUp = evaluator.get();
    givingUp.interrupt(); // as a request thread that timed out is; the policy honours it
    assertThat(results.get(indexOf(givingUp)))
        .failsWithin(BOUND)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOf(AccessDeniedException.class)
        .havingCause()
        .isInstanceOf(ProviderException.class)
        .havingCause()
        .withMessage("policy lookup interrupted");

    release.countDown();
    List<Object> outcomes = outcomes(results);
    assertThat(outcomes)
        .allSatisfy(o -> assertThat(o).isInstanceOfAny(Grant.class, AccessDeniedException.class));
    assertThat(grants(outcomes)).hasSizeLessThanOrEqualTo(1).allSatisfy(g -> assertThat(g).isNotEqualTo(expired));
    assertThat(policy.calls).as("at most one more evaluation after the one given up").hasValueBetween(2, 3);
  }

  @Test
  void blockedWaiterThatGivesUpIsReleasedPromptly() throws Exception {
    List<Future<Grant>> results = stampedeAtExpiry(r -> held(EDIT));
    pollUntil(() -> parked(CALLERS - 1));

    int waiter = indexOf(blockedCaller());
    callerThreads.get(waiter).interrupt();

    assertThat(pollUntil(results.get(waiter)::isDone))
        .as("the interrupted waiter left authorize (it is %s)", callerThreads.get(waiter).getState())
        .isTrue();
  }

  @Test
  void otherSubjectsAreServedWhileOneEvaluationHangs() throws Exception {
    policy.answer.set(r -> r.subject().id().equals("alice") ? held(EDIT) : VIEW);
    Future<Grant> alice = pool.submit(() -> jit.authorize(ALICE_TOKEN, "prod"));
    pollUntil(() -> evaluator.get() != null && evaluator.get().getState() == Thread.State.TIMED_WAITING);

    List<Future<Grant>> others = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      AccessRequest request = AccessRequest.of(Subject.of("user-" + i, "dev"), "prod");
      others.add(pool.submit(() -> jit.authorize(request)));
    }
    pollUntil(() -> others.stream().allMatch(Future::isDone));

    assertThat(others.stream().filter(f -> !f.isDone()).count()).as("other subjects still waiting").isZero();
    assertThat(alice.isDone()).isFalse();
  }

  /**
   * A revoke while the shared evaluation is in flight: that evaluation started before the revoke (its policy
   * answers EDIT, every later one VIEW), so its grant must be neither handed out nor cached. JitAccess.evaluate
   * refuses it ("access was revoked while the request was evaluated"); the waiters get grants evaluated after the
   * revoke, as {@link JitAccess#revoke(String)} promises ("a grant authorized after this call works normally").
   */
  @Test
  void revokeDuringTheSharedEvaluationHandsOutAndCachesNoGrantFromBeforeIt() throws Exception {
    List<Object> outcomes = revokeWhileEvaluating();

    List<Object> denied = outcomes.stream().filter(o -> !(o instanceof Grant)).toList();
    assertThat(denied)
        .as("only the caller whose evaluation spanned the revoke")
        .singleElement()
        .isInstanceOfSatisfying(
            AccessDeniedException.class,
            e -> assertThat(e.reason()).isEqualTo("access was revoked while the request was evaluated"));
    List<AuditEvent> events = List.copyOf(sink.events);
    int revokedAt = events.indexOf(sink.ofType(AuditEvent.Type.REVOKED).get(0));
    assertThat(outcomes).as("every waiter got a grant").filteredOn(Grant.class::isInstance).hasSize(CALLERS - 1);
    assertThat(grants(outcomes))
        .isNotEmpty()
        .allSatisfy(g -> assertThat(g.permissions()).isEqualTo(VIEW.permissions()))
        .allSatisfy(g -> assertThat(grantedAt(events, g)).isGreaterThan(revokedAt));
    assertThat(jit.activeGrants("alice"))
        .isNotEmpty()
        .allSatisfy(g -> assertThat(g.permissions()).isEqualTo(VIEW.permissions()));
    assertThat(sink.ofType(AuditEvent.Type.GRANTED))
        .as("the refused grant was never recorded as granted")
        .noneMatch(e -> e.attributes().get("permissions").contains("edit"));
  }

  @Test
  void revokeDuringTheSharedEvaluationCostsOneFreshEvaluationForAllWaiters() throws Exception {
    List<Object> outcomes = revokeWhileEvaluating();

    assertThat(policy.calls).as("evaluations: the expired grant's, the revoked one, one fresh").hasValue(3);
    assertThat(grants(outcomes))
        .as("the waiters share the fresh grant, and it is the one the engine tracks")
        .containsExactlyElementsOf(jit.activeGrants("alice"));
  }

  // ------------------------------------------------------------------------------------------------- helpers

  /** Expires alice's cached grant on prod, then lets {@value #CALLERS} callers ask for it at the same moment. */
  private List<Future<Grant>> stampedeAtExpiry(Function<AccessRequest, Decision> answer) {
    expired = jit.authorize(ALICE_TOKEN, "prod");
    clock.set(expired.expiresAt()); // exactly at expiry: the grant is over
    policy.answer.set(answer);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Grant>> results = new ArrayList<>();
    for (int i = 0; i < CALLERS; i++) {
      int index = i;
      Callable<Grant> caller =
          () -> {
            callerThreads.set(index, Thread.currentThread());
            go.await();
            return jit.authorize(ALICE_TOKEN, "prod");
          };
      results.add(pool.submit(caller));
    }
    go.countDown();
    return results;
  }

  /** A stampede whose held evaluation answers EDIT, a revoke of alice while it is held, every later one VIEW. */
  private List<Object> revokeWhileEvaluating() throws Exception {
    AtomicInteger evaluations = new AtomicInteger();
    List<Future<Grant>> results =
        stampedeAtExpiry(r -> evaluations.getAndIncrement() == 0 ? held(EDIT) : VIEW);
    pollUntil(() -> parked(CALLERS - 1));

    Future<?> revoking = pool.submit(() -> jit.revoke("alice"));
    assertThat(revoking).as("revoke does not wait for the evaluation in flight").succeedsWithin(BOUND);
    assertThat(results).noneMatch(Future::isDone);

    release.countDown();
    return outcomes(results);
  }

  /** Holds the evaluation until {@link #release} opens; throws when interrupted, as a blocking provider should. */
  private Decision held(Decision decision) {
    evaluator.compareAndSet(null, Thread.currentThread());
    try {
      if (!release.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the evaluation");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("policy lookup interrupted", e);
    }
    return decision;
  }

  /** A held evaluation that then fails, and every later one at once: the policy's backend is down. */
  private Decision failing() {
    held(EDIT);
    throw new IllegalStateException("policy backend down");
  }

  /** Whether one caller is inside the held evaluation and {@code waiters} others are blocked waiting for it. */
  private boolean parked(int waiters) {
    Thread t = evaluator.get();
    return t != null && t.getState() == Thread.State.TIMED_WAITING && blocked() == waiters;
  }

  /** The pool threads waiting for another caller's evaluation in the grant cache. */
  private int blocked() {
    return (int) poolThreads.stream().filter(AuthorizeStampedeTest::waitsForAnEvaluation).count();
  }

  private static boolean waitsForAnEvaluation(Thread t) {
    Thread.State state = t.getState();
    if (state != Thread.State.WAITING && state != Thread.State.BLOCKED) {
      return false;
    }
    for (StackTraceElement frame : t.getStackTrace()) {
      if (frame.getClassName().endsWith(".GrantCache")) {
        return true;
      }
    }
    return false;
  }

  /** A caller waiting for the held evaluation. */
  private Thread blockedCaller() {
    for (int i = 0; i < CALLERS; i++) {
      if (waitsForAnEvaluation(callerThreads.get(i))) {
        return callerThreads.get(i);
      }
    }
    throw new AssertionError("no caller is waiting");
  }

  private int indexOf(Thread thread) {
    for (int i = 0; i < CALLERS; i++) {
      if (callerThreads.get(i) == thread) {
        return i;
      }
    }
    throw new AssertionError(thread + " is not a caller");
  }

  /**
   * Each caller's grant, or the exception its authorize threw; all within {@link #BOUND} in total, else no
   * thread may be left inside authorize and the test fails.
   */
  private static List<Object> outcomes(List<Future<Grant>> results) throws InterruptedException {
    long deadline = System.nanoTime() + BOUND.toNanos();
    List<Object> outcomes = new ArrayList<>();
    for (Future<Grant> f : results) {
      try {
        outcomes.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (ExecutionException e) {
        outcomes.add(e.getCause());
      } catch (TimeoutException e) {
        throw new AssertionError("a caller was still inside authorize " + BOUND + " after the release", e);
      }
    }
    return outcomes;
  }

  private static Set<Grant> grants(List<Object> outcomes) {
    Set<Grant> grants = new LinkedHashSet<>();
    outcomes.stream().filter(o -> o instanceof Grant).map(Grant.class::cast).forEach(grants::add);
    return grants;
  }

  private static int grantedAt(List<AuditEvent> events, Grant grant) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).type() == AuditEvent.Type.GRANTED && grant.id().equals(events.get(i).grantId())) {
        return i;
      }
    }
    throw new AssertionError("no GRANTED event for " + grant.id());
  }

  /** Polls (yielding, never sleeping) until the condition holds or {@link #BOUND} passed; the asserts follow. */
  private static boolean pollUntil(BooleanSupplier condition) {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.yield();
    }
    return true;
  }
}
