// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cli;

import dev.domus.xen.domain.ConsoleClient;
import dev.domus.xen.domain.DomainClient;
import dev.domus.xen.domain.DomainConfig;
import dev.domus.xen.domain.DomainEvent;
import dev.domus.xen.domain.DomainException;
import dev.domus.xen.domain.DomainInfo;
import dev.domus.xen.domain.DomainLauncher;
import dev.domus.xen.domain.DomainRunner;
import dev.domus.xen.domain.DomainState;
import dev.domus.xen.domain.RunDir;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code xl}, the domain toolstack CLI. Every verb is a short conversation with a domain runner over its control
 * or console socket; {@code create} starts the runner. Errors are one line on stderr and a non-zero exit status
 * (1 for failures, 2 for usage errors).
 */
public final class Xl {
    static final String USAGE = """
            Usage: xl <command> [arguments]

            Domains:
              create <cfg> [-c] [-p]          start a domain; -c attach its console, -p leave it paused
              list [<dom>...]                 list domains
              console <dom>                   attach to the console (Ctrl-] detaches)
              shutdown [-w] [-t <secs>] <dom> ask the guest to power off; -w wait for it,
                                              -t destroy the domain if it is still up after <secs>
              reboot <dom>                    ask the guest to reboot
              destroy <dom>                   stop the domain immediately
              save [--checkpoint] <dom> <file>
                                              write a snapshot; the domain ends, or keeps
                                              running with --checkpoint
              restore <file> [--config <cfg>] [-c] [-p]
                                              start a domain from a snapshot (with --config: that
                                              config's name, disks and vifs; same RAM, vCPUs, devices)
              migrate [--downtime-ms <ms>] [--max-rounds <n>] [--mirror-disks all|vda,..] <dom> <host:port>
                                              live-migrate to a host running migrate-receive;
                                              --mirror-disks copies local disks (others are shared)
              migrate-receive --listen <host:port> [--disk-dir <dir> | --config <cfg>]
                                              accept one incoming live migration; mirrored
                                              disks are written into <dir>; with --config the
                                              domain is built first (the source must match it)
              pause <dom>                     stop the vCPUs
              unpause <dom>                   continue the vCPUs
            Host:
              info                            host and toolstack information
              help                            this text

            <dom> is a domain name or the ID shown by 'xl list'.
            Runtime files live in $DOMUS_RUN_DIR/xl (default /run/domus/xl).
            """;

    private static final Duration LIST_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DESTROY_WAIT = Duration.ofSeconds(15);

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final RunDir runDir;
    private final Map<String, String> env;

    Xl(InputStream in, PrintStream out, PrintStream err, RunDir runDir, Map<String, String> env) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.runDir = runDir;
        this.env = env;
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        int status = new Xl(System.in, System.out, System.err, RunDir.fromEnvironment(env), env).run(args);
        System.out.flush();
        System.exit(status);
    }

    /** A mistake in how xl was called. */
    private static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    int run(String... args) {
        if (args.length == 0) {
            err.print(USAGE);
            return 2;
        }
        List<String> rest = List.of(args).subList(1, args.length);
        try {
            return switch (args[0]) {
                case "create" -> create(rest);
                case "list", "li" -> list(rest);
                case "console" -> console(rest);
                case "shutdown" -> shutdown(rest);
                case "reboot" -> simple("reboot", rest, DomainClient::reboot);
                case "destroy" -> destroy(rest);
                case "pause" -> simple("pause", rest, DomainClient::pause);
                case "unpause" -> simple("unpause", rest, DomainClient::unpause);
                case "info" -> info(rest);
                case "save" -> save(rest);
                case "migrate" -> migrate(rest);
                case "migrate-receive" -> migrateReceive(rest);
                case "restore" -> restore(rest);
                case "help", "-h", "--help" -> {
                    out.print(USAGE);
                    yield 0;
                }
                default -> throw new UsageException("unknown command '" + args[0] + "' (see 'xl help')");
            };
        } catch (UsageException e) {
            err.println("xl: " + e.getMessage());
            return 2;
        } catch (DomainException e) {
            err.println("xl: " + e.getMessage());
            return 1;
        }
    }

    // ---- verbs

    private int create(List<String> args) {
        Parsed p = Parsed.of("create <cfg> [-c] [-p]", args, Set.of("-c", "-p"), Set.of(), 1, 1);
        DomainConfig cfg = DomainConfig.load(Path.of(p.positional.getFirst()), env);
        boolean attach = p.has("-c");
        boolean paused = p.has("-p");
        // With -c the domain starts paused so the console is attached before the guest prints its first byte.
        DomainLauncher.Launched launched = new DomainLauncher(runDir, env)
                .launch(cfg, paused || attach, DomainLauncher.DEFAULT_READY_TIMEOUT);
        err.println("Domain '" + cfg.name() + "' created, ID " + launched.pid() + (paused ? " (paused)" : "")
                + "; log " + runDir.logFile(cfg.name()));
        if (!attach) {
            return 0;
        }
        ConsoleSession.End end;
        try (DomainClient control = DomainClient.connect(runDir, cfg.name());
             ConsoleClient console = ConsoleClient.attach(runDir, cfg.name())) {
            if (!paused) {
                control.unpause();
            }
            end = session(cfg.name(), console);
        }
        if (end == ConsoleSession.End.DETACHED) {
            return 0;
        }
        return reportEnd(cfg.name(), launched.process());
    }

    /** The pause of a save reply in ms with microsecond precision (older runners send only paused_ms). */
    private static String pausedMillis(Map<String, Object> r) {
        Object us = r.get("paused_us");
        if (us instanceof Number n) {
            return String.format(java.util.Locale.ROOT, "%.3f", n.longValue() / 1000.0);
        }
        return String.valueOf(r.get("paused_ms"));
    }

    private int save(List<String> args) {
        Parsed p = Parsed.of("save [--checkpoint] <dom> <file>", args, Set.of("--checkpoint"), Set.of(), 2, 2);
        String name = resolve(p.positional.get(0));
        Path file = Path.of(p.positional.get(1)).toAbsolutePath().normalize();
        boolean checkpoint = p.has("--checkpoint");
        try (DomainClient c = DomainClient.connect(runDir, name)) {
            c.setCallTimeout(Duration.ofMinutes(10));
            Map<String, Object> r = c.save(file, checkpoint);
            err.println("Domain '" + name + "' " + (checkpoint ? "checkpointed" : "saved") + " to " + file + " ("
                    + r.get("bytes") + " bytes, paused " + pausedMillis(r) + " ms)");
            if (!checkpoint) {
                try {
                    if (c.awaitDisconnect(DESTROY_WAIT)) {
                        runDir.awaitReleased(name, DESTROY_WAIT);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return 0;
    }

    private int migrate(List<String> args) {
        Parsed p = Parsed.of("migrate [--downtime-ms <ms>] [--max-rounds <n>] [--mirror-disks all|vda,..] <dom> "
                + "<host:port>", args, Set.of(), Set.of("--downtime-ms", "--max-rounds", "--mirror-disks"), 2, 2);
        String name = resolve(p.positional.get(0));
        String target = p.positional.get(1);
        long downtime = parseLong(p.values.getOrDefault("--downtime-ms", "5"), "--downtime-ms");
        int rounds = (int) parseLong(p.values.getOrDefault("--max-rounds", "30"), "--max-rounds");
        try (DomainClient c = DomainClient.connect(runDir, name)) {
            c.subscribe();
            List<String> mirror = mirrorList(p);
            if (mirror.isEmpty()) {
                c.migrate(target, downtime, rounds);
            } else {
                c.migrate(target, downtime, rounds, mirror);
            }
            while (true) {
                Optional<DomainEvent> e = c.nextEvent(Duration.ofMinutes(10));
                if (e.isEmpty()) {
                    err.println("xl: no migration progress from '" + name + "' for 10 minutes");
                    return 1;
                }
                if (e.get() instanceof DomainEvent.Migration m) {
                    switch (m.phase()) {
                        case "round" -> err.println("round " + m.round() + ": sent " + m.bytesSent()
                                + " bytes, " + m.remainingPages() + " pages dirty");
                        case "done" -> {
                            out.println("migrated " + name + " to " + target + ": rounds=" + m.round() + " bytes="
                                    + m.bytesSent() + " last_pages=" + m.remainingPages() + " downtime_us="
                                    + m.downtimeMicros() + " total_ms=" + m.totalMillis());
                            return 0;
                        }
                        case "failed" -> {
                            err.println("xl: migration of '" + name + "' failed, it keeps running here: "
                                    + m.error());
                            return 1;
                        }
                        case "in_doubt" -> {
                            err.println("xl: migration of '" + name + "' is in doubt, it stays PAUSED here: "
                                    + m.error() + "; if " + target + "'s host runs it, 'xl destroy " + name
                                    + "' here, else 'xl unpause " + name + "'");
                            return 2;
                        }
                        default -> { }
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /**
     * {@code --mirror-disks all|vda,vdb,...}: the local disks to copy to the target; the others are shared (same
     * path on both hosts) and not copied. Empty without the option.
     */
    private static List<String> mirrorList(Parsed p) {
        String v = p.values.get("--mirror-disks");
        if (v == null) {
            return List.of();
        }
        List<String> mirror = new ArrayList<>();
        for (String s : v.split(",")) {
            String d = s.strip();
            if (!d.equals("all") && !d.matches("vd[a-z]")) {
                throw new UsageException("migrate: --mirror-disks takes all or vda,vdb,..., got '" + s + "'");
            }
            mirror.add(d);
        }
        return mirror;
    }

    private static long parseLong(String v, String flag) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a number, got '" + v + "'");
        }
    }

    private int migrateReceive(List<String> args) {
        Parsed p = Parsed.of("migrate-receive --listen <host:port> [--disk-dir <dir> | --config <cfg>]", args,
                Set.of(), Set.of("--listen", "--disk-dir", "--config"), 0, 0);
        String listen = p.values.get("--listen");
        if (listen == null) {
            throw new UsageException("migrate-receive needs --listen <host:port>");
        }
        Optional<java.nio.file.Path> diskDir = Optional.ofNullable(p.values.get("--disk-dir"))
                .map(d -> java.nio.file.Path.of(d).toAbsolutePath().normalize());
        if (diskDir.isPresent() && !java.nio.file.Files.isDirectory(diskDir.get())) {
            throw new UsageException("migrate-receive: --disk-dir " + diskDir.get() + " is not a directory");
        }
        // --config: the domain is built before the source connects (on its own disks, so not with --disk-dir).
        Optional<DomainConfig> config = Optional.ofNullable(p.values.get("--config"))
                .map(c -> DomainConfig.load(Path.of(c), env));
        if (config.isPresent() && diskDir.isPresent()) {
            throw new UsageException("migrate-receive: --config builds the domain ahead on its own disks; it cannot"
                    + " be combined with --disk-dir (mirrored disks)");
        }
        DomainLauncher.Launched l = new DomainLauncher(runDir, env).receiveMigration(listen, Duration.ofHours(24),
                diskDir, config);
        err.println("Incoming migration received, domain runner ID " + l.pid());
        return 0;
    }

    private int restore(List<String> args) {
        Parsed p = Parsed.of("restore <file> [--config <cfg>] [-c] [-p]", args, Set.of("-c", "-p"),
                Set.of("--config"), 1, 1);
        boolean attach = p.has("-c");
        boolean paused = p.has("-p");
        java.util.Optional<DomainConfig> config = java.util.Optional.ofNullable(p.values.get("--config"))
                .map(c -> DomainConfig.load(Path.of(c), env));
        DomainLauncher.Launched launched = new DomainLauncher(runDir, env).restore(Path.of(p.positional.getFirst()),
                config, paused || attach, DomainLauncher.DEFAULT_READY_TIMEOUT);
        String name = launched.name();
        err.println("Domain '" + name + "' restored, ID " + launched.pid() + (paused ? " (paused)" : "") + "; log "
                + runDir.logFile(name));
        if (!attach) {
            return 0;
        }
        ConsoleSession.End end;
        try (DomainClient control = DomainClient.connect(runDir, name);
             ConsoleClient console = ConsoleClient.attach(runDir, name)) {
            if (!paused) {
                control.unpause();
            }
            end = session(name, console);
        }
        if (end == ConsoleSession.End.DETACHED) {
            return 0;
        }
        return reportEnd(name, launched.process());
    }

    private int reportEnd(String name, Process runner) {
        int status;
        try {
            status = runner.waitFor(30, TimeUnit.SECONDS) ? runner.exitValue() : DomainRunner.EXIT_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return DomainRunner.EXIT_ERROR;
        }
        String what = switch (status) {
            case DomainRunner.EXIT_POWEROFF -> null;
            case DomainRunner.EXIT_CRASH -> "crashed";
            case DomainRunner.EXIT_DESTROYED -> "was destroyed";
            case DomainRunner.EXIT_POWEROFF_FAILED -> "powered off with a failure code";
            case DomainRunner.EXIT_SAVED -> "was saved";
            default -> "ended with runner status " + status;
        };
        if (what != null) {
            err.println("xl: domain '" + name + "' " + what + "; see " + runDir.logFile(name));
        }
        return status;
    }

    private int list(List<String> args) {
        Parsed p = Parsed.of("list [<dom>...]", args, Set.of(), Set.of(), 0, Integer.MAX_VALUE);
        List<DomainInfo> infos = new ArrayList<>();
        if (p.positional.isEmpty()) {
            for (String name : runDir.domainNames()) {
                infoOf(name).ifPresent(infos::add);
            }
        } else {
            for (String dom : p.positional) {
                String name = resolve(dom);
                infos.add(infoOf(name).orElseThrow(() -> notFound(dom)));
            }
        }
        out.print(formatList(infos));
        return 0;
    }

    private Optional<DomainInfo> infoOf(String name) {
        try (DomainClient c = DomainClient.connect(runDir, name)) {
            c.setCallTimeout(LIST_TIMEOUT);
            return Optional.of(c.info());
        } catch (DomainException e) {
            if (!e.code().equals(DomainException.NOT_FOUND)) {
                err.println("xl: " + e.getMessage());
            }
            return Optional.empty();
        }
    }

    static String formatList(List<DomainInfo> infos) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-32s %8s %6s %5s %8s %9s%n";
        sb.append(String.format(Locale.ROOT, fmt, "Name", "ID", "Mem", "VCPUs", "State", "Time(s)"));
        for (DomainInfo i : infos) {
            sb.append(String.format(Locale.ROOT, fmt, i.name(), i.pid(), i.memoryMiB(), i.vcpus(),
                    i.state().xlFlags(), String.format(Locale.ROOT, "%.1f", i.cpuTimeMillis() / 1000.0)));
        }
        return sb.toString();
    }

    private int console(List<String> args) {
        Parsed p = Parsed.of("console <dom>", args, Set.of(), Set.of(), 1, 1);
        String name = resolve(p.positional.getFirst());
        try (ConsoleClient console = ConsoleClient.attach(runDir, name)) {
            session(name, console);
        }
        return 0;
    }

    private ConsoleSession.End session(String name, ConsoleClient console) {
        boolean tty = Terminal.stdinIsTty();
        if (!tty) {
            err.println("Connected to domain '" + name + "'.");
            return ConsoleSession.run(console, in, out, false);
        }
        err.println("Connected to domain '" + name + "'. Escape character is '^]'.");
        Optional<String> saved = Terminal.enterRaw();
        Thread restore = new Thread(() -> saved.ifPresent(Terminal::restore), "restore-tty");
        Runtime.getRuntime().addShutdownHook(restore);
        try {
            return ConsoleSession.run(console, in, out, true);
        } finally {
            saved.ifPresent(Terminal::restore);
            try {
                Runtime.getRuntime().removeShutdownHook(restore);
            } catch (IllegalStateException e) {
                // already shutting down: the hook restores the terminal
            }
            err.println();
        }
    }

    private int shutdown(List<String> args) {
        Parsed p = Parsed.of("shutdown [-w] [-t <secs>] <dom>", args, Set.of("-w"), Set.of("-t"), 1, 1);
        Optional<Duration> timeout = Optional.empty();
        if (p.values.containsKey("-t")) {
            try {
                long s = Long.parseLong(p.values.get("-t"));
                if (s < 1) {
                    throw new NumberFormatException();
                }
                timeout = Optional.of(Duration.ofSeconds(s));
            } catch (NumberFormatException e) {
                throw new UsageException("shutdown: -t needs a positive number of seconds, got '"
                        + p.values.get("-t") + "'");
            }
        }
        String name = resolve(p.positional.getFirst());
        try (DomainClient c = DomainClient.connect(runDir, name)) {
            boolean wait = p.has("-w");
            if (wait) {
                c.subscribe();
            }
            c.shutdown(timeout);
            if (!wait) {
                return 0;
            }
            err.println("Waiting for domain '" + name + "' to shut down");
            while (c.isConnected()) {
                Optional<DomainEvent> e = c.nextEvent(Duration.ofMinutes(10));
                if (e.isPresent() && e.get() instanceof DomainEvent.StateChanged s
                        && (s.state() == DomainState.SHUTDOWN || s.state() == DomainState.CRASHED)) {
                    break; // preserved: the runner stays, but the guest is down
                }
            }
            err.println("Domain '" + name + "' has shut down");
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private int destroy(List<String> args) {
        Parsed p = Parsed.of("destroy <dom>", args, Set.of(), Set.of(), 1, 1);
        String name = resolve(p.positional.getFirst());
        try (DomainClient c = DomainClient.connect(runDir, name)) {
            try {
                c.destroy();
            } catch (DomainException e) {
                if (c.isConnected() || !e.code().equals(DomainException.IO)) {
                    throw e;
                }
                return 0; // the runner went away before its reply: destroyed either way
            }
            // The runner closes the socket once the machine is gone, then removes its files and frees the name:
            // wait for both, so 'xl list' or 'xl create' of the same name right after sees the domain gone.
            if (!c.awaitDisconnect(DESTROY_WAIT) || !runDir.awaitReleased(name, DESTROY_WAIT)) {
                err.println("xl: domain '" + name + "' is still being destroyed");
                return 1;
            }
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    @FunctionalInterface
    private interface Command {
        void apply(DomainClient c);
    }

    private int simple(String verb, List<String> args, Command command) {
        Parsed p = Parsed.of(verb + " <dom>", args, Set.of(), Set.of(), 1, 1);
        try (DomainClient c = DomainClient.connect(runDir, resolve(p.positional.getFirst()))) {
            command.apply(c);
        }
        return 0;
    }

    private int info(List<String> args) {
        Parsed.of("info", args, Set.of(), Set.of(), 0, 0);
        Runtime rt = Runtime.getRuntime();
        var os = ManagementFactory.getOperatingSystemMXBean();
        List<DomainInfo> domains = new ArrayList<>();
        for (String name : runDir.domainNames()) {
            infoOf(name).ifPresent(domains::add);
        }
        long domMem = 0;
        for (DomainInfo d : domains) {
            domMem += d.memoryMiB();
        }
        Map<String, String> rows = new java.util.LinkedHashMap<>();
        rows.put("host", hostName());
        rows.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        rows.put("nr_cpus", Integer.toString(rt.availableProcessors()));
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            rows.put("total_memory", sun.getTotalMemorySize() / (1024 * 1024) + " MiB");
            rows.put("free_memory", sun.getFreeMemorySize() / (1024 * 1024) + " MiB");
        }
        rows.put("load_average", String.format(Locale.ROOT, "%.2f", os.getSystemLoadAverage()));
        rows.put("jvm", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " "
                + Runtime.version());
        rows.put("java_home", System.getProperty("java.home"));
        rows.put("run_dir", runDir.path().toString());
        rows.put("nr_domains", Integer.toString(domains.size()));
        rows.put("domains_memory", domMem + " MiB");
        rows.put("domains", domains.isEmpty() ? "-" : String.join(" ", domains.stream().map(DomainInfo::name)
                .toList()));
        for (Map.Entry<String, String> r : rows.entrySet()) {
            out.printf(Locale.ROOT, "%-16s: %s%n", r.getKey(), r.getValue());
        }
        return 0;
    }

    // ---- helpers

    /** A domain name as given, or the name of the domain whose runner has that pid. */
    private String resolve(String dom) {
        if (dom.matches("[0-9]+") && !Files.exists(runDir.controlSocket(dom))) {
            for (String name : runDir.domainNames()) {
                Optional<DomainInfo> i = infoOf(name);
                if (i.isPresent() && Long.toString(i.get().pid()).equals(dom)) {
                    return name;
                }
            }
        }
        if (!dom.matches(DomainConfig.NAME_PATTERN)) {
            throw notFound(dom);
        }
        return dom;
    }

    private static DomainException notFound(String dom) {
        return new DomainException(DomainException.NOT_FOUND, dom, "domain '" + dom + "' does not exist");
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }

    /** Options and operands of one verb. */
    private record Parsed(Set<String> flags, Map<String, String> values, List<String> positional) {
        boolean has(String flag) {
            return flags.contains(flag);
        }

        static Parsed of(String usage, List<String> args, Set<String> flagNames, Set<String> valued, int min,
                         int max) {
            String verb = usage.split(" ")[0];
            Set<String> flags = new HashSet<>();
            Map<String, String> values = new HashMap<>();
            List<String> pos = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (a.equals("--")) {
                    pos.addAll(args.subList(i + 1, args.size()));
                    break;
                }
                if (a.startsWith("-") && a.length() > 1) {
                    if (flagNames.contains(a)) {
                        flags.add(a);
                    } else if (valued.contains(a)) {
                        if (i + 1 >= args.size()) {
                            throw new UsageException(verb + ": " + a + " needs a value; usage: xl " + usage);
                        }
                        values.put(a, args.get(++i));
                    } else {
                        throw new UsageException(verb + ": unknown option '" + a + "'; usage: xl " + usage);
                    }
                } else {
                    pos.add(a);
                }
            }
            if (pos.size() < min || pos.size() > max) {
                throw new UsageException(verb + ": wrong number of arguments; usage: xl " + usage);
            }
            return new Parsed(flags, values, pos);
        }
    }
}
