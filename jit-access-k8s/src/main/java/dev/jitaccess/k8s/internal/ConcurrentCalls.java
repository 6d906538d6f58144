package dev.jitaccess.k8s.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Runs independent Kubernetes calls of one provisioning side by side. */
final class ConcurrentCalls {
  private ConcurrentCalls() {}

  /** A pool of daemon threads that end after a minute without work; calls block, so not the common pool. */
  static ExecutorService newPool() {
    AtomicInteger n = new AtomicInteger();
    ThreadFactory threads =
        r -> {
          Thread t = new Thread(r, "jit-k8s-calls-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    return Executors.newCachedThreadPool(threads);
  }

  /** The result, or the call's own exception (a {@link dev.jitaccess.api.ProvisioningException}) rethrown. */
  static <T> T join(CompletableFuture<T> call) {
    try {
      return call.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }

  /** Waits for the call to end, whatever its outcome. */
  static void awaitQuietly(CompletableFuture<?> call) {
    boolean interrupted = false;
    while (true) {
      try {
        call.get();
        break;
      } catch (ExecutionException e) {
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
