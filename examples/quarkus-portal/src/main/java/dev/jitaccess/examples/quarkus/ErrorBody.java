package dev.jitaccess.examples.quarkus;

/**
 * Every error answer's JSON.
 *
 * @param error a stable code: {@code access_denied}, {@code unauthenticated}, {@code bad_request}
 * @param message what was wrong and what to do
 */
public record ErrorBody(String error, String message) {}
