// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.boot;

import dev.domus.xen.api.CpuEngineKind;
import dev.domus.xen.api.ExitReason;
import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineInfo;
import dev.domus.xen.api.MachineListener;
import dev.domus.xen.bus.Bus;
import dev.domus.xen.cpu.CpuEngine;
import dev.domus.xen.cpu.Hart;
import dev.domus.xen.cpu.Interpreter;
import dev.domus.xen.cpu.jit.JitEngine;
import dev.domus.xen.devices.irq.Clint;
import dev.domus.xen.devices.irq.HartInterrupts;
import dev.domus.xen.devices.irq.MachineClock;
import dev.domus.xen.devices.irq.Plic;
import dev.domus.xen.devices.power.PowerEvents;
import dev.domus.xen.devices.power.PvPanicDevice;
import dev.domus.xen.devices.power.SifiveTestDevice;
import dev.domus.xen.devices.rtc.GoldfishRtcDevice;
import dev.domus.xen.devices.uart.Uart16550Device;
import dev.domus.xen.firmware.Sbi;
import dev.domus.xen.firmware.SbiPlatform;
import dev.domus.xen.memory.GuestMemory;
import dev.domus.xen.snapshot.MachineState;
import dev.domus.xen.snapshot.MachineImage;
import dev.domus.xen.snapshot.Snapshots;
import dev.domus.xen.snapshot.VcpuState;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The QEMU-virt-compatible machine: RAM at 0x8000_0000, CLINT, PLIC, two 16550A UARTs (console and the Domus
 * control channel), Goldfish RTC, SiFive test device, pvpanic, SBI firmware, one host thread per hart.
 *
 * <p>A vCPU thread runs its hart in batches; between batches it services remote requests (TLB shootdowns), updates
 * timer interrupts, takes pending interrupts, and parks while the hart waits for an interrupt (WFI, HSM stop or
 * suspend, machine paused), so an idle guest costs no host CPU.
 */
final class VirtMachine implements Machine, SbiPlatform, HartInterrupts {
    private static final Logger LOG = Logger.getLogger(VirtMachine.class.getName());

    static final long RAM_BASE = 0x8000_0000L;
    static final long TEST_BASE = 0x0010_0000L;
    static final long RTC_BASE = 0x0010_1000L;
    static final long PVPANIC_BASE = 0x0010_2000L;
    static final int RTC_IRQ = 11;
    /** Instructions per batch: bounds interrupt latency (~tens of microseconds) and the cost of the checks. */
    private static final int BATCH = 8192;
    /** Longest park while waiting for an interrupt, so state changes are noticed even without an unpark. */
    private static final long MAX_PARK_NANOS = 50_000_000L;

    private final MachineConfig config;
    private final MachineListener listener;
    private final GuestMemory ram;
    private final Bus bus = new Bus();
    private final MachineClock clock = new MachineClock();
    private final Hart[] harts;
    private final Thread[] threads;
    private final AtomicIntegerArray hsm;
    private final long[] startAddr;
    private final long[] startOpaque;
    private final Clint clint;
    private final Plic plic;
    private final Uart16550Device console;
    private final Uart16550Device control;
    private final ConsoleBuffer consoleOut;
    private final CpuEngine engine;
    private final boolean sbiConsoleInput;
    private final boolean virtioConsoleInput;
    private final VirtioDevices virtio;
    private final GoldfishRtcDevice rtc;
    private final ArrayDeque<Byte> sbiInput = new ArrayDeque<>();
    /** Boot diagnostics ({@code -Ddomus.boot.trace=FILE}), null when off: checked once per batch or park. */
    private final BootTrace trace = BootTrace.ACTIVE.orElse(null);

    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final AtomicReference<ExitReason> exitReason = new AtomicReference<>();
    private final CountDownLatch exited = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile boolean pauseRequested;
    /** Set once the vCPUs were first let run guest code ({@link #start}, {@link #resume}): no rehearsal after. */
    private volatile boolean everRan;
    private final AtomicIntegerArray parkedForPause;
    private long startedAtNanos;

    private static final long CAP_WINDOW_NANOS = 10_000_000L;
    /** How long pause() spins for the vCPUs to park before it falls back to short parks. */
    private static final long SPIN_NANOS = 200_000L;
    /** Changed by {@link #setCpuCap} (migration throttling); a vCPU sees the new value at its next batch. */
    private volatile long capNanosPerWindow;
    private final long[] capWindowStart;
    private final long[] capUsed;

    /** Guest-physical address of the HTIF tohost word in bare-metal mode, or 0. */
    private final long tohost;
    private final ElfImage bareMetal;

    VirtMachine(MachineConfig config, MachineListener listener, BootImages images) {
        this(config, listener, images, null);
    }

    /**
     * A machine booting either Linux with the SBI firmware ({@code images}) or, when {@code elf} is given, a bare-metal
     * program in M-mode on every hart with no firmware (ISA conformance tests; HTIF tohost ends the run).
     */
    VirtMachine(MachineConfig config, MachineListener listener, BootImages images, ElfImage elf) {
        this(config, listener, images, elf, null);
    }

    /**
     * With {@code snapshot}, the machine is rebuilt from a validated snapshot instead of booted: devices are
     * assembled for {@code config} (which must match the snapshot's), then RAM, vCPUs, devices and the clock are
     * restored. The machine does not run until {@link #start()}.
     */
    VirtMachine(MachineConfig config, MachineListener listener, BootImages images, ElfImage elf,
                MachineImage snapshot) {
        this(config, listener, images, elf, snapshot, false);
    }

    /** With {@code deferState}, RAM comes from {@code snapshot} but its state is left to {@link #restoreState}. */
    VirtMachine(MachineConfig config, MachineListener listener, BootImages images, ElfImage elf,
                MachineImage snapshot, boolean deferState) {
        this.config = config;
        this.listener = listener;
        long ramSize = (long) config.memoryMiB() << 20;
        this.ram = snapshot == null ? GuestMemory.allocate(RAM_BASE, ramSize) : snapshot.takeMemory(RAM_BASE, ramSize);
        int n = config.vcpus();
        this.harts = new Hart[n];
        this.threads = new Thread[n];
        this.hsm = new AtomicIntegerArray(n);
        this.parkedForPause = new AtomicIntegerArray(n);
        this.startAddr = new long[n];
        this.startOpaque = new long[n];
        this.bareMetal = elf;
        // One engine for all harts: the JIT keeps its translation caches per hart.
        this.engine = config.cpuEngine() == CpuEngineKind.JIT ? new JitEngine() : new Interpreter();
        this.capNanosPerWindow = config.cpuCapPercent() == 0 ? 0
                : CAP_WINDOW_NANOS * config.cpuCapPercent() / 100 / n;
        this.capWindowStart = new long[n];
        this.capUsed = new long[n];
        Sbi sbi = new Sbi(this);
        for (int i = 0; i < n; i++) {
            harts[i] = new Hart(i, ram, bus, clock);
            if (elf == null) {
                harts[i].attachFirmware(sbi);
            }
            hsm.set(i, Sbi.HSM_STOPPED);
        }
        this.consoleOut = new ConsoleBuffer(trace == null ? listener : new MachineListener() {
            @Override
            public void consoleOutput(byte[] data, int off, int len) {
                trace.console(data, off, len);
                listener.consoleOutput(data, off, len);
            }

            @Override
            public void exited(ExitReason reason) {
                listener.exited(reason);
            }
        });
        this.clint = new Clint(this, clock);
        this.plic = new Plic(this);
        this.console = new Uart16550Device("uart0", plic.line(Uart16550Device.CONSOLE_IRQ), consoleOut);
        this.control = new Uart16550Device("uart1-control", plic.line(Uart16550Device.CONTROL_IRQ),
                controlChannel::guestByte);
        PowerEvents power = new PowerEvents() {
            @Override
            public void powerOff(int code) {
                exit(new ExitReason.PowerOff(code));
            }

            @Override
            public void reset() {
                exit(new ExitReason.Reboot());
            }

            @Override
            public void crash(String reason) {
                exit(new ExitReason.Crash(reason));
            }
        };
        bus.map(TEST_BASE, new SifiveTestDevice(power));
        this.rtc = new GoldfishRtcDevice(plic.line(RTC_IRQ));
        bus.map(RTC_BASE, rtc);
        bus.map(PVPANIC_BASE, new PvPanicDevice(power));
        bus.map(Clint.BASE, clint);
        bus.map(Plic.BASE, plic);
        bus.map(Uart16550Device.CONSOLE_BASE, console);
        bus.map(Uart16550Device.CONTROL_BASE, control);
        String console = consoleName(config.cmdline());
        this.sbiConsoleInput = console.equals("hvc0");
        this.virtioConsoleInput = console.equals("hvc1");

        if (snapshot != null) {
            this.virtio = VirtioDevices.assemble(config, ram, bus, plic, consoleOut, VirtioDevices.Backends.TAP);
            try {
                if (!deferState) {
                    applySnapshot(snapshot);
                }
            } catch (RuntimeException e) {
                virtio.close();
                ram.close();
                throw e;
            }
            this.tohost = 0;
        } else if (elf == null) {
            this.virtio = VirtioDevices.assemble(config, ram, bus, plic, consoleOut, VirtioDevices.Backends.TAP);
            long entry;
            try {
                entry = BootLoader.load(ram, images, config, harts.length, virtio.slots());
            } catch (RuntimeException e) {
                virtio.close();
                throw e;
            }
            harts[0].enterSupervisorFromFirmware(entry, 0, BootLoader.fdtAddress(ram));
            hsm.set(0, Sbi.HSM_STARTED);
            this.tohost = 0;
        } else {
            this.virtio = null;
            for (ElfImage.Segment seg : elf.segments()) {
                if (!ram.containsRange(seg.address(), seg.memSize())) {
                    throw new BootException(String.format("ELF segment 0x%x+0x%x is outside guest RAM 0x%x+0x%x",
                            seg.address(), seg.memSize(), ram.base(), ram.size()));
                }
                ram.write(seg.address() - ram.base(), seg.data(), 0, seg.data().length);
            }
            for (int i = 0; i < n; i++) {
                harts[i].reset(Hart.PRIV_M, elf.entry());
                harts[i].setReg(10, i);
                hsm.set(i, Sbi.HSM_STARTED);
            }
            this.tohost = elf.symbol("tohost").filter(a -> ram.containsRange(a, 8)).orElse(0L);
        }
    }

    /** Checks that a snapshot of {@code c} fits this machine. */
    private static void checkFits(MachineConfig config, MachineConfig c) {
        if (c.memoryMiB() != config.memoryMiB() || c.vcpus() != config.vcpus()
                || c.disks().size() != config.disks().size() || c.nics().size() != config.nics().size()) {
            throw new BootException("snapshot was taken of a machine with " + c.memoryMiB() + " MiB, " + c.vcpus()
                    + " vCPUs, " + c.disks().size() + " disks and " + c.nics().size() + " NICs; this one has "
                    + config.memoryMiB() + " MiB, " + config.vcpus() + " vCPUs, " + config.disks().size()
                    + " disks and " + config.nics().size() + " NICs");
        }
    }

    private void applySnapshot(MachineImage snapshot) {
        // state() may block until an incoming migration delivered it: everything above is already built by then.
        applyState(snapshot.state());
    }

    /** Restores vCPUs, devices and the clock (RAM is already in place). */
    private void applyState(MachineState s) {
        checkFits(config, s.config());
        virtio.restore(s.virtio());
        applyCoreState(s);
    }

    /** vCPUs, CLINT, PLIC, UARTs, RTC and the clock: plain register sets that a later apply overwrites. */
    private void applyCoreState(MachineState s) {
        for (int i = 0; i < harts.length; i++) {
            VcpuState v = s.vcpus().get(i);
            harts[i].restoreState(v.hart());
            startAddr[i] = v.startAddr();
            startOpaque[i] = v.startOpaque();
            hsm.set(i, v.hsmState());
        }
        try {
            clint.restore(s.clint());
            plic.restore(s.plic());
            console.restore(s.uarts().get(0));
            control.restore(s.uarts().get(1));
            // The guest announced its control reader (DOMUS-CTL-READY) long before the snapshot; that host-side
            // flag is not in the snapshot. A port the guest's 8250 driver holds open has the receive interrupt
            // enabled, so that is the sign the reader is there (without this, xl shutdown after a restore or a
            // migration was held forever).
            controlChannel.restored((s.uarts().get(1).ier() & 1) != 0);
        } catch (IllegalArgumentException e) {
            throw new BootException("snapshot device state does not fit: " + e.getMessage(), e);
        }
        rtc.restore(s.rtc());
        clock.setMtime(s.mtime());
    }

    @Override
    public synchronized void restoreState(MachineState s) {
        State st = state.get();
        if (st != State.PAUSED && st != State.CREATED) {
            throw new IllegalStateException("machine " + config.name() + " must be paused to be restored, it is "
                    + st);
        }
        if (virtio == null) {
            throw new IllegalStateException("a bare-metal machine has no state to restore");
        }
        applyState(s);
    }

    /**
     * Before the machine ever ran (an incoming migration, with the preview state): every part of
     * {@link #applyState} but the virtio transports' activation, whose queue checks run on scratch queues. The vCPUs
     * are parked and the registers it sets are all overwritten by the real {@link #restoreState} that follows
     * (which also re-arms the RTC alarm and re-drives every interrupt line), so the guest never sees them.
     */
    @Override
    public synchronized void rehearseRestore(MachineState s) {
        State st = state.get();
        if ((st != State.PAUSED && st != State.CREATED) || virtio == null || everRan) {
            return;
        }
        checkFits(config, s.config());
        virtio.rehearse(s.virtio());
        applyCoreState(s);
    }

    /**
     * The state of every vCPU and device; only while paused (or not yet started), so nothing changes underneath.
     *
     * @param domain the domain layer's own record, stored opaquely
     */
    @Override
    public MachineState captureState(byte[] domain) {
        State st = state.get();
        if (st != State.PAUSED && st != State.CREATED) {
            throw new IllegalStateException("machine " + config.name() + " must be paused to be saved, it is " + st);
        }
        java.util.List<VcpuState> vcpus = new java.util.ArrayList<>();
        for (int i = 0; i < harts.length; i++) {
            vcpus.add(new VcpuState(harts[i].captureState(), hsm.get(i), startAddr[i], startOpaque[i]));
        }
        return new MachineState(config, domain, clock.mtime(), vcpus, clint.state(), plic.state(),
                java.util.List.of(console.state(), control.state()), rtc.state(),
                virtio == null ? java.util.List.of() : virtio.capture());
    }

    @Override
    public long save(java.nio.file.Path file, byte[] domain) {
        return Snapshots.write(file, captureState(domain), ram);
    }

    @Override
    public dev.domus.xen.memory.DirtyLog dirtyLog() {
        return ram.dirtyLog();
    }

    @Override
    public GuestMemory memory() {
        return ram;
    }

    @Override
    public java.util.List<dev.domus.xen.devices.virtio.blk.BlkDevice> disks() {
        return virtio.disks();
    }

    @Override
    public void setCpuCap(int percent) {
        if (percent < 0 || percent > 100 * harts.length) {
            throw new IllegalArgumentException("cpu cap must be 0.." + 100 * harts.length + " %, got " + percent);
        }
        capNanosPerWindow = percent == 0 ? 0 : CAP_WINDOW_NANOS * percent / 100 / harts.length;
    }

    /**
     * The console the guest kernel was told to use (the last {@code console=} word, without options): host input
     * goes there. On the Domus kernel {@code hvc0} is the SBI console and {@code hvc1} the virtio console.
     */
    static String consoleName(String cmdline) {
        String name = "ttyS0";
        for (String word : cmdline.trim().split("\\s+")) {
            if (word.startsWith("console=")) {
                String v = word.substring("console=".length());
                int comma = v.indexOf(',');
                name = comma < 0 ? v : v.substring(0, comma);
            }
        }
        return name;
    }

    /** Bare-metal mode: handles an HTIF request written to tohost (exit code or console byte). */
    private void pollTohost() {
        long off = tohost - ram.base();
        long v = ram.loadLongVolatile(off);
        if (v == 0) {
            return;
        }
        int device = (int) (v >>> 56);
        int cmd = (int) ((v >>> 48) & 0xff);
        if (device == 1 && cmd == 1) {
            consoleOut.write((int) v & 0xff);
            ram.storeLong(off, 0);
            long fromhost = bareMetal.symbol("fromhost").orElse(0L);
            if (ram.containsRange(fromhost, 8)) {
                ram.storeLong(fromhost - ram.base(), (1L << 56) | (1L << 48));
            }
        } else if (device == 0 && (v & 1) != 0) {
            exit(new ExitReason.PowerOff((int) (v >>> 1)));
        } else {
            ram.storeLong(off, 0);
        }
    }

    /** Bare-metal mode: the signature region [begin_signature, end_signature) for conformance suites. */
    byte[] signature() {
        long begin = bareMetal.symbol("begin_signature").orElse(0L);
        long end = bareMetal.symbol("end_signature").orElse(0L);
        if (begin == 0 || end <= begin || !ram.containsRange(begin, end - begin)) {
            return new byte[0];
        }
        byte[] out = new byte[(int) (end - begin)];
        ram.read(begin - ram.base(), out, 0, out.length);
        return out;
    }

    // ---------------------------------------------------------------- Machine

    @Override
    public synchronized void start() {
        if (!state.compareAndSet(State.CREATED, State.RUNNING)) {
            throw new IllegalStateException("machine " + config.name() + " already started");
        }
        everRan = true;
        startThreads();
    }

    @Override
    public synchronized void startPaused() {
        if (!state.compareAndSet(State.CREATED, State.PAUSED)) {
            throw new IllegalStateException("machine " + config.name() + " already started");
        }
        // The threads see pauseRequested first thing and park; resume() then only unparks them.
        pauseRequested = true;
        startThreads();
        awaitParked();
        clock.freeze();
    }

    private void startThreads() {
        startedAtNanos = System.nanoTime();
        for (int i = 0; i < harts.length; i++) {
            final int id = i;
            Thread t = Thread.ofPlatform().name(config.name() + "-vcpu" + i).daemon(true).unstarted(() -> runHart(id));
            threads[i] = t;
            harts[i].bindThread(t);
        }
        if (trace != null) {
            trace.mark("vcpus-start");
            trace.startSampler(harts[0], threads[0]);
        }
        for (Thread t : threads) {
            t.start();
        }
        Thread.ofPlatform().name(config.name() + "-reaper").daemon(true).start(this::reap);
    }

    @Override
    public synchronized void pause() {
        if (!state.compareAndSet(State.RUNNING, State.PAUSED)) {
            return;
        }
        pauseRequested = true;
        for (Hart h : harts) {
            h.wake();
        }
        awaitParked();
        clock.freeze();
        consoleOut.flush();
    }

    /** Waits until every live vCPU thread parked for the pause: spins briefly (a vCPU sees the request within one
     *  batch), then polls with short parks so a slow vCPU does not burn this core. */
    private void awaitParked() {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        for (int i = 0; i < harts.length; i++) {
            while (parkedForPause.get(i) == 0 && threads[i].isAlive() && !stopping) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(50_000);
                }
            }
        }
    }

    @Override
    public synchronized void resume() {
        if (!state.compareAndSet(State.PAUSED, State.RUNNING)) {
            return;
        }
        everRan = true;
        clock.resume();
        pauseRequested = false;
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public State state() {
        return state.get();
    }

    @Override
    public void consoleInput(byte[] data) {
        if (virtioConsoleInput && virtio != null) {
            virtio.console().receive(data, 0, data.length);
            return;
        }
        if (sbiConsoleInput) {
            synchronized (sbiInput) {
                for (byte b : data) {
                    if (sbiInput.size() < 4096) {
                        sbiInput.add(b);
                    }
                }
            }
            for (Hart h : harts) {
                h.wake();
            }
            return;
        }
        console.receive(data, 0, data.length);
    }

    @Override
    public void requestShutdown(boolean reboot) {
        controlChannel.request(reboot ? "reboot" : "poweroff");
    }

    @Override
    public void sendControlLine(String line) {
        controlChannel.request(line);
    }

    /**
     * The host side of the Domus control channel (second UART). The guest announces its reader with a
     * {@code DOMUS-CTL-READY} line when it opens the port; a request made earlier would be lost (the 8250 driver
     * clears the FIFOs on open), so it is held and delivered on that line. Requests are idempotent lines.
     */
    private final class ControlChannel {
        private final StringBuilder line = new StringBuilder();
        private boolean ready;
        private String pending;

        synchronized void guestByte(int b) {
            if (b == '\n') {
                String l = line.toString().trim();
                line.setLength(0);
                if (l.equals("DOMUS-CTL-READY")) {
                    ready = true;
                    if (pending != null) {
                        send(pending);
                    }
                } else if (l.startsWith("DOMUS-CTL-ACK")) {
                    pending = null;
                }
            } else if (line.length() < 256) {
                line.append((char) (b & 0xff));
            }
        }

        synchronized void restored(boolean readerOpen) {
            ready = readerOpen;
        }

        synchronized void request(String command) {
            pending = command;
            if (ready) {
                send(command);
            }
        }

        private void send(String command) {
            byte[] msg = (command + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            control.receive(msg, 0, msg.length);
        }
    }

    private final ControlChannel controlChannel = new ControlChannel();

    @Override
    public void destroy() {
        exit(new ExitReason.Destroyed());
    }

    @Override
    public Optional<ExitReason> awaitExit(Duration timeout) throws InterruptedException {
        if (exited.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            return Optional.of(exitReason.get());
        }
        return Optional.empty();
    }

    @Override
    public MachineInfo info() {
        long instr = 0;
        for (Hart h : harts) {
            instr += h.instructionsRetired();
        }
        long cpu = 0;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (Thread t : threads) {
            if (t != null && t.isAlive()) {
                long c = mx.getThreadCpuTime(t.threadId());
                if (c > 0) {
                    cpu += c;
                }
            }
        }
        long up = startedAtNanos == 0 ? 0 : (System.nanoTime() - startedAtNanos) / 1_000_000;
        return new MachineInfo(harts.length, config.memoryMiB(), instr, up, cpu / 1_000_000);
    }

    @Override
    public void close() {
        destroy();
        try {
            exited.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (exited.getCount() == 0) {
            ram.close();
        }
    }

    /** Records the first exit reason and stops every vCPU. */
    void exit(ExitReason reason) {
        if (exitReason.compareAndSet(null, reason)) {
            stopping = true;
            for (Hart h : harts) {
                h.wake();
            }
            if (state.get() == State.CREATED) {
                if (virtio != null) {
                    virtio.close();
                }
                state.set(State.STOPPED);
                exited.countDown();
                listener.exited(reason);
            }
        }
    }

    private void reap() {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        consoleOut.flush();
        if (virtio != null) {
            virtio.close();
        }
        state.set(State.STOPPED);
        ExitReason r = exitReason.get();
        LOG.info(() -> "event=machine-exit domain=" + config.name() + " reason=" + r);
        exited.countDown();
        listener.exited(r);
    }

    // ---------------------------------------------------------------- vCPU loop

    private void runHart(int id) {
        Hart h = harts[id];
        if (trace != null && id == 0) {
            trace.mark("vcpu0-thread-running");
        }
        try {
            while (!stopping) {
                if (pauseRequested) {
                    parkedForPause.set(id, 1);
                    while (pauseRequested && !stopping) {
                        LockSupport.parkNanos(MAX_PARK_NANOS);
                    }
                    parkedForPause.set(id, 0);
                    continue;
                }
                int st = hsm.get(id);
                if (st == Sbi.HSM_STOPPED) {
                    LockSupport.parkNanos(MAX_PARK_NANOS);
                    continue;
                }
                if (st == Sbi.HSM_START_PENDING) {
                    h.enterSupervisorFromFirmware(startAddr[id], id, startOpaque[id]);
                    hsm.set(id, Sbi.HSM_STARTED);
                    continue;
                }
                h.serviceRemoteRequests();
                long cmp = clint.mtimecmp(id);
                h.updateTimers(clock.mtime(), cmp);
                if (st == Sbi.HSM_SUSPENDED || h.waitingForInterrupt()) {
                    if (h.interruptPendingForWfi()) {
                        h.clearWaitingForInterrupt();
                        if (st == Sbi.HSM_SUSPENDED) {
                            hsm.set(id, Sbi.HSM_STARTED);
                        }
                    } else {
                        consoleOut.flush();
                        long deadline = h.nextTimerDeadline(cmp);
                        long parkNanos = MAX_PARK_NANOS;
                        if (deadline != -1L) {
                            parkNanos = Math.min(parkNanos, clock.nanoTimeAt(deadline) - System.nanoTime());
                        }
                        if (parkNanos > 0) {
                            long p0 = trace != null ? System.nanoTime() : 0;
                            LockSupport.parkNanos(parkNanos);
                            if (trace != null && id == 0) {
                                trace.parked(System.nanoTime() - p0);
                            }
                        }
                        continue;
                    }
                }
                h.checkInterrupts();
                long t0 = capNanosPerWindow > 0 ? System.nanoTime() : 0;
                engine.execute(h, BATCH);
                if (trace != null && id == 0) {
                    trace.batches++;
                }
                if (capNanosPerWindow > 0) {
                    throttle(id, t0);
                }
                consoleOut.flushIfPending();
                if (tohost != 0 && id == 0) {
                    pollTohost();
                }
            }
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "event=vcpu-failure domain=" + config.name() + " hart=" + id + " pc=0x"
                    + Long.toHexString(h.pc()), t);
            exit(new ExitReason.Crash("internal error on vCPU " + id + ": " + t));
        }
    }

    /**
     * cpu_cap: each vCPU may run {@code capNanosPerWindow} per {@link #CAP_WINDOW_NANOS}; when its share of the
     * current window is used up it parks until the window ends (like Xen's credit scheduler cap).
     */
    private void throttle(int id, long batchStart) {
        long now = System.nanoTime();
        if (now - capWindowStart[id] >= CAP_WINDOW_NANOS) {
            capWindowStart[id] = now;
            capUsed[id] = 0;
        }
        capUsed[id] += now - batchStart;
        if (capUsed[id] >= capNanosPerWindow) {
            long rest = capWindowStart[id] + CAP_WINDOW_NANOS - now;
            if (rest > 0) {
                consoleOut.flush();
                LockSupport.parkNanos(rest);
            }
            capWindowStart[id] = System.nanoTime();
            capUsed[id] = 0;
        }
    }

    // ---------------------------------------------------------------- HartInterrupts

    @Override
    public int hartCount() {
        return harts.length;
    }

    @Override
    public void setPending(int hart, int bit, boolean pending) {
        if (hart >= 0 && hart < harts.length) {
            harts[hart].setPending(bit, pending);
        }
    }

    // ---------------------------------------------------------------- SbiPlatform

    @Override
    public Hart hart(int id) {
        return harts[id];
    }

    @Override
    public int hsmState(int id) {
        return hsm.get(id);
    }

    @Override
    public boolean hsmStart(int id, long addr, long opaque) {
        if (hsm.get(id) != Sbi.HSM_STOPPED) {
            return false;
        }
        startAddr[id] = addr;
        startOpaque[id] = opaque;
        if (!hsm.compareAndSet(id, Sbi.HSM_STOPPED, Sbi.HSM_START_PENDING)) {
            return false;
        }
        harts[id].wake();
        return true;
    }

    @Override
    public void hsmStop(Hart self) {
        hsm.set(self.hartId(), Sbi.HSM_STOPPED);
    }

    @Override
    public void hsmSuspend(Hart self) {
        hsm.set(self.hartId(), Sbi.HSM_SUSPENDED);
    }

    @Override
    public void consoleWrite(byte[] data, int off, int len) {
        for (int i = 0; i < len; i++) {
            consoleOut.write(data[off + i]);
        }
    }

    @Override
    public int consoleRead() {
        synchronized (sbiInput) {
            Byte b = sbiInput.poll();
            return b == null ? -1 : b & 0xff;
        }
    }

    @Override
    public void systemReset(int type, int reason) {
        if (type == 0x100) {
            exit(new ExitReason.Crash("guest trapped into M-mode, which the SBI firmware owns"));
        } else if (type == 0) {
            exit(reason == 1 ? new ExitReason.Crash("guest reported a system failure (SBI SRST)")
                    : new ExitReason.PowerOff(0));
        } else {
            exit(new ExitReason.Reboot());
        }
    }

    @Override
    public long mtime() {
        return clock.mtime();
    }
}
