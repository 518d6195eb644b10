// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import java.io.PrintStream;
import java.time.Instant;

/**
 * Structured log lines for the domain runner: {@code ts=... level=info event=... key=value ...}, one line per
 * event on stderr (which {@code xl create} sends to {@code <name>.log}). Values with spaces or quotes are quoted.
 */
final class Log {
    private static volatile PrintStream out = System.err;

    private Log() { }

    static void info(String event, Object... kv) {
        write("info", event, kv);
    }

    static void warn(String event, Object... kv) {
        write("warn", event, kv);
    }

    static void error(String event, Object... kv) {
        write("error", event, kv);
    }

    /** Redirects the log, for tests that want to assert on it; returns the previous sink. */
    static PrintStream redirect(PrintStream to) {
        PrintStream old = out;
        out = to;
        return old;
    }

    static String format(String level, String event, Object... kv) {
        StringBuilder sb = new StringBuilder(96);
        sb.append("ts=").append(Instant.now()).append(" level=").append(level).append(" event=").append(event);
        for (int i = 0; i + 1 < kv.length; i += 2) {
            sb.append(' ').append(kv[i]).append('=');
            appendValue(sb, String.valueOf(kv[i + 1]));
        }
        return sb.toString();
    }

    private static void write(String level, String event, Object... kv) {
        String line = format(level, event, kv);
        PrintStream o = out;
        synchronized (o) {
            o.println(line);
            o.flush();
        }
    }

    private static void appendValue(StringBuilder sb, String v) {
        boolean plain = !v.isEmpty();
        for (int i = 0; i < v.length() && plain; i++) {
            char c = v.charAt(i);
            plain = c > ' ' && c != '"' && c != '=' && c != '\\' && c != 0x7f;
        }
        if (plain) {
            sb.append(v);
            return;
        }
        sb.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
            }
        }
        sb.append('"');
    }
}
