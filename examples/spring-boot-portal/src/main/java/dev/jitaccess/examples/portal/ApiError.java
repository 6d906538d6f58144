package dev.jitaccess.examples.portal;

/**
 * The JSON body of every error answer.
 *
 * @param error a stable machine-readable code, e.g. {@code forbidden}
 * @param message what was wrong and what to do, for people
 */
public record ApiError(String error, String message) {}
