/**
 * A small AML (ACPI Machine Language) encoder: the terms a firmware DSDT needs (integers, strings,
 * buffers, packages, names, scopes, devices, methods, return), name strings, package lengths, EISA
 * IDs and resource templates, each producing the exact bytes of ACPI 6.3 chapter 20.
 */
package dev.jkvm.vmm.acpi.aml;
