package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.spi.AccountProvisioner;
import dev.jitaccess.relay.internal.AgentHousekeeping;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The agent's idle sweeps and its privilege self-check (SECURITY 19, 23, 31). */
final class RelayAgentHousekeepingTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final TunnelFixture fixture = new TunnelFixture();
  private final Logger housekeepingLog = (Logger) LoggerFactory.getLogger(AgentHousekeeping.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void captureLogs() {
    logs.start();
    housekeepingLog.addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    housekeepingLog.detachAppender(logs);
    fixture.close();
  }

  /** Counts sweeps and answers the privilege check with the given findings. */
  static final class HousekeepingProvisioner implements AccountProvisioner {
    final AtomicInteger sweeps = new AtomicInteger();
    volatile boolean sweepFails;
    volatile List<String> findings = List.of();
    volatile boolean checkFails;

    @Override
    public ProvisionedAccount ensure(Grant grant) {
      return new ProvisionedAccount("jit-access", "jit-x", "sa-token", Instant.now().plusSeconds(3600));
    }

    @Override
    public void remove(String subjectId) {}

    @Override
    public List<String> sweepIdle() {
      sweeps.incrementAndGet();
      if (sweepFails) {
        throw new ProvisioningException("listing failed", 503, true, null);
      }
      return List.of("serviceaccount/jit-access/jit-old");
    }

    @Override
    public List<String> privilegeWarnings() {
      if (checkFails) {
        throw new ProvisioningException("review refused", 403, false, null);
      }
      return findings;
    }
  }

  /** A real scheduler that remembers what it was asked to repeat, so a test can fire a period by hand. */
  static final class RecordingScheduler extends ScheduledThreadPoolExecutor {
    volatile Runnable repeated;
    volatile long initialDelayNanos = -1;
    volatile long delayNanos = -1;

    RecordingScheduler() {
      super(1);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(
        Runnable command, long initialDelay, long delay, TimeUnit unit) {
      repeated = command;
      initialDelayNanos = unit.toNanos(initialDelay);
      delayNanos = unit.toNanos(delay);
      return super.scheduleWithFixedDelay(command, initialDelay, delay, unit);
    }
  }

  private List<String> warnings() {
    return logs.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void sweepsAtStartThenEveryPeriodAndNoMoreAfterClose() {
    HousekeepingProvisioner provisioner = new HousekeepingProvisioner();
    RecordingScheduler scheduler = new RecordingScheduler();
    RelayAgent agent =
        fixture.closeLater(
            fixture.agentBuilder("cred-a", provisioner)
                .sweepPeriod(Duration.ofSeconds(30))
                .sweepScheduler(scheduler)
                .build());

    agent.start();

    await().atMost(WAIT).until(() -> provisioner.sweeps.get() == 1);
    assertThat(scheduler.initialDelayNanos).isZero();
    assertThat(scheduler.delayNanos).isEqualTo(Duration.ofSeconds(30).toNanos());
    scheduler.repeated.run(); // what the scheduler does when the period has passed
    assertThat(provisioner.sweeps).hasValue(2);

    agent.close();

    assertThat(scheduler.isShutdown()).isTrue();
    assertThat(scheduler.getQueue()).isEmpty();
    assertThat(provisioner.sweeps).hasValue(2);
  }

  @Test
  void aFailedSweepIsLoggedAndDoesNotEndTheSchedule() {
    HousekeepingProvisioner provisioner = new HousekeepingProvisioner();
    provisioner.sweepFails = true;
    RecordingScheduler scheduler = new RecordingScheduler();
    RelayAgent agent =
        fixture.closeLater(fixture.agentBuilder("cred-a", provisioner).sweepScheduler(scheduler).build());

    agent.start();

    await().atMost(WAIT).until(() -> provisioner.sweeps.get() == 1);
    await().atMost(WAIT).until(() -> warnings().stream().anyMatch(w -> w.contains("Idle sweep failed")));
    assertThat(scheduler.delayNanos).isEqualTo(RelayAgent.DEFAULT_SWEEP_PERIOD.toNanos());
    assertThat(scheduler.getQueue()).hasSize(1); // the next run is still scheduled
  }

  @Test
  void sweepPeriodIsAtMostFiveMinutes() {
    assertThatThrownBy(() -> RelayAgent.builder().sweepPeriod(Duration.ofMinutes(6)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sweepPeriod must be PT1S to PT5M but was PT6M");
  }

  @Test
  void excessPrivilegesAreLoggedLoudlyAndTheAgentStillServes() {
    HousekeepingProvisioner provisioner = new HousekeepingProvisioner();
    provisioner.findings = List.of("may impersonate users", "may escalate clusterroles");
    fixture.closeLater(fixture.agentBuilder("cred-a", provisioner).build()).start();

    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    assertThat(warnings())
        .anyMatch(w -> w.contains("OVER-PRIVILEGED") && w.contains("impersonate users"))
        .anyMatch(w -> w.contains("OVER-PRIVILEGED") && w.contains("escalate clusterroles"));
  }

  @Test
  void refuseOverprivilegedStopsTheAgentBeforeItLoadsOrConnects() {
    HousekeepingProvisioner provisioner = new HousekeepingProvisioner();
    provisioner.findings = List.of("may impersonate users");
    RelayAgent agent =
        fixture.closeLater(fixture.agentBuilder("cred-a", provisioner).refuseOverprivileged(true).build());

    assertThatThrownBy(agent::start)
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("refuses to start")
        .hasMessageContaining("impersonate users");
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !fixture.registry().isConnected("a"));
    assertThat(provisioner.sweeps).hasValue(0);
  }

  @Test
  void refuseOverprivilegedAlsoRefusesWhenTheCheckCannotRun() {
    HousekeepingProvisioner provisioner = new HousekeepingProvisioner();
    provisioner.checkFails = true;
    RelayAgent agent =
        fixture.closeLater(fixture.agentBuilder("cred-a", provisioner).refuseOverprivileged(true).build());

    assertThatThrownBy(agent::start).isInstanceOf(RelayException.class).hasMessageContaining("review refused");
    assertThat(provisioner.sweeps).hasValue(0);
  }
}
