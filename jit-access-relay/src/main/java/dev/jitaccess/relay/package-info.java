/**
 * The relay: {@link dev.jitaccess.relay.RelayServer}, which kubectl talks to inside the host application, and
 * {@link dev.jitaccess.relay.RelayAgent}, which runs in each cluster and dials out to it.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.jitaccess.relay;

import org.jspecify.annotations.NullMarked;
