package dev.jkvm.kvm.abigen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Generates the Java view of the KVM ABI ({@code dev.jkvm.kvm.abi}) from {@code src/abi/kvm-abi.spec}.
 *
 * <p>The spec only names things. Every value, size, offset and array length is asked of the C
 * compiler: the generator lists the headers' macros ({@code gcc -E -dD}), writes a probe program
 * that prints each value with {@code sizeof}/{@code offsetof}, compiles and runs it, and writes one
 * Java class per spec declaration. {@code AbiLayoutTest} runs the same steps and compares the
 * result with the committed sources, so a hand edit or a header change cannot go unnoticed.
 *
 * <p>Run it with {@code kvm-bindings/generate-abi} (a single-file source launch of this class).
 */
public final class AbiGenerator {

    /** The package of the generated classes. */
    public static final String PACKAGE = "dev.jkvm.kvm.abi";

    private static final String CC = System.getenv().getOrDefault("CC", "gcc");

    private AbiGenerator() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: AbiGenerator SPEC OUTPUT-SOURCE-DIR");
            System.exit(2);
        }
        Path out = Path.of(args[1]);
        Path pkg = out.resolve(PACKAGE.replace('.', '/'));
        try {
            Map<String, String> files = generate(Path.of(args[0]));
            Files.createDirectories(pkg);
            try (var old = Files.list(pkg)) {
                for (Path p : old.toList()) {
                    if (p.toString().endsWith(".java") && !files.containsKey(p.getFileName().toString())) {
                        Files.delete(p);
                    }
                }
            }
            for (var e : files.entrySet()) {
                Files.writeString(pkg.resolve(e.getKey()), e.getValue());
            }
            System.out.println("generated " + files.size() + " classes in " + pkg);
        } catch (SpecException e) {
            System.err.println("generate-abi: " + e.getMessage());
            System.exit(1);
        }
    }

    /** A mistake in the spec, or a disagreement between the spec and the compiler. */
    public static final class SpecException extends RuntimeException {
        SpecException(String message) {
            super(message);
        }
    }

    /** Generates every class; returns file name ({@code KvmRun.java}) to content, in spec order. */
    public static Map<String, String> generate(Path specFile) {
        Spec spec = Spec.parse(read(specFile));
        Path work;
        try {
            work = Files.createTempDirectory("jkvm-abigen");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            List<Macro> macros = listMacros(spec, work);
            Probe probe = new Probe(spec, macros);
            Map<String, String> facts = probe.run(work);
            Map<String, String> files = new LinkedHashMap<>();
            for (Decl d : spec.decls) {
                String src = switch (d) {
                    case ConstClass c -> new ConstWriter(c, probe, facts).write();
                    case StructDecl s -> new StructWriter(s, facts).write();
                };
                files.put(d.className() + ".java", src);
            }
            return files;
        } finally {
            deleteTree(work);
        }
    }

    // ---------------------------------------------------------------- the spec

    sealed interface Decl permits ConstClass, StructDecl {
        String className();
    }

    /** {@code constants Class [int|long] [<h>...]} and its items. */
    static final class ConstClass implements Decl {
        final String name;
        final String type; // null: per constant
        final List<String> headers;
        final List<String> doc;
        final List<String[]> items = new ArrayList<>();

        ConstClass(String name, String type, List<String> headers, List<String> doc) {
            this.name = name;
            this.type = type;
            this.headers = headers;
            this.doc = doc;
        }

        @Override
        public String className() {
            return name;
        }
    }

    /** An aggregate: the top-level struct of a spec declaration, or an inline struct/union member. */
    static final class Aggregate {
        final String name; // null when anonymous in C
        final boolean union;
        final List<Object> members = new ArrayList<>(); // Field or Aggregate

        Aggregate(String name, boolean union) {
            this.name = name;
            this.union = union;
        }
    }

    /** A scalar or struct-typed member, possibly an array. */
    record Field(String type, String name, int dims, boolean flexible) {
        boolean scalar() {
            return SCALARS.containsKey(type);
        }
    }

    /** {@code struct Class = c_tag {...}}. */
    static final class StructDecl implements Decl {
        final String name;
        final String cType; // "struct kvm_run"
        final List<String> doc;
        final Aggregate body;

        StructDecl(String name, String cType, boolean union, List<String> doc) {
            this.name = name;
            this.cType = cType;
            this.doc = doc;
            this.body = new Aggregate(null, union);
        }

        @Override
        public String className() {
            return name;
        }
    }

    /** Scalar type names of the spec and their sizes. */
    static final Map<String, Integer> SCALARS = Map.of("u8", 1, "s8", 1, "u16", 2, "s16", 2, "u32", 4, "s32", 4,
            "u64", 8, "s64", 8);

    static final class Spec {
        final List<String> includes = new ArrayList<>();
        final List<Decl> decls = new ArrayList<>();

        static Spec parse(String text) {
            Spec spec = new Spec();
            List<String> doc = new ArrayList<>();
            ConstClass consts = null;
            List<Aggregate> stack = new ArrayList<>();
            int lineNo = 0;
            for (String raw : text.split("\n", -1)) {
                lineNo++;
                String where = "kvm-abi.spec:" + lineNo + ": ";
                if (raw.startsWith("///")) {
                    doc.add(raw);
                    continue;
                }
                int hash = raw.indexOf('#');
                String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
                if (line.isEmpty()) {
                    continue;
                }
                String[] t = line.split("\\s+");
                boolean indented = Character.isWhitespace(raw.charAt(0));
                if (!stack.isEmpty()) {
                    parseMember(t, stack, where);
                    continue;
                }
                if (indented) {
                    if (consts == null) {
                        throw new SpecException(where + "an item outside a constants declaration");
                    }
                    consts.items.add(t);
                    continue;
                }
                consts = null;
                switch (t[0]) {
                    case "include" -> {
                        requireHeader(t.length == 2 ? t[1] : "", where);
                        spec.includes.add(t[1]);
                    }
                    case "constants" -> {
                        if (t.length < 2) {
                            throw new SpecException(where + "constants needs a class name");
                        }
                        String type = null;
                        List<String> headers = new ArrayList<>();
                        for (int i = 2; i < t.length; i++) {
                            if (t[i].equals("int") || t[i].equals("long")) {
                                type = t[i];
                            } else {
                                requireHeader(t[i], where);
                                headers.add(t[i]);
                            }
                        }
                        consts = new ConstClass(t[1], type, headers, List.copyOf(doc));
                        spec.decls.add(consts);
                    }
                    case "struct", "union" -> {
                        // struct Class = c_tag [<h>] {
                        if (t.length < 5 || !t[2].equals("=") || !t[t.length - 1].equals("{")) {
                            throw new SpecException(where + "expected '" + t[0] + " Class = c_tag {'");
                        }
                        StructDecl s = new StructDecl(t[1], t[0] + " " + t[3], t[0].equals("union"), List.copyOf(doc));
                        spec.decls.add(s);
                        stack.add(s.body);
                    }
                    default -> throw new SpecException(where + "unknown declaration '" + t[0] + "'");
                }
                doc.clear();
            }
            if (!stack.isEmpty()) {
                throw new SpecException("kvm-abi.spec: a struct is not closed with '}'");
            }
            return spec;
        }

        private static void requireHeader(String h, String where) {
            if (!h.startsWith("<") || !h.endsWith(">")) {
                throw new SpecException(where + "expected a header in <>: '" + h + "'");
            }
        }

        private static void parseMember(String[] t, List<Aggregate> stack, String where) {
            Aggregate top = stack.getLast();
            if (t[0].equals("}")) {
                stack.removeLast();
                return;
            }
            if ((t[0].equals("struct") || t[0].equals("union")) && t[t.length - 1].equals("{")) {
                Aggregate inner = new Aggregate(t.length == 3 ? t[1] : null, t[0].equals("union"));
                top.members.add(inner);
                stack.add(inner);
                return;
            }
            if (t.length < 2) {
                throw new SpecException(where + "expected 'TYPE name...'");
            }
            String type = t[0];
            if (!SCALARS.containsKey(type) && !Character.isUpperCase(type.charAt(0))) {
                throw new SpecException(where + "unknown type '" + type + "'");
            }
            for (int i = 1; i < t.length; i++) {
                String n = t[i];
                boolean flexible = n.endsWith("[*]");
                int dims = 0;
                if (flexible) {
                    n = n.substring(0, n.length() - 3);
                } else {
                    while (n.endsWith("[]")) {
                        n = n.substring(0, n.length() - 2);
                        dims++;
                    }
                }
                if (!n.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw new SpecException(where + "bad member name '" + t[i] + "'");
                }
                top.members.add(new Field(type, n, dims, flexible));
            }
        }
    }

    // ---------------------------------------------------------------- the headers' macros

    /** An object-like macro and the header that defined it. */
    record Macro(String name, String file) {
    }

    private static List<Macro> listMacros(Spec spec, Path work) {
        StringBuilder src = new StringBuilder("#define _GNU_SOURCE\n");
        for (String h : spec.includes) {
            src.append("#include ").append(h).append('\n');
        }
        Path c = work.resolve("macros.c");
        write(c, src.toString());
        String out = exec(work, CC, "-E", "-dD", c.toString());
        List<Macro> macros = new ArrayList<>();
        String file = "";
        for (String line : out.split("\n")) {
            if (line.startsWith("# ")) {
                int q = line.indexOf('"');
                if (q > 0) {
                    file = line.substring(q + 1, line.indexOf('"', q + 1));
                }
            } else if (line.startsWith("#define ")) {
                String rest = line.substring(8);
                int end = 0;
                while (end < rest.length() && (Character.isLetterOrDigit(rest.charAt(end)) || rest.charAt(end) == '_')) {
                    end++;
                }
                String name = rest.substring(0, end);
                String body = rest.substring(end).strip();
                boolean functionLike = end < rest.length() && rest.charAt(end) == '(';
                if (!functionLike && !body.isEmpty() && !body.startsWith("\"") && !body.startsWith("'")) {
                    macros.add(new Macro(name, file));
                }
            }
        }
        return macros;
    }

    // ---------------------------------------------------------------- the probe

    /** The C program that prints every value the spec asks for, one {@code key value} a line. */
    static final class Probe {
        final Spec spec;
        final List<Macro> macros;
        final StringBuilder body = new StringBuilder();
        /** Per constants class: the constant names, in order, with their expressions. */
        final Map<ConstClass, LinkedHashMap<String, String>> constants = new HashMap<>();
        final Map<ConstClass, Set<String>> optional = new HashMap<>();

        Probe(Spec spec, List<Macro> macros) {
            this.spec = spec;
            this.macros = macros;
            for (Decl d : spec.decls) {
                switch (d) {
                    case ConstClass c -> constants(c);
                    case StructDecl s -> struct(s);
                }
            }
        }

        private void constants(ConstClass c) {
            LinkedHashMap<String, String> names = new LinkedHashMap<>();
            Set<String> opt = new LinkedHashSet<>();
            constants.put(c, names);
            optional.put(c, opt);
            for (String[] t : c.items) {
                String first = t[0];
                if (first.equals("errno-table")) {
                    body.append("  for (int e = 1; e < 4096; e++) { const char *n = strerrorname_np(e);\n")
                            .append("    if (n) printf(\"errno.").append(c.name).append(" %d %s\\n\", e, n);\n")
                            .append("    const char *d = strerrordesc_np(e); if (n && d) printf(\"errdesc.")
                            .append(c.name).append(" %d %s\\n\", e, d); }\n");
                    continue;
                }
                if (first.equals("names")) {
                    continue; // written by ConstWriter from the values
                }
                int eq = indexOf(t, "=");
                if (eq > 0) {
                    String name = t[eq - 1];
                    String expr = String.join(" ", List.of(t).subList(eq + 1, t.length));
                    names.put(name, expr);
                    value(c.name + "." + name, expr);
                    continue;
                }
                List<String> excludes = new ArrayList<>();
                for (String s : t) {
                    if (s.startsWith("-")) {
                        excludes.add(s.substring(1));
                    }
                }
                for (String s : t) {
                    if (s.startsWith("-")) {
                        continue;
                    }
                    if (s.endsWith("*")) {
                        int before = names.size();
                        for (Macro m : macros) {
                            if (glob(s, m.name) && excludes.stream().noneMatch(x -> glob(x, m.name))
                                    && inHeaders(m, c.headers) && !names.containsKey(m.name)) {
                                names.put(m.name, m.name);
                                value(c.name + "." + m.name, m.name);
                            }
                        }
                        if (names.size() == before) {
                            throw new SpecException(c.name + ": no macro matches " + s);
                        }
                    } else if (s.endsWith("?")) {
                        String n = s.substring(0, s.length() - 1);
                        opt.add(n);
                        names.put(n, n);
                        body.append("#ifdef ").append(n).append('\n');
                        value(c.name + "." + n, n);
                        body.append("#endif\n");
                    } else {
                        names.put(s, s);
                        value(c.name + "." + s, s);
                    }
                }
            }
        }

        private static boolean inHeaders(Macro m, List<String> headers) {
            if (headers.isEmpty()) {
                return true;
            }
            for (String h : headers) {
                if (m.file.endsWith("/" + h.substring(1, h.length() - 1))) {
                    return true;
                }
            }
            return false;
        }

        private void value(String key, String expr) {
            body.append("  printf(\"").append(key).append(" %lld\\n\", (long long)(").append(expr).append("));\n");
        }

        private void struct(StructDecl s) {
            String t = s.cType;
            value(s.name + ".SIZEOF", "sizeof(" + t + ")");
            value(s.name + ".ALIGNOF", "_Alignof(" + t + ")");
            members(s, s.body, "", "");
        }

        private void members(StructDecl s, Aggregate a, String cPath, String javaPath) {
            for (Object o : a.members) {
                switch (o) {
                    case Field f -> field(s, f, join(cPath, f.name(), "."), join(javaPath, f.name(), "_"));
                    case Aggregate inner -> {
                        if (inner.name == null) {
                            members(s, inner, cPath, javaPath);
                        } else {
                            String cp = join(cPath, inner.name, ".");
                            String jp = join(javaPath, inner.name, "_");
                            String x = "((" + s.cType + " *)0)->" + cp;
                            value(s.name + "." + jp + ".off", "offsetof(" + s.cType + ", " + cp + ")");
                            value(s.name + "." + jp + ".size", "sizeof(" + x + ")");
                            members(s, inner, cp, jp);
                        }
                    }
                    default -> throw new IllegalStateException();
                }
            }
        }

        private void field(StructDecl s, Field f, String cPath, String jp) {
            String key = s.name + "." + jp;
            String x = "((" + s.cType + " *)0)->" + cPath;
            value(key + ".off", "offsetof(" + s.cType + ", " + cPath + ")");
            String elem = x;
            if (f.flexible()) {
                elem = x + "[0]";
            } else {
                value(key + ".size", "sizeof(" + x + ")");
                for (int d = 1; d <= f.dims(); d++) {
                    value(key + ".len" + d, "sizeof(" + elem + ") / sizeof(" + elem + "[0])");
                    elem = elem + "[0]";
                }
            }
            value(key + ".esize", "sizeof(" + elem + ")");
            if (f.scalar()) {
                value(key + ".kind", "KIND(" + elem + ")");
            } else {
                StructDecl ref = structNamed(f.type());
                value(key + ".compatible", "__builtin_types_compatible_p(__typeof__(" + elem + "), " + ref.cType + ")");
            }
        }

        StructDecl structNamed(String name) {
            for (Decl d : spec.decls) {
                if (d instanceof StructDecl s && s.name.equals(name)) {
                    return s;
                }
            }
            throw new SpecException("no struct " + name + " in the spec");
        }

        Map<String, String> run(Path work) {
            StringBuilder src = new StringBuilder("#define _GNU_SOURCE\n");
            for (String h : spec.includes) {
                src.append("#include ").append(h).append('\n');
            }
            src.append("#include <stddef.h>\n#include <stdio.h>\n#include <string.h>\n\n")
                    .append("/* 0 unsigned, 1 signed, 2 plain char, 3 not an integer (a union read as one) */\n")
                    .append("#define KIND(x) _Generic((x), char: 2, signed char: 1, short: 1, int: 1, long: 1, long long: 1, \\\n")
                    .append("    unsigned char: 0, unsigned short: 0, unsigned int: 0, unsigned long: 0, unsigned long long: 0, default: 3)\n")
                    .append("\nint main(void) {\n")
                    .append(body).append("  return 0;\n}\n");
            Path c = work.resolve("probe.c");
            write(c, src.toString());
            Path exe = work.resolve("probe");
            exec(work, CC, "-std=gnu11", "-O0", "-w", "-o", exe.toString(), c.toString());
            String out = exec(work, exe.toString());
            Map<String, String> facts = new HashMap<>();
            for (String line : out.split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                int sp = line.indexOf(' ');
                String key = line.substring(0, sp);
                String v = line.substring(sp + 1);
                if (key.startsWith("errno.") || key.startsWith("errdesc.")) {
                    int sp2 = v.indexOf(' ');
                    key = key + "." + v.substring(0, sp2);
                    v = v.substring(sp2 + 1);
                }
                facts.put(key, v);
            }
            return facts;
        }
    }

    private static int indexOf(String[] t, String s) {
        for (int i = 0; i < t.length; i++) {
            if (t[i].equals(s)) {
                return i;
            }
        }
        return -1;
    }

    private static String join(String a, String b, String sep) {
        return a.isEmpty() ? b : a + sep + b;
    }

    static boolean glob(String pattern, String name) {
        if (pattern.equals("*")) {
            return true;
        }
        return pattern.endsWith("*") ? name.startsWith(pattern.substring(0, pattern.length() - 1)) : name.equals(pattern);
    }

    // ---------------------------------------------------------------- Java output

    private static final String HEADER = """
            // Generated by kvm-bindings/generate-abi from kvm-bindings/src/abi/kvm-abi.spec: every value
            // below was printed by a C probe compiled against the installed headers. Do not edit; change
            // the spec and regenerate (AbiLayoutTest fails while this file and the headers disagree).
            package dev.jkvm.kvm.abi;

            """;

    private static void doc(StringBuilder sb, List<String> doc, String fallback) {
        if (doc.isEmpty()) {
            sb.append("/// ").append(fallback).append('\n');
        } else {
            for (String d : doc) {
                sb.append(d).append('\n');
            }
        }
    }

    static final class ConstWriter {
        final ConstClass c;
        final Probe probe;
        final Map<String, String> facts;

        ConstWriter(ConstClass c, Probe probe, Map<String, String> facts) {
            this.c = c;
            this.probe = probe;
            this.facts = facts;
        }

        String write() {
            // Every constant with its value, in order (the errno table first where it stands).
            LinkedHashMap<String, Long> values = new LinkedHashMap<>();
            Map<Integer, String> descriptions = new TreeMap<>();
            LinkedHashMap<String, String> declared = probe.constants.get(c);
            List<String> order = new ArrayList<>();
            boolean tableDone = false;
            for (String[] t : c.items) {
                if (t[0].equals("errno-table") && !tableDone) {
                    tableDone = true;
                    TreeMap<Integer, String> byValue = new TreeMap<>();
                    String prefix = "errno." + c.name + ".";
                    for (var e : facts.entrySet()) {
                        if (e.getKey().startsWith(prefix)) {
                            byValue.put(Integer.parseInt(e.getKey().substring(prefix.length())), e.getValue());
                        }
                    }
                    for (var e : byValue.entrySet()) {
                        values.putIfAbsent(e.getValue(), (long) e.getKey());
                        order.add(e.getValue());
                        String d = facts.get("errdesc." + c.name + "." + e.getKey());
                        if (d != null) {
                            descriptions.put(e.getKey(), d);
                        }
                    }
                }
            }
            for (String name : declared.keySet()) {
                String v = facts.get(c.name + "." + name);
                if (v == null) {
                    if (probe.optional.get(c).contains(name)) {
                        continue;
                    }
                    throw new SpecException(c.name + "." + name + ": the probe printed no value");
                }
                if (!values.containsKey(name)) {
                    values.put(name, Long.parseLong(v));
                    order.add(name);
                }
            }

            StringBuilder sb = new StringBuilder(HEADER);
            doc(sb, c.doc, "Constants of the C headers.");
            sb.append("public final class ").append(c.name).append(" {\n\n    private ").append(c.name)
                    .append("() {\n    }\n");
            for (String name : order) {
                long v = values.get(name);
                String type = typeOf(v);
                sb.append("\n    public static final ").append(type).append(' ').append(name).append(" = ")
                        .append(literal(v, type)).append(';');
            }
            sb.append('\n');
            for (String[] t : c.items) {
                if (t[0].equals("names")) {
                    names(sb, t, order, values);
                }
            }
            if (!descriptions.isEmpty()) {
                sb.append("\n    /** What {@code strerrordesc_np} says of {@code errno}. */\n")
                        .append("    public static String description(int errno) {\n        return switch (errno) {\n");
                for (var e : descriptions.entrySet()) {
                    sb.append("            case ").append(e.getKey()).append(" -> \"")
                            .append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\"")).append("\";\n");
                }
                sb.append("            default -> \"Unknown error \" + errno;\n        };\n    }\n");
            }
            sb.append("}\n");
            return sb.toString();
        }

        private String typeOf(long v) {
            if (c.type != null) {
                if (c.type.equals("int") && (v < Integer.MIN_VALUE || v > 0xffff_ffffL)) {
                    throw new SpecException(c.name + ": " + v + " does not fit an int");
                }
                return c.type;
            }
            return v >= Integer.MIN_VALUE && v <= 0xffff_ffffL ? "int" : "long";
        }

        private static String literal(long v, String type) {
            if (type.equals("int")) {
                return v > Integer.MAX_VALUE ? "0x" + Long.toHexString(v) : Long.toString(v);
            }
            return v < 0 || v > 0xff ? "0x" + Long.toHexString(v) + "L" : v + "L";
        }

        /** {@code names METHOD WORD dec|hex PATTERN... [-EXCLUDE...]}. */
        private void names(StringBuilder sb, String[] t, List<String> order, Map<String, Long> values) {
            if (t.length < 5) {
                throw new SpecException(c.name + ": names METHOD WORD dec|hex PATTERN...");
            }
            String method = t[1];
            String word = t[2];
            boolean hex = t[3].equals("hex");
            List<String> include = new ArrayList<>();
            List<String> exclude = new ArrayList<>();
            for (int i = 4; i < t.length; i++) {
                (t[i].startsWith("-") ? exclude : include).add(t[i].startsWith("-") ? t[i].substring(1) : t[i]);
            }
            LinkedHashMap<Long, String> first = new LinkedHashMap<>();
            boolean wide = false;
            for (String n : order) {
                if (include.stream().anyMatch(p -> glob(p, n)) && exclude.stream().noneMatch(p -> glob(p, n))) {
                    first.putIfAbsent(values.get(n), n);
                    wide |= typeOf(values.get(n)).equals("long");
                }
            }
            String param = wide ? "long" : "int";
            sb.append("\n    /** The name of {@code value}, or \"").append(word).append(" <value>\" when none has it. */\n")
                    .append("    public static String ").append(method).append('(').append(param).append(" value) {\n");
            if (wide) {
                for (var e : first.entrySet()) {
                    sb.append("        if (value == ").append(e.getValue()).append(") {\n            return \"")
                            .append(e.getValue()).append("\";\n        }\n");
                }
                sb.append("        return \"").append(word).append(' ')
                        .append(hex ? "0x\" + Long.toHexString(value)" : "\" + value").append(";\n    }\n");
            } else {
                sb.append("        return switch (value) {\n");
                for (var e : first.entrySet()) {
                    sb.append("            case ").append(e.getValue()).append(" -> \"").append(e.getValue()).append("\";\n");
                }
                sb.append("            default -> \"").append(word).append(' ')
                        .append(hex ? "0x\" + Integer.toHexString(value)" : "\" + value").append(";\n        };\n    }\n");
            }
        }
    }

    static final class StructWriter {
        final StructDecl s;
        final Map<String, String> facts;
        final StringBuilder fields = new StringBuilder();
        final Set<String> javaNames = new LinkedHashSet<>();

        StructWriter(StructDecl s, Map<String, String> facts) {
            this.s = s;
            this.facts = facts;
        }

        private long fact(String key) {
            String v = facts.get(s.name + "." + key);
            if (v == null) {
                throw new SpecException(s.name + ": the probe printed no " + key);
            }
            return Long.parseLong(v);
        }

        String write() {
            long size = fact("SIZEOF");
            long align = fact("ALIGNOF");
            Built body = build(s.body, "", "", 0, size);
            StringBuilder sb = new StringBuilder(HEADER);
            sb.append("import java.lang.foreign.MemoryLayout;\nimport java.lang.foreign.StructLayout;\n");
            if (body.layout.contains("ValueLayout.")) {
                sb.append("import java.lang.foreign.ValueLayout;\n");
            }
            sb.append('\n');
            doc(sb, s.doc, "`" + s.cType + "`: its size, the offset of each member, and its `MemoryLayout`.");
            sb.append("public final class ").append(s.name).append(" {\n\n    private ").append(s.name)
                    .append("() {\n    }\n\n");
            sb.append("    /** {@code sizeof(").append(s.cType).append(")}. */\n    public static final long SIZEOF = ")
                    .append(size).append("L;\n");
            sb.append("\n    /** {@code _Alignof(").append(s.cType).append(")}. */\n    public static final long ALIGNOF = ")
                    .append(align).append("L;\n");
            sb.append(fields);
            String layout = s.body.union ? "MemoryLayout.structLayout(" + body.layout + ")" : body.layout;
            sb.append("\n    /** The layout of {@code ").append(s.cType).append("}; flexible array members are left out. */\n")
                    .append("    public static final StructLayout LAYOUT = ").append(layout).append(".withName(\"")
                    .append(s.cType.substring(s.cType.indexOf(' ') + 1)).append("\");\n}\n");
            return sb.toString();
        }

        /** A layout expression, where it starts (absolute) and how many bytes it spans. */
        record Built(String layout, long start, long size, long align) {
        }

        private Built build(Aggregate a, String cPath, String javaPath, long knownStart, long knownSize) {
            List<Built> parts = new ArrayList<>();
            long start = knownStart;
            for (Object o : a.members) {
                switch (o) {
                    case Field f -> {
                        Built b = field(f, join(cPath, f.name(), "."), join(javaPath, f.name(), "_"));
                        if (b != null) {
                            parts.add(b);
                        }
                    }
                    case Aggregate inner -> {
                        String jp = inner.name == null ? javaPath : join(javaPath, inner.name, "_");
                        String cp = inner.name == null ? cPath : join(cPath, inner.name, ".");
                        long st = -1;
                        long sz = -1;
                        if (inner.name != null) {
                            st = fact(jp + ".off");
                            sz = fact(jp + ".size");
                            constant(jp, st, "{@code offsetof(" + s.cType + ", " + cp + ")}");
                        } else if (a.union) {
                            st = start;
                        }
                        Built b = build(inner, cp, jp, st, sz);
                        if (inner.name != null) {
                            b = new Built(b.layout + ".withName(\"" + inner.name + "\")", b.start, b.size, b.align);
                        }
                        parts.add(b);
                    }
                    default -> throw new IllegalStateException();
                }
            }
            if (parts.isEmpty()) {
                throw new SpecException(s.name + ": an empty aggregate");
            }
            if (start < 0) {
                start = parts.getFirst().start; // anonymous struct: it begins with its first member
            }
            long align = 1;
            for (Built b : parts) {
                align = Math.max(align, b.align);
            }
            List<String> elems = new ArrayList<>();
            long end;
            if (a.union) {
                end = start;
                for (Built b : parts) {
                    if (b.start != start) {
                        throw new SpecException(s.name + ": a union member does not start at the union's start");
                    }
                    elems.add(b.layout);
                    end = Math.max(end, b.start + b.size);
                }
                long size = knownSize >= 0 ? knownSize : end - start;
                if (size > end - start) {
                    elems.add("MemoryLayout.paddingLayout(" + size + ")");
                }
                return new Built("MemoryLayout.unionLayout(" + list(elems) + ")", start, size, align);
            }
            long cursor = start;
            for (Built b : parts) {
                if (b.start < cursor) {
                    throw new SpecException(s.name + ": members out of order or overlapping at offset " + b.start
                            + " (" + b.layout + ")");
                }
                if (b.start > cursor) {
                    elems.add("MemoryLayout.paddingLayout(" + (b.start - cursor) + ")");
                }
                elems.add(b.layout);
                cursor = b.start + b.size;
            }
            long size = knownSize >= 0 ? knownSize : cursor - start;
            if (start + size > cursor) {
                elems.add("MemoryLayout.paddingLayout(" + (start + size - cursor) + ")");
            } else if (start + size < cursor) {
                throw new SpecException(s.name + ": members run past the end of their struct");
            }
            return new Built("MemoryLayout.structLayout(" + list(elems) + ")", start, size, align);
        }

        private static String list(List<String> elems) {
            return "\n" + String.join(",\n", elems.stream().map(e -> "            " + e.replace("\n", "\n    ")).toList());
        }

        private Built field(Field f, String cPath, String jp) {
            long off = fact(jp + ".off");
            long esize = fact(jp + ".esize");
            constant(jp, off, "{@code offsetof(" + s.cType + ", " + cPath + ")}");
            String elemLayout;
            long elemAlign;
            if (f.scalar()) {
                int want = SCALARS.get(f.type());
                if (esize != want) {
                    throw new SpecException(s.name + "." + cPath + ": declared " + f.type() + " but C says " + esize + " bytes");
                }
                long kind = fact(jp + ".kind");
                boolean signedDecl = f.type().startsWith("s");
                if ((kind == 0 && signedDecl) || (kind == 1 && !signedDecl)) {
                    throw new SpecException(s.name + "." + cPath + ": declared " + f.type() + " but C's type is "
                            + (kind == 1 ? "signed" : "unsigned"));
                }
                elemLayout = switch (want) {
                    case 1 -> "ValueLayout.JAVA_BYTE";
                    case 2 -> "ValueLayout.JAVA_SHORT";
                    case 4 -> "ValueLayout.JAVA_INT";
                    default -> "ValueLayout.JAVA_LONG";
                };
                elemAlign = want;
            } else {
                if (fact(jp + ".compatible") == 0) {
                    throw new SpecException(s.name + "." + cPath + ": its C type is not the struct of " + f.type());
                }
                elemLayout = f.type() + ".LAYOUT";
                elemAlign = fact2(f.type(), "ALIGNOF");
                if (fact2(f.type(), "SIZEOF") != esize) {
                    throw new SpecException(s.name + "." + cPath + ": size differs from " + f.type());
                }
            }
            if (f.flexible()) {
                return null; // offset only
            }
            long size = fact(jp + ".size");
            String layout = elemLayout;
            long count = size / esize;
            if (f.dims() >= 1) {
                long len1 = fact(jp + ".len1");
                constant(jp + "_LENGTH", len1, "The number of elements of {@code " + cPath + "}");
                if (f.dims() == 2) {
                    long len2 = fact(jp + ".len2");
                    constant(jp + "_LENGTH2", len2, "The length of each element of {@code " + cPath + "}");
                    layout = "MemoryLayout.sequenceLayout(" + len1 + ", MemoryLayout.sequenceLayout(" + len2 + ", "
                            + elemLayout + "))";
                } else {
                    layout = "MemoryLayout.sequenceLayout(" + len1 + ", " + elemLayout + ")";
                }
            } else if (count != 1) {
                throw new SpecException(s.name + "." + cPath + ": an array in C; declare it with []");
            }
            if (off % elemAlign != 0) {
                layout = layout + ".withByteAlignment(" + Long.lowestOneBit(off == 0 ? 1 : off) + ")";
                elemAlign = Long.lowestOneBit(off);
            }
            return new Built(layout + ".withName(\"" + f.name() + "\")", off, size, elemAlign);
        }

        private long fact2(String structName, String key) {
            String v = facts.get(structName + "." + key);
            if (v == null) {
                throw new SpecException(s.name + ": " + structName + " must be declared before it is used");
            }
            return Long.parseLong(v);
        }

        private void constant(String javaPath, long value, String what) {
            String name = javaPath.toUpperCase(Locale.ROOT);
            if (!javaNames.add(name)) {
                throw new SpecException(s.name + ": two members map to the Java name " + name);
            }
            fields.append("\n    /** ").append(what.replace("*/", "* /")).append(". */\n    public static final long ")
                    .append(name).append(" = ").append(value).append("L;\n");
        }
    }

    // ---------------------------------------------------------------- small helpers

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new SpecException("cannot read " + p + ": " + e.getMessage());
        }
    }

    private static void write(Path p, String s) {
        try {
            Files.writeString(p, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String exec(Path dir, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new SpecException(cmd[0] + " did not finish");
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new SpecException(String.join(" ", cmd) + " failed:\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new SpecException("cannot run " + cmd[0] + ": " + e.getMessage() + " (install gcc)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpecException("interrupted");
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
    }
}
