// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The host-side link operations a domain runner needs around its taps, done with iproute2 ({@code ip}) in the
 * calling process's network namespace. Every failure is an {@link IOException} carrying the command and {@code ip}'s
 * stderr; names are validated first ({@link IllegalArgumentException}), so nothing odd reaches a command line.
 */
public final class HostLinks {
    private static final long TIMEOUT_SECONDS = 30;
    private static final System.Logger LOG = System.getLogger(HostLinks.class.getName());

    private HostLinks() {
    }

    /** {@code ip link set dev <ifname> master <bridge> up}; clear IOException if the bridge does not exist or ip fails. */
    public static void attachToBridge(String ifname, String bridge) throws IOException {
        LinkNames.check("interface name", ifname);
        LinkNames.check("bridge name", bridge);
        Result show = ip("-d", "-j", "link", "show", "dev", bridge);
        if (show.exit() != 0) {
            throw new IOException("cannot attach " + ifname + " to bridge " + bridge + ": bridge " + bridge
                    + " does not exist (ip: " + show.errorText() + ")");
        }
        if (!show.out().replace(" ", "").contains("\"info_kind\":\"bridge\"")) {
            throw new IOException("cannot attach " + ifname + " to bridge " + bridge + ": " + bridge
                    + " exists but is not a bridge");
        }
        if (!linkExists(ifname)) {
            throw new IOException("cannot attach " + ifname + " to bridge " + bridge + ": interface " + ifname
                    + " does not exist");
        }
        ipOrThrow("attach " + ifname + " to bridge " + bridge, "link", "set", "dev", ifname, "master", bridge, "up");
        LOG.log(System.Logger.Level.INFO, "event=link-attach ifname=" + ifname + " bridge=" + bridge);
    }

    /** {@code ip link set dev <ifname> nomaster}: takes the interface off whatever bridge it is on. */
    public static void detachFromBridge(String ifname) throws IOException {
        LinkNames.check("interface name", ifname);
        ipOrThrow("detach " + ifname + " from its bridge", "link", "set", "dev", ifname, "nomaster");
    }

    /** Whether an interface of that name exists in this network namespace. */
    public static boolean linkExists(String ifname) throws IOException {
        LinkNames.check("interface name", ifname);
        return ip("-o", "link", "show", "dev", ifname).exit() == 0;
    }

    /** {@code ip link set dev <ifname> mtu <mtu>}; {@code mtu} must be 68..65535 (what the kernel will consider). */
    public static void setMtu(String ifname, int mtu) throws IOException {
        LinkNames.check("interface name", ifname);
        if (mtu < 68 || mtu > 65535) {
            throw new IllegalArgumentException("mtu must be 68..65535, got " + mtu);
        }
        ipOrThrow("set mtu of " + ifname, "link", "set", "dev", ifname, "mtu", Integer.toString(mtu));
    }

    /**
     * {@code ip link set dev <ifname> address <mac>}. A domain runner gives its tap a fixed high address such as
     * {@code fe:ff:ff:ff:ff:ff} (what Xen's vif scripts do): a Linux bridge takes the lowest port address as its
     * own, so a random tap address could change the bridge's MAC whenever a domain starts or stops.
     *
     * @throws IllegalArgumentException unless {@code mac} is six hex octets separated by colons and unicast
     */
    public static void setMac(String ifname, String mac) throws IOException {
        LinkNames.check("interface name", ifname);
        if (mac == null || !mac.matches("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")) {
            throw new IllegalArgumentException("mac must look like 52:54:00:12:34:56, got " + mac);
        }
        if ((Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0) {
            throw new IllegalArgumentException("mac must be unicast (low bit of the first octet clear), got " + mac);
        }
        ipOrThrow("set address of " + ifname, "link", "set", "dev", ifname, "address", mac);
    }

    /** The bridge an interface is attached to, if any. */
    public static Optional<String> masterOf(String ifname) throws IOException {
        LinkNames.check("interface name", ifname);
        Result r = ipOrThrow("show " + ifname, "-o", "link", "show", "dev", ifname);
        String[] words = r.out().split("\\s+");
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals("master")) {
                return Optional.of(words[i + 1]);
            }
        }
        return Optional.empty();
    }

    record Result(int exit, String out, String err) {
        String errorText() {
            String e = err.strip();
            return e.isEmpty() ? "exit " + exit : e;
        }
    }

    private static Result ipOrThrow(String what, String... args) throws IOException {
        Result r = ip(args);
        if (r.exit() != 0) {
            throw new IOException("cannot " + what + ": ip " + String.join(" ", args) + " failed: " + r.errorText());
        }
        return r;
    }

    static Result ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(args.length + 1);
        cmd.add(ipBinary());
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new IOException("cannot run " + cmd.get(0) + " (iproute2 missing?): " + e.getMessage(), e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("ip " + String.join(" ", args) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running ip " + String.join(" ", args), e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
    }

    /**
     * The {@code ip} binary to run: it is in /usr/sbin on Debian, which is not on every PATH (services, non-root
     * shells). Also used by the test network namespaces ({@code testing.NetNs}).
     */
    public static String ipBinary() {
        for (String dir : new String[] {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
            Path p = Path.of(dir, "ip");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return "ip";
    }
}
