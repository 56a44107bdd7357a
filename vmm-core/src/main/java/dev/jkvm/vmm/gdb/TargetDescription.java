package dev.jkvm.vmm.gdb;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The target description XML served as {@code qXfer:features:read:target.xml}: architecture
 * {@code i386:x86-64} and one feature per register group, generated from {@link RegisterLayout}
 * so that the order gdb expects in a {@code g} packet is the order jkvm sends. gdb requires the
 * core feature to hold the x87 registers and the sse feature XMM0-15 + MXCSR; fs_base/gs_base in
 * the segments feature make {@code $fs_base} work; the control registers go in a jkvm feature.
 *
 * <pre>{@code
 * String xml = TargetDescription.xml();
 * }</pre>
 */
final class TargetDescription {

    private static final String EFLAGS_TYPE = """
                <flags id="i386_eflags" size="4">
                  <field name="CF" start="0" end="0"/>
                  <field name="" start="1" end="1"/>
                  <field name="PF" start="2" end="2"/>
                  <field name="AF" start="4" end="4"/>
                  <field name="ZF" start="6" end="6"/>
                  <field name="SF" start="7" end="7"/>
                  <field name="TF" start="8" end="8"/>
                  <field name="IF" start="9" end="9"/>
                  <field name="DF" start="10" end="10"/>
                  <field name="OF" start="11" end="11"/>
                  <field name="NT" start="14" end="14"/>
                  <field name="RF" start="16" end="16"/>
                  <field name="VM" start="17" end="17"/>
                  <field name="AC" start="18" end="18"/>
                  <field name="VIF" start="19" end="19"/>
                  <field name="VIP" start="20" end="20"/>
                  <field name="ID" start="21" end="21"/>
                </flags>
            """;

    private static final String SSE_TYPES = """
                <vector id="v4f" type="ieee_single" count="4"/>
                <vector id="v2d" type="ieee_double" count="2"/>
                <vector id="v16i8" type="int8" count="16"/>
                <vector id="v8i16" type="int16" count="8"/>
                <vector id="v4i32" type="int32" count="4"/>
                <vector id="v2i64" type="int64" count="2"/>
                <union id="vec128">
                  <field name="v4_float" type="v4f"/>
                  <field name="v2_double" type="v2d"/>
                  <field name="v16_int8" type="v16i8"/>
                  <field name="v8_int16" type="v8i16"/>
                  <field name="v4_int32" type="v4i32"/>
                  <field name="v2_int64" type="v2i64"/>
                  <field name="uint128" type="uint128"/>
                </union>
                <flags id="i386_mxcsr" size="4">
                  <field name="IE" start="0" end="0"/>
                  <field name="DE" start="1" end="1"/>
                  <field name="ZE" start="2" end="2"/>
                  <field name="OE" start="3" end="3"/>
                  <field name="UE" start="4" end="4"/>
                  <field name="PE" start="5" end="5"/>
                  <field name="DAZ" start="6" end="6"/>
                  <field name="IM" start="7" end="7"/>
                  <field name="DM" start="8" end="8"/>
                  <field name="ZM" start="9" end="9"/>
                  <field name="OM" start="10" end="10"/>
                  <field name="UM" start="11" end="11"/>
                  <field name="PM" start="12" end="12"/>
                  <field name="FZ" start="15" end="15"/>
                </flags>
            """;

    private static final String XML = build();

    private TargetDescription() {
    }

    static String xml() {
        return XML;
    }

    private static String build() {
        Map<String, StringBuilder> features = new LinkedHashMap<>();
        for (RegisterLayout.Register r : RegisterLayout.registers()) {
            StringBuilder f = features.computeIfAbsent(r.feature(), name -> new StringBuilder(types(name)));
            f.append("    <reg name=\"").append(r.name()).append("\" bitsize=\"").append(r.bits())
                    .append("\" type=\"").append(r.type()).append("\" regnum=\"").append(r.number()).append('"');
            if (r.group() != null) {
                f.append(" group=\"").append(r.group()).append('"');
            }
            f.append("/>\n");
        }
        StringBuilder xml = new StringBuilder("""
                <?xml version="1.0"?>
                <!DOCTYPE target SYSTEM "gdb-target.dtd">
                <target version="1.0">
                  <architecture>i386:x86-64</architecture>
                """);
        features.forEach((name, body) ->
                xml.append("  <feature name=\"").append(name).append("\">\n").append(body).append("  </feature>\n"));
        return xml.append("</target>\n").toString();
    }

    private static String types(String feature) {
        return switch (feature) {
            case RegisterLayout.CORE -> EFLAGS_TYPE;
            case RegisterLayout.SSE -> SSE_TYPES;
            default -> "";
        };
    }

    /** The names of the features, in order (for tests and logs). */
    static List<String> features() {
        return RegisterLayout.registers().stream().map(RegisterLayout.Register::feature).distinct().toList();
    }
}
