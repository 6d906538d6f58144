package dev.jitaccess.relay.internal;

import dev.jitaccess.api.spi.ClusterForwarder;
import java.time.InstantSource;
import java.util.concurrent.Executor;

/**
 * What every stream of an agent shares.
 *
 * @param grantCheck verifies signed grants
 * @param accounts provisioned accounts per grant
 * @param forwarder sends requests to kube-apiserver
 * @param grants tombstones and open streams
 * @param executor where blocking work runs (never the event loop)
 * @param clock the agent's clock
 */
record AgentContext(
    GrantCheck grantCheck,
    AgentAccounts accounts,
    ClusterForwarder forwarder,
    AgentGrants grants,
    Executor executor,
    InstantSource clock) {}
