// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.service;

import dev.domus.xen.domain.ConsoleClient;
import dev.domus.xen.domain.DomainException;
import dev.domus.xen.domain.RunDir;
import java.io.IOException;
import java.time.Duration;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Logs a guest's boot phases as the agent sees them: follows the console of a freshly launched domain until the
 * ready marker and logs one {@code event=guest_boot} line per {@code domus-init: phase=...} mark (guest uptime
 * from the mark, host time since the create/start began), so create-to-SSH time can be split into agent,
 * runner start, kernel boot and init (deploy/bench/create-to-ssh prints it). Observation only: a failure to attach
 * or read is logged at debug and changes nothing.
 */
final class BootTimeline {
    private static final Logger LOG = Logger.getLogger(BootTimeline.class);
    private static final String MARK = "domus-init: phase=";
    private static final String READY = "DOMUS-GUEST-READY";
    private static final Duration LIMIT = Duration.ofMinutes(5);
    /** Longest console line kept; longer ones are cut (a guest decides what it prints). */
    private static final int MAX_LINE = 256;

    private BootTimeline() {
    }

    /** Starts following {@code domain}'s console on a virtual thread; {@code t0} = System.nanoTime() of the start. */
    static void follow(RunDir runDir, String domain, UUID vpsId, long t0) {
        follow(runDir, domain, vpsId, t0, "cold");
    }

    /** As {@link #follow(RunDir, String, UUID, long)}; {@code mode} ({@code warm}/{@code cold}) goes on each line. */
    static void follow(RunDir runDir, String domain, UUID vpsId, long t0, String mode) {
        Thread.ofVirtual().name("boot-" + vpsId).start(() -> run(runDir, domain, vpsId, t0, mode));
    }

    private static void run(RunDir runDir, String domain, UUID vpsId, long t0, String mode) {
        ConsoleClient c;
        try {
            c = ConsoleClient.attach(runDir, domain);
        } catch (DomainException e) {
            LOG.debugf("event=boot_timeline_unavailable vps=%s error=%s", vpsId, e.getMessage());
            return;
        }
        // The console read blocks; a timer closes it if the guest never becomes ready.
        Thread guard = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(LIMIT);
                c.close();
            } catch (InterruptedException e) {
                // ready in time
            }
        });
        try (c) {
            byte[] buf = new byte[4096];
            StringBuilder line = new StringBuilder();
            int n;
            while ((n = c.read(buf, 0, buf.length)) >= 0) {
                for (int i = 0; i < n; i++) {
                    char ch = (char) (buf[i] & 0xff);
                    if (ch != '\n') {
                        if (line.length() < MAX_LINE && ch != '\r') {
                            line.append(ch);
                        }
                        continue;
                    }
                    if (onLine(line.toString(), vpsId, t0, mode)) {
                        return;
                    }
                    line.setLength(0);
                }
            }
        } catch (IOException e) {
            LOG.debugf("event=boot_timeline_ended vps=%s error=%s", vpsId, e.getMessage());
        } finally {
            guard.interrupt();
        }
    }

    /** True at the ready marker (the end of what is followed). */
    private static boolean onLine(String line, UUID vpsId, long t0, String mode) {
        long ms = (System.nanoTime() - t0) / 1_000_000;
        int at = line.indexOf(MARK);
        if (at >= 0) {
            String rest = line.substring(at + MARK.length());
            int sp = rest.indexOf(' ');
            String phase = sp < 0 ? rest : rest.substring(0, sp);
            String uptime = "";
            int u = rest.indexOf("uptime=");
            if (u >= 0) {
                uptime = rest.substring(u + 7).strip();
            }
            LOG.infof("event=guest_boot vps=%s mode=%s phase=%s guest_uptime_s=%s since_start_ms=%d", vpsId, mode,
                    clean(phase), clean(uptime), ms);
            return false;
        }
        if (line.contains(READY)) {
            LOG.infof("event=guest_boot vps=%s mode=%s phase=ready since_start_ms=%d", vpsId, mode, ms);
            return true;
        }
        return false;
    }

    /** Guest text in a log line: printable, no spaces or quotes, bounded. */
    private static String clean(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 32));
        for (int i = 0; i < s.length() && b.length() < 32; i++) {
            char ch = s.charAt(i);
            b.append(ch > ' ' && ch < 127 && ch != '"' ? ch : '_');
        }
        return b.toString();
    }

}
