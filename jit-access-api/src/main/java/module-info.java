/**
 * The jit-access API: immutable value records, the sealed {@link dev.jitaccess.api.Decision}, the exception
 * hierarchy rooted at {@link dev.jitaccess.api.JitAccessException}, and the service provider interfaces in
 * {@link dev.jitaccess.api.spi}. This module depends on the JDK only.
 */
module dev.jitaccess.api {
  requires static transitive org.jspecify;

  exports dev.jitaccess.api;
  exports dev.jitaccess.api.spi;
}
