package dev.jitaccess.examples.quarkus;

/**
 * The body of {@code POST /access/requests}.
 *
 * @param cluster the cluster id to request access to
 */
public record AccessRequestBody(String cluster) {}
