package dev.jitaccess.relay.internal;

import dev.jitaccess.api.RelayException;
import dev.jitaccess.api.spi.AccountProvisioner;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's work besides serving requests: the privilege self-check at start (SECURITY 19) and the idle
 * account sweep, at start and then every period on a scheduler the agent owns (SECURITY 23, 31: the sweep
 * keeps no state, so a restarted agent still cleans up). Thread-safe.
 */
public final class AgentHousekeeping implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentHousekeeping.class);

  private final AccountProvisioner provisioner;
  private final Duration sweepPeriod;
  private final ScheduledExecutorService scheduler;

  /**
   * Creates the housekeeping; nothing runs before {@link #startSweeping()}.
   *
   * @param provisioner the provisioner whose {@code sweepIdle} and {@code privilegeWarnings} are used
   * @param sweepPeriod the delay between the end of one sweep and the start of the next
   * @param scheduler runs the sweeps; owned: shut down by {@link #close()}
   */
  public AgentHousekeeping(
      AccountProvisioner provisioner, Duration sweepPeriod, ScheduledExecutorService scheduler) {
    this.provisioner = provisioner;
    this.sweepPeriod = sweepPeriod;
    this.scheduler = scheduler;
  }

  /**
   * Asks the provisioner about the agent's own privileges and logs a WARN per finding, or refuses.
   *
   * @param refuse whether findings, or a failed check, stop the agent
   * @throws RelayException if {@code refuse} and the check found excess privileges or could not run
   */
  public void checkPrivileges(boolean refuse) {
    List<String> findings;
    try {
      findings = provisioner.privilegeWarnings();
    } catch (RuntimeException e) {
      if (refuse) {
        throw new RelayException(
            "The agent refuses to start: it could not check its own privileges (" + e.getMessage() + ")", e);
      }
      log.warn("Could not check the agent's own privileges; go on without: {}", e.toString());
      return;
    }
    if (findings.isEmpty()) {
      return;
    }
    if (refuse) {
      throw new RelayException(
          "The agent refuses to start: it holds more privileges than it needs: "
              + String.join("; ", findings));
    }
    for (String finding : findings) {
      log.warn("OVER-PRIVILEGED AGENT: {}", finding);
    }
  }

  /** Sweeps now and then every period, until {@link #close()}. */
  public void startSweeping() {
    scheduler.scheduleWithFixedDelay(this::sweepOnce, 0, sweepPeriod.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** One sweep; never throws (a thrown exception would end the schedule). */
  void sweepOnce() {
    try {
      List<String> deleted = provisioner.sweepIdle();
      if (!deleted.isEmpty()) {
        log.info("Idle sweep deleted {} object(s): {}", deleted.size(), deleted);
      }
    } catch (RuntimeException e) {
      log.warn("Idle sweep failed; trying again in {}: {}", sweepPeriod, e.toString());
    }
  }

  /** Stops sweeping; a sweep in progress is interrupted. Idempotent. */
  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
