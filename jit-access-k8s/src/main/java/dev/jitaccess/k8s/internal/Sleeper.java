package dev.jitaccess.k8s.internal;

import java.time.Duration;

/**
 * Waits between retries. Production code really sleeps; tests inject a sleeper that records the requested
 * waits and returns at once, so no test waits for real time.
 */
@FunctionalInterface
public interface Sleeper {
  /** Sleeps on the calling thread. */
  Sleeper SYSTEM = duration -> Thread.sleep(duration.toMillis());

  /**
   * Waits for the given time.
   *
   * @param duration how long; never negative
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  void sleep(Duration duration) throws InterruptedException;
}
