// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.boot.KernelHeader;
import dev.domus.xen.api.CpuEngineKind;
import dev.domus.xen.api.MachineConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Parses the xl.cfg subset Domus understands: {@code key = value} per line, {@code #} comments, quoted strings,
 * integers and string lists that may span lines. Every error is a {@link DomainException} whose message starts
 * with {@code file:line:}.
 */
final class ConfigParser {
    private static final Pattern NAME = Pattern.compile(DomainConfig.NAME_PATTERN);
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** The keys we accept; anything else is reported so typos never pass silently. */
    private static final List<String> KEYS = List.of("name", "memory", "vcpus", "kernel", "ramdisk", "extra",
            "cmdline", "on_poweroff", "on_reboot", "on_crash", "cpu_cap", "disk", "vif",
            "cpu_engine");

    private sealed interface Value {
        int line();
    }

    private record Str(String text, int line) implements Value { }

    private record Int(long value, int line) implements Value { }

    private record Lst(List<Str> items, int line) implements Value { }

    private final String display;
    private final Path source;
    private final Path baseDir;
    private final Map<String, String> env;

    // tokenizer state
    private String text;
    private int pos;
    private int line;

    ConfigParser(String display, Path source, Path baseDir, Map<String, String> env) {
        this.display = display;
        this.source = source;
        this.baseDir = baseDir;
        this.env = env;
    }

    DomainConfig parse(String input) {
        this.text = input;
        this.pos = 0;
        this.line = 1;
        Map<String, Value> values = new LinkedHashMap<>();
        Map<String, Integer> keyLines = new LinkedHashMap<>();
        while (true) {
            skipBlankAndNewlines();
            if (pos >= text.length()) {
                break;
            }
            int keyLine = line;
            String key = identifier();
            if (!KEYS.contains(key)) {
                throw error(keyLine, "unknown key '" + key + "'" + suggestion(key));
            }
            Integer first = keyLines.putIfAbsent(key, keyLine);
            if (first != null) {
                throw error(keyLine, "'" + key + "' is already set on line " + first);
            }
            skipBlank();
            if (peek() != '=') {
                throw error(line, "expected '=' after '" + key + "'");
            }
            pos++;
            skipBlank();
            values.put(key, value(key));
            skipBlank();
            if (pos < text.length() && peek() == ';') {
                pos++;
                skipBlank();
            }
            if (pos < text.length() && peek() != '\n') {
                throw error(line, "unexpected " + describeNext() + " after the value of '" + key + "'");
            }
        }
        return build(values);
    }

    // ---- interpretation

    private DomainConfig build(Map<String, Value> v) {
        Str nameV = required(v, "name");
        String name = nameV.text();
        if (!NAME.matcher(name).matches()) {
            throw error(nameV.line(), "name must match " + DomainConfig.NAME_PATTERN + ", got '" + name + "'");
        }
        int memory = intValue(v, "memory", DomainConfig.DEFAULT_MEMORY_MIB, MachineConfig.MIN_MEMORY_MIB,
                MachineConfig.MAX_MEMORY_MIB, "memory must be %d..%d MiB, got %d");
        int vcpus = intValue(v, "vcpus", 1, 1, MachineConfig.MAX_VCPUS, "vcpus must be %d..%d, got %d");
        int cap = intValue(v, "cpu_cap", 0, 0, 100 * MachineConfig.MAX_VCPUS,
                "cpu_cap must be %d..%d (percent of one core, 0 = no cap), got %d");
        if (v.containsKey("extra") && v.containsKey("cmdline")) {
            throw error(v.get("cmdline").line(), "'cmdline' and 'extra' (line " + v.get("extra").line()
                    + ") are the same setting; keep one");
        }
        String cmdline = optionalString(v, "extra").or(() -> optionalString(v, "cmdline")).orElse("");
        Str kernelV = required(v, "kernel");
        Path kernel = checkedFile("kernel", kernelV);
        Optional<Path> ramdisk = Optional.empty();
        if (v.containsKey("ramdisk")) {
            ramdisk = Optional.of(checkedFile("ramdisk", string(v, "ramdisk")));
        }
        List<String> disks = devices(v, "disk", (entry, i) -> DeviceSpecs.disk(entry, baseDir).normalised());
        List<String> vifs = devices(v, "vif", (entry, i) -> {
            DeviceSpecs.vif(entry, name, i);
            return entry;
        });
        for (int i = 0; i < disks.size(); i++) {
            String want = "vd" + (char) ('a' + i);
            if (disks.stream().noneMatch(d -> DeviceSpecs.DiskEntry.parse(d).target().equals(want))) {
                throw error(v.get("disk").line(), "disk targets must be vda, vdb, ... without gaps (Linux names"
                        + " disks in slot order): " + want + " is missing");
            }
        }
        int total = disks.size() + vifs.size();
        if (total > MachineConfig.MAX_DISKS_AND_NICS) {
            throw error(v.containsKey("vif") ? v.get("vif").line() : v.get("disk").line(), "at most "
                    + MachineConfig.MAX_DISKS_AND_NICS + " disks and vifs together, got " + total);
        }
        Optional<CpuEngineKind> engine = Optional.empty();
        if (v.containsKey("cpu_engine")) {
            Str e = string(v, "cpu_engine");
            try {
                engine = Optional.of(CpuEngineKind.parse(e.text()));
            } catch (IllegalArgumentException ex) {
                throw error(e.line(), ex.getMessage());
            }
        }
        return new DomainConfig(source, name, memory, vcpus, kernel, ramdisk, cmdline, cap,
                action(v, "on_poweroff", LifecycleAction.DESTROY), action(v, "on_reboot", LifecycleAction.RESTART),
                action(v, "on_crash", LifecycleAction.DESTROY), disks, vifs, engine);
    }

    /** Validates each entry of a device list, reporting the entry's own line; returns the normalised entries. */
    private List<String> devices(Map<String, Value> v, String key,
                                 java.util.function.BiFunction<String, Integer, String> check) {
        Value val = v.get(key);
        if (val == null) {
            return List.of();
        }
        if (!(val instanceof Lst l)) {
            throw error(val.line(), key + " must be a list like [ '...', '...' ], got " + kind(val));
        }
        List<String> out = new ArrayList<>();
        java.util.Set<String> targets = new java.util.HashSet<>();
        for (Str s : l.items()) {
            String entry = expand(s);
            String normalised;
            try {
                normalised = check.apply(entry, out.size());
            } catch (IllegalArgumentException e) {
                throw error(s.line(), e.getMessage());
            }
            if (key.equals("disk") && !targets.add(DeviceSpecs.DiskEntry.parse(normalised).target())) {
                throw error(s.line(), "disk target " + DeviceSpecs.DiskEntry.parse(normalised).target()
                        + " is used twice");
            }
            out.add(normalised);
        }
        return out;
    }

    private Str required(Map<String, Value> v, String key) {
        if (!v.containsKey(key)) {
            throw new DomainException(DomainException.CONFIG, display + ": '" + key + "' is required");
        }
        return string(v, key);
    }

    private Str string(Map<String, Value> v, String key) {
        Value val = v.get(key);
        if (!(val instanceof Str s)) {
            throw error(val.line(), key + " must be a quoted string, got " + kind(val));
        }
        return new Str(expand(s), s.line());
    }

    private Optional<String> optionalString(Map<String, Value> v, String key) {
        return v.containsKey(key) ? Optional.of(string(v, key).text()) : Optional.empty();
    }

    private int intValue(Map<String, Value> v, String key, int dflt, int min, int max, String format) {
        Value val = v.get(key);
        if (val == null) {
            return dflt;
        }
        if (!(val instanceof Int i)) {
            throw error(val.line(), key + " must be an integer, got " + kind(val));
        }
        if (i.value() < min || i.value() > max) {
            throw error(val.line(), String.format(format, min, max, i.value()));
        }
        return (int) i.value();
    }

    private LifecycleAction action(Map<String, Value> v, String key, LifecycleAction dflt) {
        if (!v.containsKey(key)) {
            return dflt;
        }
        Str s = string(v, key);
        return LifecycleAction.fromConfigName(s.text()).orElseThrow(() -> error(s.line(),
                key + " must be destroy, restart or preserve, got '" + s.text() + "'"));
    }

    private Path checkedFile(String key, Str value) {
        if (value.text().isEmpty()) {
            throw error(value.line(), key + " must not be empty");
        }
        Path p = baseDir.resolve(value.text()).normalize();
        if (!Files.exists(p)) {
            throw error(value.line(), key + " " + p + " does not exist");
        }
        if (!Files.isRegularFile(p)) {
            throw error(value.line(), key + " " + p + " is not a regular file");
        }
        if (!Files.isReadable(p)) {
            throw error(value.line(), key + " " + p + " is not readable");
        }
        if (key.equals("kernel")) {
            Optional<String> problem;
            try {
                problem = KernelHeader.problem(p);
            } catch (IOException e) {
                throw error(value.line(), "cannot read kernel " + p + ": " + DomainConfig.describe(e));
            }
            problem.ifPresent(what -> {
                throw error(value.line(), "kernel " + p + " " + what);
            });
        }
        return p;
    }

    /** Replaces {@code ${NAME}} with the environment variable; an unset variable is an error, not "". */
    private String expand(Str s) {
        String in = s.text();
        int i = in.indexOf("${");
        if (i < 0) {
            return in;
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        while (i >= 0) {
            out.append(in, from, i);
            int end = in.indexOf('}', i + 2);
            if (end < 0) {
                throw error(s.line(), "unterminated ${ in \"" + in + "\"");
            }
            String var = in.substring(i + 2, end);
            if (!ENV_NAME.matcher(var).matches()) {
                throw error(s.line(), "bad variable name '" + var + "' in \"" + in + "\"");
            }
            String val = env.get(var);
            if (val == null || val.isEmpty()) {
                // An empty value would silently turn "${DIR}/Image" into "/Image": report it like an unset one.
                throw error(s.line(), "environment variable " + var + " is " + (val == null ? "not set" : "empty")
                        + " (used in \"" + in + "\")");
            }
            out.append(val);
            from = end + 1;
            i = in.indexOf("${", from);
        }
        out.append(in, from, in.length());
        return out.toString();
    }

    private static String kind(Value v) {
        return switch (v) {
            case Str s -> "a string";
            case Int i -> "an integer";
            case Lst l -> "a list";
        };
    }

    private static String suggestion(String key) {
        String best = null;
        int bestDist = 3;
        for (String k : KEYS) {
            int d = distance(key, k);
            if (d < bestDist) {
                bestDist = d;
                best = k;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    // ---- tokenizer

    private Value value(String key) {
        if (pos >= text.length() || peek() == '\n') {
            throw error(line, "missing value for '" + key + "'");
        }
        char c = peek();
        if (c == '"' || c == '\'') {
            return string();
        }
        if (c == '-' || c == '+' || isDigit(c)) {
            return integer();
        }
        if (c == '[') {
            return list(key);
        }
        throw error(line, "unexpected " + describeNext() + " in the value of '" + key
                + "' (strings need quotes)");
    }

    private Str string() {
        int startLine = line;
        char quote = text.charAt(pos++);
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length() || peek() == '\n') {
                throw error(startLine, "unterminated string (missing " + quote + ")");
            }
            char c = text.charAt(pos++);
            if (c == quote) {
                return new Str(sb.toString(), startLine);
            }
            if (c == '\\') {
                if (pos >= text.length() || peek() == '\n') {
                    throw error(startLine, "unterminated string (missing " + quote + ")");
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case '\\', '\'', '"' -> sb.append(e);
                    default -> throw error(startLine, "unknown escape '\\" + e + "' in string");
                }
            } else {
                sb.append(c);
            }
        }
    }

    private Int integer() {
        int start = pos;
        if (peek() == '-' || peek() == '+') {
            pos++;
        }
        while (pos < text.length() && isDigit(peek())) {
            pos++;
        }
        String digits = text.substring(start, pos);
        if (pos < text.length() && isIdentPart(peek())) {
            throw error(line, "bad number '" + digits + peek() + "...' (integers only, no units)");
        }
        try {
            return new Int(Long.parseLong(digits), line);
        } catch (NumberFormatException e) {
            throw error(line, "bad number '" + digits + "'");
        }
    }

    private Lst list(String key) {
        int startLine = line;
        pos++; // '['
        List<Str> items = new ArrayList<>();
        while (true) {
            skipBlankAndNewlines();
            if (pos >= text.length()) {
                throw error(startLine, "unterminated list for '" + key + "' (missing ])");
            }
            if (peek() == ']') {
                pos++;
                return new Lst(items, startLine);
            }
            char c = peek();
            if (c != '"' && c != '\'') {
                throw error(line, "list items of '" + key + "' must be quoted strings, got "
                        + describeNext());
            }
            items.add(string());
            skipBlankAndNewlines();
            if (pos >= text.length()) {
                throw error(startLine, "unterminated list for '" + key + "' (missing ])");
            }
            if (peek() == ',') {
                pos++;
            } else if (peek() != ']') {
                throw error(line, "expected ',' or ']' in the list of '" + key + "', got " + describeNext());
            }
        }
    }

    private String identifier() {
        int start = pos;
        if (!isIdentStart(peek())) {
            throw error(line, "expected a key, got " + describeNext());
        }
        while (pos < text.length() && isIdentPart(peek())) {
            pos++;
        }
        return text.substring(start, pos);
    }

    /** Skips spaces, tabs, carriage returns and comments, stopping at a newline. */
    private void skipBlank() {
        while (pos < text.length()) {
            char c = peek();
            if (c == ' ' || c == '\t' || c == '\r') {
                pos++;
            } else if (c == '#') {
                while (pos < text.length() && peek() != '\n') {
                    pos++;
                }
            } else {
                return;
            }
        }
    }

    private void skipBlankAndNewlines() {
        while (true) {
            skipBlank();
            if (pos < text.length() && peek() == '\n') {
                pos++;
                line++;
            } else {
                return;
            }
        }
    }

    private String describeNext() {
        if (pos >= text.length()) {
            return "end of file";
        }
        char c = peek();
        if (c == '\n') {
            return "end of line";
        }
        return c < 0x20 || c == 0x7f ? String.format("character 0x%02x", (int) c) : "'" + c + "'";
    }

    private char peek() {
        return text.charAt(pos);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }

    private static boolean isIdentPart(char c) {
        return isIdentStart(c) || isDigit(c);
    }

    private DomainException error(int atLine, String message) {
        return new DomainException(DomainException.CONFIG, display + ":" + atLine + ": " + message);
    }
}
