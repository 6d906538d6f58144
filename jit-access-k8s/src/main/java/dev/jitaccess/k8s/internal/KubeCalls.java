package dev.jitaccess.k8s.internal;

import dev.failsafe.Execution;
import dev.failsafe.RetryPolicy;
import dev.jitaccess.api.ProvisioningException;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1Status;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * Runs calls to kube-apiserver with retries and turns every failure into a {@link ProvisioningException}.
 *
 * <p>429, 500, 502, 503, 504 and I/O failures (timeouts, resets) are retried with capped, jittered backoff
 * computed by a Failsafe {@link RetryPolicy}; the wait itself goes through the {@link Sleeper} so that tests
 * need not sleep. A 429 waits at least its {@code Retry-After}. Everything else (401, 403, 404, 409, 422...)
 * fails at once. Messages name the object and the status, never a token. Thread-safe.
 */
public final class KubeCalls {

  /** One attempt at a call; {@code attempt} counts from 0. */
  @FunctionalInterface
  public interface Attempt<T> {
    /**
     * Makes the call once.
     *
     * @param attempt 0 for the first attempt, then 1, 2...
     * @return the result
     * @throws ApiException if the call failed
     */
    T call(int attempt) throws ApiException;
  }

  /** A call that does not care about the attempt number. */
  @FunctionalInterface
  public interface Call<T> {
    /**
     * Makes the call once.
     *
     * @return the result
     * @throws ApiException if the call failed
     */
    T call() throws ApiException;
  }

  /**
   * The result of {@link #createOrAdopt}.
   *
   * @param object the object as the server returned it
   * @param created true if this call created it, false if it existed and was adopted
   */
  public record Outcome<T>(T object, boolean created) {}

  private final RetrySettings settings;
  private final Sleeper sleeper;
  private final RetryPolicy<Object> policy;

  /**
   * Creates the runner.
   *
   * @param settings the retry settings
   * @param sleeper how to wait between attempts
   */
  public KubeCalls(RetrySettings settings, Sleeper sleeper) {
    this.settings = settings;
    this.sleeper = sleeper;
    this.policy =
        RetryPolicy.builder()
            .withMaxAttempts(settings.maxAttempts())
            .withBackoff(settings.baseDelay(), settings.maxDelay())
            .withJitter(0.25)
            .build();
  }

  /**
   * Runs a call, retrying transient failures.
   *
   * @param what the object and action, for messages ("create ServiceAccount jit-access/jit-abc")
   * @param call the call
   * @return its result
   * @throws ProvisioningException if it failed for good
   */
  public <T> T run(String what, Call<T> call) {
    return retrying(what, attempt -> call.call());
  }

  /**
   * Reads an object, retrying transient failures.
   *
   * @return the object, or empty if it does not exist (404)
   * @throws ProvisioningException if the read failed for good
   */
  public <T> Optional<T> read(String what, Call<T> call) {
    return retrying(what, attempt -> readOrEmpty(call));
  }

  /**
   * Deletes an object, retrying transient failures.
   *
   * @return true if it was deleted, false if it was already gone (404)
   * @throws ProvisioningException if the deletion failed for good
   */
  public boolean delete(String what, Call<?> call) {
    return retrying(what, attempt -> readOrEmpty(call).isPresent());
  }

  /**
   * Creates an object; if it exists (409, or a retry after an unanswered create), reads it and lets
   * {@code adopt} decide whether it is ours. A retry reads before it creates again.
   *
   * @param adopt checks an existing object and returns it, or throws a {@link ProvisioningException}
   * @throws ProvisioningException if the object could not be created or is not ours
   */
  public <T> Outcome<T> createOrAdopt(
      String what, Call<T> create, Call<T> read, UnaryOperator<T> adopt) {
    return retrying(
        what,
        attempt -> {
          if (attempt > 0) {
            Optional<T> existing = readOrEmpty(read);
            if (existing.isPresent()) {
              return new Outcome<>(adopt.apply(existing.get()), false);
            }
          }
          try {
            return new Outcome<>(create.call(), true);
          } catch (ApiException e) {
            if (e.getCode() != 409) {
              throw e;
            }
            return new Outcome<>(adopt.apply(read.call()), false);
          }
        });
  }

  private static <T> Optional<T> readOrEmpty(Call<T> call) throws ApiException {
    try {
      return Optional.of(call.call());
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private <T> T retrying(String what, Attempt<T> call) {
    Execution<Object> execution = Execution.of(policy);
    for (int attempt = 0; ; attempt++) {
      try {
        return call.call(attempt);
      } catch (ApiException e) {
        if (!isRetryable(e)) {
          throw failure(what, e, false);
        }
        execution.recordException(e);
        if (execution.isComplete()) {
          throw failure(what + " (gave up after " + (attempt + 1) + " attempts)", e, true);
        }
        Duration wait = execution.getDelay();
        if (e.getCode() == 429) {
          Duration retryAfter = retryAfter(e);
          if (retryAfter.compareTo(settings.maxRetryAfter()) > 0) {
            throw failure(
                what + " (Retry-After " + retryAfter.toSeconds() + " s is longer than we wait)",
                e,
                true);
          }
          wait = wait.compareTo(retryAfter) < 0 ? retryAfter : wait;
        }
        sleep(what, wait, e);
      }
    }
  }

  private void sleep(String what, Duration wait, ApiException cause) {
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw failure(what + " (interrupted while waiting to retry)", cause, true);
    }
  }

  private static boolean isRetryable(ApiException e) {
    int code = e.getCode();
    if (code == 0) {
      return e.getCause() instanceof IOException;
    }
    return code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
  }

  /** Seconds from the Retry-After header; 1 s if it is missing or not a number of seconds. */
  static Duration retryAfter(ApiException e) {
    Map<String, List<String>> headers = e.getResponseHeaders();
    if (headers != null) {
      for (Map.Entry<String, List<String>> header : headers.entrySet()) {
        if ("Retry-After".equalsIgnoreCase(header.getKey()) && !header.getValue().isEmpty()) {
          try {
            long seconds = Long.parseLong(header.getValue().get(0).trim());
            return Duration.ofSeconds(Math.max(seconds, 1));
          } catch (NumberFormatException ignored) {
            return Duration.ofSeconds(1);
          }
        }
      }
    }
    return Duration.ofSeconds(1);
  }

  private static ProvisioningException failure(String what, ApiException e, boolean retryable) {
    int code = e.getCode();
    String detail;
    if (code == 0) {
      Throwable cause = e.getCause();
      detail =
          "no answer from kube-apiserver ("
              + (cause == null ? "unknown error" : cause.getClass().getSimpleName())
              + "); check the network and the apiserver's health";
    } else if (code == 401 || code == 403) {
      detail =
          "kube-apiserver refused the agent ("
              + code
              + statusText(e)
              + "); grant the agent the RBAC in deploy/agent-rbac.yaml";
    } else if (code == 422) {
      detail = "Kubernetes rejected the object as invalid (422" + statusText(e) + ")";
    } else {
      detail = "kube-apiserver answered " + code + statusText(e);
    }
    return new ProvisioningException(
        "Could not " + what + ": " + detail, code, retryable, e);
  }

  /** The reason and message of a Status body, shortened; empty if there is none. */
  private static String statusText(ApiException e) {
    String body = e.getResponseBody();
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      V1Status status = JSON.deserialize(body, V1Status.class);
      String text = joined(status.getReason(), status.getMessage());
      return text.isEmpty() ? "" : " " + text;
    } catch (RuntimeException notAStatus) {
      return "";
    }
  }

  private static String joined(@Nullable String reason, @Nullable String message) {
    String text;
    if (reason == null || message == null) {
      text = reason != null ? reason : message != null ? message : "";
    } else {
      text = reason + ": " + message;
    }
    return text.length() > 300 ? text.substring(0, 300) + "..." : text;
  }
}
