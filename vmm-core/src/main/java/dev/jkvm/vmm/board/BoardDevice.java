package dev.jkvm.vmm.board;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One device of the board, as the machine's one device list holds it: where it answers, its IRQ,
 * and what a reset and a resume from S3 do to it. {@link PcDevices#reset()},
 * {@link PcDevices#resetForResume()} and {@code info devices} are all derived from the list.
 *
 * <pre>{@code
 * new BoardDevice("cmos-rtc", List.of(new Range(0x70, 2)), List.of(), 8, rtc::describe, rtc::reset, true);
 * }</pre>
 *
 * @param name what it is, e.g. {@code "i8254 PIT (in KVM)"}
 * @param ports the I/O port ranges it answers, as registered on the port bus (KVM's: where KVM decodes them)
 * @param mmio the guest-physical ranges it answers
 * @param irq its ISA IRQ, or -1
 * @param state its line of state for {@code info devices}
 * @param reset what a PC reset does to it, or null (no state of its own, or reset through another device)
 * @param keptInS3 whether its state survives suspend-to-RAM (battery-backed, or in the suspend well),
 *     so that resuming does not reset it
 */
public record BoardDevice(String name, List<Range> ports, List<Range> mmio, int irq, Supplier<String> state,
                          Runnable reset, boolean keptInS3) {

    /** {@code [base, base + length)} of I/O ports or guest-physical addresses. */
    public record Range(long base, long length) {
        public Range {
            if (length <= 0 || base < 0) {
                throw new IllegalArgumentException(String.format("bad range 0x%x+0x%x", base, length));
            }
        }

        public long last() {
            return base + length - 1;
        }

        public boolean overlaps(Range o) {
            return base <= o.last() && o.base <= last();
        }

        @Override
        public String toString() {
            return length == 1 ? String.format("0x%x", base) : String.format("0x%x-0x%x", base, last());
        }
    }

    public BoardDevice {
        ports = sortedAndJoined(ports);
        mmio = sortedAndJoined(mmio);
    }

    /** A device KVM emulates: listed, never on jkvm's buses, never reset by jkvm. */
    static BoardDevice inKvm(String name, List<Range> ports, List<Range> mmio, int irq) {
        String line = name + " (in KVM)";
        return new BoardDevice(line, ports, mmio, irq, () -> line, null, true);
    }

    /** Where it answers, as {@code info devices} shows it: {@code 0x60,0x64}, {@code 0xe0-0xeb,mmio 0xff000000-0xff00ffff}. */
    public String where() {
        List<String> parts = new ArrayList<>();
        ports.forEach(r -> parts.add(r.toString()));
        mmio.forEach(r -> parts.add("mmio " + r));
        return String.join(",", parts);
    }

    /** Ranges in address order, adjacent ones joined (a device registered as several views is one range to a reader). */
    private static List<Range> sortedAndJoined(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Long.compare(a.base(), b.base()));
        List<Range> out = new ArrayList<>();
        for (Range r : sorted) {
            Range last = out.isEmpty() ? null : out.getLast();
            if (last != null && last.base() + last.length() == r.base()) {
                out.set(out.size() - 1, new Range(last.base(), last.length() + r.length()));
            } else {
                out.add(r);
            }
        }
        return List.copyOf(out);
    }
}
