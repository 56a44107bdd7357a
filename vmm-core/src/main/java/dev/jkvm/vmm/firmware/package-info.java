/**
 * What a PC BIOS leaves in memory for the operating system to find the machine by, built from one
 * {@link dev.jkvm.vmm.firmware.PlatformDescription}: the MultiProcessor Specification table
 * ({@link dev.jkvm.vmm.firmware.MpTable}) here, the ACPI tables in {@code dev.jkvm.vmm.acpi}, and
 * where both go ({@link dev.jkvm.vmm.firmware.FirmwareTables}).
 *
 * <p>Placement: the top of conventional memory, ending at 0xA0000. The MP floating pointer at
 * 0x9FC00 and the ACPI RSDP at 0x9FC10 (the last KiB, which Linux scans for "_MP_" and which, as
 * the EBDA, ACPI's RSDP search covers once BDA word 0x40E holds 0x9FC0); the ACPI tables and the MP
 * configuration table from the page boundary below them. That range is reserved in e820.
 */
package dev.jkvm.vmm.firmware;
