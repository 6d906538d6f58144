/**
 * Implementation of the JDBC store: schema migration and the JSON codec of the request columns. Not exported;
 * no compatibility promise.
 */
@NullMarked
package dev.jitaccess.jdbc.internal;

import org.jspecify.annotations.NullMarked;
