// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.migration;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A fault-injecting TCP proxy for one migration connection, run as its own JVM inside the target's network
 * namespace: {@code MigrationProxy <listen host:port> <target host:port> <mode> [n]}. It parses the frames of the
 * migration stream in both directions (type, length, payload, CRC32C) and forwards them unchanged except for
 * {@code mode}:
 *
 * <ul>
 *   <li>{@code cut N}: after N PAGES frames, closes both connections (connection dropped mid-RAM);</li>
 *   <li>{@code flip N}: flips one payload bit of the N-th PAGES frame (checksum mismatch on the target);</li>
 *   <li>{@code stall N}: after N PAGES frames stops forwarding (the test kills the target meanwhile);</li>
 *   <li>{@code hold-ready}: does not forward the target's READY (the test kills the paused target);</li>
 *   <li>{@code drop-commit}: swallows the source's COMMIT and closes both connections (the in-doubt window);</li>
 *   <li>{@code drop-done}: forwards COMMIT, swallows the target's DONE and closes both (in doubt, target wins).</li>
 * </ul>
 *
 * <p>It prints {@code LISTENING}, then {@code EVENT <what>} lines when a fault fires, on stdout; it exits when
 * both directions ended. Only a test helper: it trusts lengths up to the stream's own limit.
 */
public final class MigrationProxy {
    private static final PrintStream OUT = System.out;

    private final String mode;
    private final int n;
    private final Socket source;
    private final Socket target;
    private int pagesSeen;

    private MigrationProxy(String mode, int n, Socket source, Socket target) {
        this.mode = mode;
        this.n = n;
        this.source = source;
        this.target = target;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: MigrationProxy <listen host:port> <target host:port> <mode> [n]");
            System.exit(2);
        }
        InetSocketAddress listen = addr(args[0]);
        InetSocketAddress to = addr(args[1]);
        String mode = args[2];
        int n = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        Socket src;
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(listen);
            event("LISTENING");
            src = server.accept();
        }
        Socket dst = new Socket();
        dst.connect(to, 30_000);
        src.setTcpNoDelay(true);
        dst.setTcpNoDelay(true);
        MigrationProxy p = new MigrationProxy(mode, n, src, dst);
        Thread up = Thread.ofPlatform().start(() -> p.pump(true));
        Thread down = Thread.ofPlatform().start(() -> p.pump(false));
        up.join();
        down.join();
        event("CLOSED");
    }

    private static InetSocketAddress addr(String s) {
        int c = s.lastIndexOf(':');
        return new InetSocketAddress(s.substring(0, c), Integer.parseInt(s.substring(c + 1)));
    }

    private static synchronized void event(String what) {
        OUT.println(what.equals("LISTENING") || what.equals("CLOSED") ? what : "EVENT " + what);
        OUT.flush();
    }

    /** Copies frames source->target ({@code up}) or target->source, applying the fault. */
    private void pump(boolean up) {
        Socket from = up ? source : target;
        Socket to = up ? target : source;
        try {
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(from.getInputStream(), 1 << 16));
            DataOutputStream out = new DataOutputStream(to.getOutputStream());
            byte[] buf = new byte[Stream.MAX_FRAME + 9];
            while (true) {
                int type = in.read();
                if (type < 0) {
                    break;
                }
                int len = in.readInt();
                if (len < 0 || len > Stream.MAX_FRAME) {
                    throw new IOException("frame length " + len);
                }
                in.readFully(buf, 5, len + 4);
                buf[0] = (byte) type;
                buf[1] = (byte) (len >>> 24);
                buf[2] = (byte) (len >>> 16);
                buf[3] = (byte) (len >>> 8);
                buf[4] = (byte) len;
                if (up && type == Stream.PAGES) {
                    int seen;
                    synchronized (this) {
                        seen = ++pagesSeen;
                    }
                    if (mode.equals("flip") && seen == n) {
                        buf[5 + len / 2] ^= 0x10;
                        event("flipped a bit in PAGES frame " + seen);
                    }
                    if (mode.equals("cut") && seen > n) {
                        event("cut after " + n + " PAGES frames");
                        closeBoth();
                        return;
                    }
                    if (mode.equals("stall") && seen > n) {
                        event("stalled after " + n + " PAGES frames");
                        while (!source.isClosed()) {
                            Thread.sleep(100); // the test kills the target; the other pump then closes both
                        }
                        return;
                    }
                }
                if (up && type == Stream.COMMIT && mode.equals("drop-commit")) {
                    event("dropped COMMIT");
                    closeBoth();
                    return;
                }
                if (!up && type == Stream.DONE && mode.equals("drop-done")) {
                    event("dropped DONE");
                    closeBoth();
                    return;
                }
                if (!up && type == Stream.READY && mode.equals("hold-ready")) {
                    event("holding READY");
                    continue; // never forwarded: the source waits until the target dies and the pump closes
                }
                out.write(buf, 0, 5 + len + 4);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // one side went away: tear the other down too
        }
        closeBoth();
    }

    private void closeBoth() {
        for (Socket s : new Socket[] {source, target}) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
