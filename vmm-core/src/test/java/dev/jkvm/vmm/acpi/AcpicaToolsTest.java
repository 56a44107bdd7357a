package dev.jkvm.vmm.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.firmware.SerialPort;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hands the tables to ACPICA, the ACPI implementation inside Linux: {@code iasl -d} must
 * disassemble each one without errors or warnings (and recompile the DSDT cleanly), and
 * {@code acpiexec} must load the FADT, FACS and DSDT without complaint and evaluate the namespace
 * as intended. Needs Debian's acpica-tools; skipped, saying so, where it is not installed.
 *
 * <p>The RSDP is not handed over: iasl cannot load an RSDP from a file ("Loading an RSDP is not
 * supported"); AcpiTablesTest checks it byte by byte.
 */
class AcpicaToolsTest {

    @TempDir
    Path dir;

    /** Lines where ACPICA or iasl reports a problem. */
    private static final Pattern PROBLEM = Pattern.compile("(?i)\\b(error|warning)\\b|firmware bug|\\bbug\\b");
    /** The count line of a successful compile ("0 Errors, 0 Warnings") is not a problem. */
    private static final Pattern SUMMARY = Pattern.compile("Compilation successful\\.|\\d+ Errors?, \\d+ Warnings?");
    /**
     * iasl checks a binary file's first 36 bytes as an SDT header, OEM ID included; the FACS has no
     * such header and its hardware signature lands where the OEM ID would be.
     */
    private static final String FACS_HEADER_QUIRK = "Table header for [FACS] has invalid ASCII character(s)";

    private static boolean installed(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static PlatformDescription platform(Topology t) {
        return PlatformDescription.pc(t, AcpiTablesTest.MEMORY).withS3(true)
                .withSerialPorts(List.of(SerialPort.COM1, SerialPort.COM2));
    }

    private record Run(int exit, String output) {
    }

    private Run run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    private static List<String> problems(String output) {
        List<String> found = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (PROBLEM.matcher(line).find() && !SUMMARY.matcher(line).find() && !line.contains(FACS_HEADER_QUIRK)
                    && !line.contains("Execution/Debug Utility")) {
                found.add(line);
            }
        }
        return found;
    }

    private List<Path> writeTables(AcpiImage image) throws IOException {
        List<Path> files = new ArrayList<>();
        for (AcpiTableEntry e : image.entries()) {
            Path f = dir.resolve(e.signature().toLowerCase() + ".dat");
            Files.write(f, image.table(e.signature()));
            files.add(f);
        }
        return files;
    }

    private void disassembleAll(AcpiImage image) throws Exception {
        for (Path f : writeTables(image)) {
            Run r = run("iasl", "-d", f.getFileName().toString());
            assertEquals(0, r.exit(), f + ":\n" + r.output());
            assertEquals(List.of(), problems(r.output()), f + ":\n" + r.output());
            assertTrue(Files.exists(dir.resolve(f.getFileName().toString().replace(".dat", ".dsl"))), r.output());
        }
    }

    @Test
    void iaslDisassemblesEveryTable() throws Exception {
        Assumptions.assumeTrue(installed("iasl"), "iasl is not installed (Debian package acpica-tools)");
        disassembleAll(AcpiTables.build(platform(new Topology(2, 4, 1, 1, 4, 1)), AcpiTablesTest.BASE));

        String dsl = Files.readString(dir.resolve("dsdt.dsl"));
        assertTrue(dsl.contains("Name (\\_S5, Package (0x04)"), dsl);
        assertTrue(dsl.contains("Name (_HID, EisaId (\"PNP0501\")"), dsl);
        assertTrue(dsl.contains("WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode"), dsl);
        String madt = Files.readString(dir.resolve("apic.dsl"));
        assertTrue(madt.contains("Runtime Online Capable : 1"), madt);

        // What iasl made of the AML compiles back without a remark.
        Run compile = run("iasl", "-p", "recompiled", "dsdt.dsl");
        assertEquals(0, compile.exit(), compile.output());
        assertTrue(compile.output().contains("0 Errors, 0 Warnings, 0 Remarks"), compile.output());
    }

    @Test
    void iaslDisassemblesTheX2apicMadt() throws Exception {
        Assumptions.assumeTrue(installed("iasl"), "iasl is not installed (Debian package acpica-tools)");
        disassembleAll(AcpiTables.build(platform(new Topology(256, 260, 260, 1, 1, 1)), AcpiTablesTest.BASE));
        assertTrue(Files.readString(dir.resolve("apic.dsl")).contains("Processor x2Apic"));
    }

    @Test
    void acpicaLoadsTheTablesAndEvaluatesTheNamespace() throws Exception {
        Assumptions.assumeTrue(installed("acpiexec"), "acpiexec is not installed (Debian package acpica-tools)");
        writeTables(AcpiTables.build(platform(new Topology(2, 4, 1, 1, 4, 1)), AcpiTablesTest.BASE));
        Run r = run("acpiexec", "-b",
                "evaluate \\_S5; evaluate \\_S3; evaluate \\_SB.C001._STA; evaluate \\_SB.C002._STA; "
                        + "evaluate \\_SB.COM2._CRS; evaluate \\_SB.C003._UID",
                "facp.dat", "facs.dat", "dsdt.dat", "apic.dat");
        String out = r.output();
        assertEquals(0, r.exit(), out);
        assertEquals(List.of(), problems(out), out);
        // ACPICA took our FADT: its GPE0 block (16 GPEs) on the SCI, IRQ 9.
        assertTrue(out.contains("Initialized GPE 00 to 0F [_GPE] 2 regs on interrupt 0x9 (SCI)"), out);
        assertTrue(out.contains("ACPI: FACP") && out.contains("JKVMFACP"), out);
        assertTrue(Pattern.compile("Evaluating \\\\_S5\\s+Evaluation of \\\\_S5 returned object \\S+, external buffer"
                + " length \\w+\\s+\\[Package\\] Contains 4 Elements:(\\s+\\[Integer\\] = 0000000000000000){4}")
                .matcher(out).find(), out);
        assertTrue(Pattern.compile("\\\\_S3 returned .*\\s+\\[Package\\] Contains 4 Elements:"
                + "\\s+\\[Integer\\] = 0000000000000001\\s+\\[Integer\\] = 0000000000000001").matcher(out).find(), out);
        assertTrue(Pattern.compile("C001._STA returned .*\\s+\\[Integer\\] = 000000000000000F").matcher(out).find(), out);
        assertTrue(Pattern.compile("C002._STA returned .*\\s+\\[Integer\\] = 0000000000000000").matcher(out).find(), out);
        assertTrue(Pattern.compile("C003._UID returned .*\\s+\\[Integer\\] = 0000000000000003").matcher(out).find(), out);
        assertTrue(out.contains("47 01 F8 02 F8 02 01 08 22 08 00 79"), out);
    }

    @Test
    void acpicaWouldReportAnInconsistentFadt() throws Exception {
        Assumptions.assumeTrue(installed("acpiexec"), "acpiexec is not installed (Debian package acpica-tools)");
        AcpiImage image = AcpiTables.build(platform(Topology.SINGLE), AcpiTablesTest.BASE);
        writeTables(image);
        // The control: X_PM1a_CNT_BLK claims 8 bits where PM1_CNT_LEN says 2 bytes (checksum kept valid).
        byte[] fadt = image.table("FACP");
        fadt[173] = 8;
        fadt[9] += 8;
        Files.write(dir.resolve("facp.dat"), fadt);
        Run r = run("acpiexec", "-b", "evaluate \\_S5", "facp.dat", "dsdt.dat");
        assertTrue(problems(r.output()).stream().anyMatch(l -> l.contains("length mismatch")), r.output());
    }
}
