/**
 * jkvm as a JUnit 5 extension: {@link dev.jkvm.junit.Guest} boots a guest per test and injects the
 * machine or its result; {@link dev.jkvm.junit.GuestTest} runs a test over a matrix of
 * {@code -smp} and {@code -cpu} values.
 */
package dev.jkvm.junit;
