/** JMH benchmarks for jit-access. See {@code docs/benchmarks.md} for how to run them and the recorded figures. */
package dev.jitaccess.benchmarks;
