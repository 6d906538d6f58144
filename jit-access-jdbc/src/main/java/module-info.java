/**
 * An access request store on a relational database through plain JDBC. Exports {@code dev.jitaccess.jdbc};
 * the JSON codec (nimbus-jose-jwt's JSON utilities) never appears in a public signature.
 */
module dev.jitaccess.jdbc {
  requires transitive dev.jitaccess.api;
  requires transitive java.sql;
  requires static transitive org.jspecify;
  requires com.nimbusds.jose.jwt;
  requires org.slf4j;
  exports dev.jitaccess.jdbc;
}
