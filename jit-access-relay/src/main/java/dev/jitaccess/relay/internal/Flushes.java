package dev.jitaccess.relay.internal;

import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * Flush batching for every TLS connection of the relay and the agent. Many HTTP/2 streams share one connection,
 * and each stream flushes its own frames; without batching every flush is its own TLS record and {@code write}
 * system call. Placed right above the {@code SslHandler}, this handler turns the flushes made while a read is in
 * progress (and those of the tasks run in one event-loop turn) into one.
 */
final class Flushes {
  /** Flushes after at most this many consolidated flushes, so a long read loop still writes. */
  static final int MAX_CONSOLIDATED = 64;

  private Flushes() {}

  /** A new handler (it is per connection). */
  static FlushConsolidationHandler consolidating() {
    return new FlushConsolidationHandler(MAX_CONSOLIDATED, true);
  }
}
