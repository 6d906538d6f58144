/**
 * An {@link dev.jitaccess.api.spi.AccessRequestStore} on a relational database through plain JDBC.
 */
@NullMarked
package dev.jitaccess.jdbc;

import org.jspecify.annotations.NullMarked;
