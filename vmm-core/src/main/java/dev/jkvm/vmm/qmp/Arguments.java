package dev.jkvm.vmm.qmp;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A command's arguments checked against its parameters the way QEMU's input visitor checks them,
 * with its messages: members in declaration order (a wrong type or a missing one first), then any
 * member the command does not take.
 *
 * <pre>{@code
 * Arguments a = Arguments.check(args, List.of(Param.required("val", Type.INT), Param.optional("cpu-index", Type.INT)));
 * long val = a.integer("val");
 * }</pre>
 */
final class Arguments {

    /** QAPI's types as far as jkvm's commands use them. */
    enum Type {
        INT("integer"), STR("string"), BOOL("boolean"), LIST("array"), OBJECT("object");

        final String jsonName;

        Type(String jsonName) {
            this.jsonName = jsonName;
        }
    }

    /** One parameter; {@code values} names an enum's members (empty: any value of the type). */
    record Param(String name, Type type, boolean required, Set<String> values) {
        static Param required(String name, Type type) {
            return new Param(name, type, true, Set.of());
        }

        static Param optional(String name, Type type) {
            return new Param(name, type, false, Set.of());
        }

        static Param requiredEnum(String name, String... values) {
            return new Param(name, Type.STR, true, Set.of(values));
        }
    }

    private final Map<String, Object> values;

    private Arguments(Map<String, Object> values) {
        this.values = values;
    }

    /** Checks {@code args} (the request's "arguments", empty when absent) against {@code params}. */
    static Arguments check(Map<String, Object> args, List<Param> params) {
        for (Param p : params) {
            if (!args.containsKey(p.name())) {
                if (p.required()) {
                    throw QmpError.generic("Parameter '" + p.name() + "' is missing");
                }
                continue;
            }
            Object v = args.get(p.name());
            checkType(p.name(), v, p.type());
            if (!p.values().isEmpty() && !p.values().contains(v)) {
                throw QmpError.generic("Parameter '" + p.name() + "' does not accept value '" + v + "'");
            }
        }
        for (String name : args.keySet()) {
            if (params.stream().noneMatch(p -> p.name().equals(name))) {
                throw QmpError.generic("Parameter '" + name + "' is unexpected");
            }
        }
        return new Arguments(args);
    }

    static void checkType(String name, Object v, Type type) {
        boolean ok = switch (type) {
            case INT -> v instanceof Long; // QEMU's int64: a larger number is a uint64 or a double, refused
            case STR -> v instanceof String;
            case BOOL -> v instanceof Boolean;
            case LIST -> v instanceof List;
            case OBJECT -> v instanceof Map;
        };
        if (!ok) {
            throw QmpError.generic("Invalid parameter type for '" + name + "', expected: " + type.jsonName);
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    /** An integer member (QEMU's int64). */
    long integer(String name) {
        return (Long) values.get(name);
    }

    Optional<Long> optionalInteger(String name) {
        return has(name) ? Optional.of(integer(name)) : Optional.empty();
    }

    String string(String name) {
        return (String) values.get(name);
    }

    Optional<String> optionalString(String name) {
        return Optional.ofNullable((String) values.get(name));
    }

    @SuppressWarnings("unchecked")
    Optional<List<Object>> optionalList(String name) {
        return Optional.ofNullable((List<Object>) values.get(name));
    }
}
