// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

import dev.domus.xen.testing.Frames;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Child-JVM side of {@link TapNetnsIT}: runs inside a network namespace (started by
 * {@link dev.domus.xen.testing.NetNs#startJava}) and prints one {@code key: value} line per observation, so the
 * test sees what {@link TapBackend} and {@link HostLinks} do in a namespace they were started in.
 * <ul>
 *   <li>{@code errors <bridge>}: the error messages of the failure cases;</li>
 *   <li>{@code bridge <bridge> <frames>}: two taps attached to the bridge exchange frames both ways;</li>
 *   <li>{@code open <name>}: opens one tap and prints the result (for runs with reduced privileges).</li>
 * </ul>
 */
public final class TapProbe {
    private TapProbe() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "errors" -> errors(args[1]);
            case "bridge" -> bridge(args[1], Integer.parseInt(args[2]));
            case "open" -> {
                try (TapBackend tap = TapBackend.open(args[1])) {
                    System.out.println("open: opened " + tap.name());
                } catch (IOException e) {
                    System.out.println("open: " + e.getMessage());
                }
            }
            default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
        }
        System.out.println("done: ok");
    }

    private static void errors(String bridge) throws IOException {
        String name = "pe" + ProcessHandle.current().pid();
        try (TapBackend tap = TapBackend.open(name)) {
            System.out.println("opened: " + tap.name());
            System.out.println("exists: " + HostLinks.linkExists(name));
            System.out.println("exists-missing: " + HostLinks.linkExists("nosuchbr0"));
            try (TapBackend again = TapBackend.open(name)) {
                System.out.println("busy: opened twice (" + again.name() + ")");
            } catch (IOException e) {
                System.out.println("busy: " + e.getMessage());
            }
            try {
                HostLinks.attachToBridge(name, "nosuchbr0");
                System.out.println("missing: attached");
            } catch (IOException e) {
                System.out.println("missing: " + e.getMessage());
            }
            try {
                HostLinks.attachToBridge(name, name);
                System.out.println("notbridge: attached");
            } catch (IOException e) {
                System.out.println("notbridge: " + e.getMessage());
            }
            try {
                HostLinks.attachToBridge("nosuchtap0", bridge);
                System.out.println("missing-tap: attached");
            } catch (IOException e) {
                System.out.println("missing-tap: " + e.getMessage());
            }
            try {
                HostLinks.setMtu("nosuchbr0", 1400);
                System.out.println("mtu-missing: set");
            } catch (IOException e) {
                System.out.println("mtu-missing: " + e.getMessage());
            }
        }
        System.out.println("exists-after-close: " + HostLinks.linkExists(name));
        try (TapBackend tap = TapBackend.open(bridge)) {
            System.out.println("notatap: opened " + tap.name());
        } catch (IOException e) {
            System.out.println("notatap: " + e.getMessage());
        }
    }

    private static void bridge(String bridge, int frames) throws IOException {
        long pid = ProcessHandle.current().pid();
        try (TapBackend a = TapBackend.open("pa" + pid); TapBackend b = TapBackend.open("pb" + pid)) {
            HostLinks.attachToBridge(a.name(), bridge);
            HostLinks.attachToBridge(b.name(), bridge);
            HostLinks.setMtu(a.name(), 1400);
            HostLinks.setMac(a.name(), "fe:ff:ff:ff:ff:ff");
            System.out.println("link-a: " + HostLinks.ip("-o", "link", "show", "dev", a.name()).out().strip());
            System.out.println("master-a: " + HostLinks.masterOf(a.name()).orElse("none"));
            System.out.println("master-b: " + HostLinks.masterOf(b.name()).orElse("none"));
            byte[] macA = Frames.mac("52:54:00:00:02:0a");
            byte[] macB = Frames.mac("52:54:00:00:02:0b");
            System.out.println("a2b: " + pingPong(a, b, macA, macB, frames));
            System.out.println("b2a: " + pingPong(b, a, macB, macA, frames));
            HostLinks.detachFromBridge(a.name());
            System.out.println("master-a-after-detach: " + HostLinks.masterOf(a.name()).orElse("none"));
        }
    }

    /** Sends frames one at a time from {@code from}, each awaited at {@code to}; returns how many arrived in order. */
    private static int pingPong(TapBackend from, TapBackend to, byte[] src, byte[] dst, int frames) throws IOException {
        ByteBuffer out = ByteBuffer.allocateDirect(1514);
        ByteBuffer in = ByteBuffer.allocateDirect(TapBackend.MAX_FRAME);
        int inOrder = 0;
        for (int i = 0; i < frames; i++) {
            out.clear();
            Frames.writeTestFrame(out, src, dst, i, 64 + i % 1000);
            from.send(out.flip());
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                in.clear();
                if (to.receive(in, 1000) > 0 && Frames.testSeq(in.flip()) >= 0) {
                    if (Frames.testSeq(in) == i) {
                        inOrder++;
                    }
                    break;
                }
            }
        }
        return inOrder;
    }
}
