// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware;

import dev.domus.xen.cpu.Firmware;
import dev.domus.xen.cpu.Hart;
import dev.domus.xen.memory.GuestMemory;

/**
 * Domus's SBI implementation, the hypercall interface of the platform: the S-mode guest kernel's {@code ecall}s land
 * here instead of in M-mode firmware. Implements BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN and the legacy v0.1
 * calls. Arguments come from a0..a5, the function id from a6, the extension id from a7; results go to a0 (error)
 * and a1 (value). Every guest-supplied address is bounds-checked against guest RAM.
 */
public final class Sbi implements Firmware {
    public static final long EXT_BASE = 0x10;
    public static final long EXT_TIME = 0x54494D45L;
    public static final long EXT_IPI = 0x735049L;
    public static final long EXT_RFENCE = 0x52464E43L;
    public static final long EXT_HSM = 0x48534DL;
    public static final long EXT_SRST = 0x53525354L;
    public static final long EXT_DBCN = 0x4442434EL;

    static final long SUCCESS = 0;
    static final long ERR_FAILED = -1;
    static final long ERR_NOT_SUPPORTED = -2;
    static final long ERR_INVALID_PARAM = -3;
    static final long ERR_INVALID_ADDRESS = -5;
    static final long ERR_ALREADY_AVAILABLE = -6;

    public static final int HSM_STARTED = 0;
    public static final int HSM_STOPPED = 1;
    public static final int HSM_START_PENDING = 2;
    public static final int HSM_STOP_PENDING = 3;
    public static final int HSM_SUSPENDED = 4;

    /** SBI spec version 2.0. */
    static final long SPEC_VERSION = 2L << 24;
    /** Implementation id: not in the SBI registry; "DM" for Domus. */
    static final long IMPL_ID = 0x444D;
    static final long IMPL_VERSION = 1;

    private final SbiPlatform platform;

    public Sbi(SbiPlatform platform) {
        this.platform = platform;
    }

    @Override
    public void ecall(Hart h) {
        long eid = h.reg(17);
        long fid = h.reg(16);
        long a0 = h.reg(10);
        long a1 = h.reg(11);
        long a2 = h.reg(12);
        if (eid >= 0 && eid <= 8) {
            legacy(h, (int) eid, a0, a1, a2);
            return;
        }
        long err = ERR_NOT_SUPPORTED;
        long value = 0;
        if (eid == EXT_BASE) {
            err = SUCCESS;
            switch ((int) fid) {
                case 0 -> value = SPEC_VERSION;
                case 1 -> value = IMPL_ID;
                case 2 -> value = IMPL_VERSION;
                case 3 -> value = supported(a0) ? 1 : 0;
                case 4, 5, 6 -> value = 0;
                default -> err = ERR_NOT_SUPPORTED;
            }
        } else if (eid == EXT_TIME) {
            if (fid == 0) {
                setTimer(h, a0);
                err = SUCCESS;
            }
        } else if (eid == EXT_IPI) {
            if (fid == 0) {
                err = forEachHart(a0, a1, target -> platform.hart(target).setPending(1, true));
            }
        } else if (eid == EXT_RFENCE) {
            if (fid >= 0 && fid <= 2) {
                err = forEachHart(a0, a1, target -> remoteFlush(h, target));
            }
        } else if (eid == EXT_HSM) {
            long[] res = hsm(h, fid, a0, a1, a2);
            err = res[0];
            value = res[1];
            if (err == Long.MIN_VALUE) {
                return; // hart stopped: registers are irrelevant
            }
        } else if (eid == EXT_SRST) {
            if (fid == 0) {
                if (a0 < 0 || a0 > 2 || a1 < 0 || a1 > 1) {
                    err = ERR_INVALID_PARAM;
                } else {
                    platform.systemReset((int) a0, (int) a1);
                    err = SUCCESS;
                }
            }
        } else if (eid == EXT_DBCN) {
            long[] res = debugConsole(h, fid, a0, a1, a2);
            err = res[0];
            value = res[1];
        }
        h.setReg(10, err);
        h.setReg(11, value);
    }

    @Override
    public void machineTrap(Hart h, long cause, long tval) {
        platform.systemReset(0x100, 1);
        throw new IllegalStateException(String.format(
                "hart %d: trap to M-mode with SBI firmware: cause=0x%x tval=0x%x pc=0x%x", h.hartId(), cause,
                tval, h.pc()));
    }

    private static boolean supported(long eid) {
        return eid == EXT_BASE || eid == EXT_TIME || eid == EXT_IPI || eid == EXT_RFENCE || eid == EXT_HSM
                || eid == EXT_SRST || eid == EXT_DBCN || (eid >= 0 && eid <= 8);
    }

    private void setTimer(Hart h, long when) {
        h.setTimerCompare(when, platform.mtime());
    }

    private interface HartAction {
        void apply(int hart);
    }

    /** Applies {@code action} to the harts selected by (mask, base); base -1 selects all. */
    private long forEachHart(long mask, long base, HartAction action) {
        int n = platform.hartCount();
        if (base == -1) {
            for (int i = 0; i < n; i++) {
                action.apply(i);
            }
            return SUCCESS;
        }
        if (base < 0 || base >= n && mask != 0) {
            return ERR_INVALID_PARAM;
        }
        for (int bit = 0; bit < 64; bit++) {
            if (((mask >>> bit) & 1) != 0) {
                long id = base + bit;
                if (id >= n) {
                    return ERR_INVALID_PARAM;
                }
            }
        }
        for (int bit = 0; bit < 64; bit++) {
            if (((mask >>> bit) & 1) != 0) {
                action.apply((int) (base + bit));
            }
        }
        return SUCCESS;
    }

    private void remoteFlush(Hart self, int target) {
        Hart t = platform.hart(target);
        if (t == self) {
            self.flushTlb();
            return;
        }
        t.requestFlushAndWait(platform.hsmState(target) == HSM_STARTED);
    }

    private long[] hsm(Hart h, long fid, long a0, long a1, long a2) {
        int n = platform.hartCount();
        switch ((int) fid) {
            case 0 -> {
                if (a0 < 0 || a0 >= n) {
                    return new long[] {ERR_INVALID_PARAM, 0};
                }
                if (!platform.hart((int) a0).memory().containsRange(a1, 2)) {
                    return new long[] {ERR_INVALID_ADDRESS, 0};
                }
                return new long[] {platform.hsmStart((int) a0, a1, a2) ? SUCCESS : ERR_ALREADY_AVAILABLE, 0};
            }
            case 1 -> {
                platform.hsmStop(h);
                return new long[] {Long.MIN_VALUE, 0};
            }
            case 2 -> {
                if (a0 < 0 || a0 >= n) {
                    return new long[] {ERR_INVALID_PARAM, 0};
                }
                return new long[] {SUCCESS, platform.hsmState((int) a0)};
            }
            case 3 -> {
                int type = (int) a0;
                if (type == 0) {
                    h.setReg(10, SUCCESS);
                    h.setReg(11, 0);
                    platform.hsmSuspend(h);
                    return new long[] {SUCCESS, 0};
                }
                if (type == 0x80000000) {
                    if (!h.memory().containsRange(a1, 2)) {
                        return new long[] {ERR_INVALID_ADDRESS, 0};
                    }
                    // Non-retentive: resume at a1 in S-mode with a0 = hartid, a1 = opaque, after a wake-up.
                    h.resumeNonRetentive(a1, a2);
                    platform.hsmSuspend(h);
                    return new long[] {Long.MIN_VALUE, 0};
                }
                return new long[] {ERR_INVALID_PARAM, 0};
            }
            default -> {
                return new long[] {ERR_NOT_SUPPORTED, 0};
            }
        }
    }

    private long[] debugConsole(Hart h, long fid, long num, long lo, long hi) {
        GuestMemory ram = h.memory();
        switch ((int) fid) {
            case 0, 1 -> {
                long addr = lo; // RV64: base_addr_hi must be zero
                if (hi != 0 || num < 0 || !ram.containsRange(addr, num)) {
                    return new long[] {ERR_INVALID_PARAM, 0};
                }
                int len = (int) Math.min(num, 4096);
                long off = addr - ram.base();
                if (fid == 0) {
                    byte[] buf = new byte[len];
                    ram.read(off, buf, 0, len);
                    platform.consoleWrite(buf, 0, len);
                    return new long[] {SUCCESS, len};
                }
                int got = 0;
                byte[] buf = new byte[len];
                while (got < len) {
                    int c = platform.consoleRead();
                    if (c < 0) {
                        break;
                    }
                    buf[got++] = (byte) c;
                }
                ram.write(off, buf, 0, got);
                return new long[] {SUCCESS, got};
            }
            case 2 -> {
                platform.consoleWrite(new byte[] {(byte) num}, 0, 1);
                return new long[] {SUCCESS, 0};
            }
            default -> {
                return new long[] {ERR_NOT_SUPPORTED, 0};
            }
        }
    }

    private void legacy(Hart h, int eid, long a0, long a1, long a2) {
        long ret = 0;
        switch (eid) {
            case 0 -> setTimer(h, a0);
            case 1 -> platform.consoleWrite(new byte[] {(byte) a0}, 0, 1);
            case 2 -> ret = platform.consoleRead();
            case 3 -> h.setPending(1, false);
            case 4, 5, 6, 7 -> {
                long mask = -1L;
                if (a0 != 0) {
                    try {
                        mask = h.loadVirtual(a0, 8);
                    } catch (IllegalArgumentException e) {
                        ret = ERR_INVALID_ADDRESS;
                        break;
                    }
                }
                final long m = mask;
                for (int i = 0; i < platform.hartCount() && i < 64; i++) {
                    if (((m >>> i) & 1) != 0) {
                        if (eid == 4) {
                            platform.hart(i).setPending(1, true);
                        } else {
                            remoteFlush(h, i);
                        }
                    }
                }
            }
            case 8 -> platform.systemReset(0, 0);
            default -> ret = ERR_NOT_SUPPORTED;
        }
        h.setReg(10, ret);
    }
}
