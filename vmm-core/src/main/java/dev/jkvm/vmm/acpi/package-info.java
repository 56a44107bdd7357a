/**
 * jkvm's ACPI tables (ACPI 6.3): RSDP, RSDT, XSDT, FADT, FACS, MADT and a DSDT written with the
 * AML encoder in {@code dev.jkvm.vmm.acpi.aml}, all from one
 * {@link dev.jkvm.vmm.firmware.PlatformDescription}; {@link dev.jkvm.vmm.acpi.AcpiTables} lays
 * them out, {@link dev.jkvm.vmm.acpi.SleepState} says which SLP_TYP the guest writes for which
 * state.
 */
package dev.jkvm.vmm.acpi;
