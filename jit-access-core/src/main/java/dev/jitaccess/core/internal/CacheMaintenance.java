package dev.jitaccess.core.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * Where the engine's Caffeine caches run their maintenance (draining their buffers, expiring entries and so the
 * {@code EXPIRED} audit events) with the system clock. After a read, on the common pool: the warm path stays short
 * and two threads reading do not take turns at the drain. After a write, on the thread that wrote: a write is a
 * cold call that has just paid for a policy evaluation or a signature, and handing the drain to another thread
 * costs it more than the drain (a wake-up; measured ≈ 13 µs per cold authorize on two shared vCPUs, where the
 * whole RS256 call takes ≈ 51 µs). Writes are marked with {@link #onWriter}. Thread-safe.
 */
public final class CacheMaintenance implements Executor {
  /** The one instance. */
  public static final CacheMaintenance INSTANCE = new CacheMaintenance();

  private static final ThreadLocal<int[]> WRITING = ThreadLocal.withInitial(() -> new int[1]);

  private CacheMaintenance() {}

  @Override
  public void execute(Runnable task) {
    if (WRITING.get()[0] > 0) {
      task.run();
    } else {
      ForkJoinPool.commonPool().execute(task);
    }
  }

  /**
   * Runs a cache write so that the maintenance it schedules runs on this thread.
   *
   * @param write the write
   */
  public static void onWriter(Runnable write) {
    int[] depth = WRITING.get();
    depth[0]++;
    try {
      write.run();
    } finally {
      depth[0]--;
    }
  }
}
