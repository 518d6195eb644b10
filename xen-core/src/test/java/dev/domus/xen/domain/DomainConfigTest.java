// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.boot.KernelHeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.domus.xen.api.DiskConfig;
import dev.domus.xen.api.MachineConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DomainConfigTest {
    @TempDir
    Path dir;

    private static final Map<String, String> ENV = Map.of("GUEST", "guest", "EMPTY", "");

    @BeforeEach
    void kernelAndRamdisk() throws IOException {
        Files.createDirectories(dir.resolve("guest"));
        Files.write(dir.resolve("Image"), riscvImage());
        Files.write(dir.resolve("guest/Image"), riscvImage());
        Files.write(dir.resolve("initrd"), new byte[] {1, 2, 3});
        Files.write(dir.resolve("root.img"), new byte[4096]);
        Files.write(dir.resolve("guest/data.img"), new byte[4096]);
    }

    static byte[] riscvImage() {
        byte[] h = new byte[128];
        System.arraycopy("RISCV\0\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, h, 48, 8);
        System.arraycopy(new byte[] {'R', 'S', 'C', 5}, 0, h, 56, 4);
        return h;
    }

    private DomainConfig load(String text) throws IOException {
        Path cfg = dir.resolve("demo.cfg");
        Files.writeString(cfg, text);
        return DomainConfig.load(cfg, ENV);
    }

    @Test
    void parsesAFullConfig() throws IOException {
        DomainConfig c = load("""
                # a demo domain
                name = "demo-1.x_y"
                memory = 256   # MiB
                vcpus = 2
                kernel = 'Image'
                ramdisk = "${GUEST}/../initrd"
                extra = "console=ttyS0 earlycon=sbi quote=\\" tick=\\'"
                on_poweroff = 'preserve'
                on_reboot = "destroy"
                on_crash = 'restart'
                cpu_cap = 150;
                disk = [ 'root.img,rw,vda',
                         # a comment inside the list
                         "${GUEST}/data.img, ro ,vdb", ]
                vif = []
                """);
        assertThat(c.name()).isEqualTo("demo-1.x_y");
        assertThat(c.memoryMiB()).isEqualTo(256);
        assertThat(c.vcpus()).isEqualTo(2);
        assertThat(c.kernel()).isEqualTo(dir.resolve("Image").toAbsolutePath().normalize());
        assertThat(c.ramdisk()).contains(dir.resolve("initrd").toAbsolutePath().normalize());
        assertThat(c.cmdline()).isEqualTo("console=ttyS0 earlycon=sbi quote=\" tick='");
        assertThat(c.onPoweroff()).isEqualTo(LifecycleAction.PRESERVE);
        assertThat(c.onReboot()).isEqualTo(LifecycleAction.DESTROY);
        assertThat(c.onCrash()).isEqualTo(LifecycleAction.RESTART);
        assertThat(c.cpuCapPercent()).isEqualTo(150);
        Path root = dir.resolve("root.img").toAbsolutePath().normalize();
        Path data = dir.resolve("guest/data.img").toAbsolutePath().normalize();
        assertThat(c.disks()).containsExactly(root + ",rw,vda", data + ",ro,vdb");
        assertThat(c.vifs()).isEmpty();
        assertThat(c.source()).isEqualTo(dir.resolve("demo.cfg").toAbsolutePath().normalize());

        MachineConfig m = c.toMachineConfig();
        assertThat(m).isEqualTo(new MachineConfig("demo-1.x_y", 256, 2, c.kernel(), c.ramdisk(), c.cmdline(), 150,
                List.of(new DiskConfig(root, false, "vda"), new DiskConfig(data, true, "vdb")), List.of()));
    }

    @Test
    void appliesXlDefaults() throws IOException {
        DomainConfig c = load("name='d'\nkernel='Image'\n");
        assertThat(c.memoryMiB()).isEqualTo(DomainConfig.DEFAULT_MEMORY_MIB);
        assertThat(c.vcpus()).isEqualTo(1);
        assertThat(c.cmdline()).isEmpty();
        assertThat(c.ramdisk()).isEmpty();
        assertThat(c.cpuCapPercent()).isZero();
        assertThat(c.onPoweroff()).isEqualTo(LifecycleAction.DESTROY);
        assertThat(c.onReboot()).isEqualTo(LifecycleAction.RESTART);
        assertThat(c.onCrash()).isEqualTo(LifecycleAction.DESTROY);
        assertThat(c.disks()).isEmpty();
        assertThat(c.cpuEngine()).isEmpty();
    }

    @Test
    void cpuEngineSelectsTheEngineOfTheMachine() throws IOException {
        DomainConfig jit = load("name='d'\nkernel='Image'\ncpu_engine = 'jit'\n");
        assertThat(jit.cpuEngine()).contains(dev.domus.xen.api.CpuEngineKind.JIT);
        assertThat(jit.toMachineConfig().cpuEngine()).isEqualTo(dev.domus.xen.api.CpuEngineKind.JIT);
        DomainConfig interp = load("name='d'\nkernel='Image'\ncpu_engine = 'interpreter'\n");
        assertThat(interp.toMachineConfig().cpuEngine()).isEqualTo(dev.domus.xen.api.CpuEngineKind.INTERPRETER);
    }

    @Test
    void cmdlineIsAnAliasOfExtraAndEnvIsExpandedAnywhereInAString() throws IOException {
        DomainConfig c = load("name='d'\nkernel='${GUEST}/Image'\ncmdline='root=${GUEST}x$y'\nvif=['mac=52:54:00:12:34:56']");
        assertThat(c.cmdline()).isEqualTo("root=guestx$y");
        assertThat(c.kernel()).isEqualTo(dir.resolve("guest/Image").toAbsolutePath().normalize());
        assertThat(c.vifs()).containsExactly("mac=52:54:00:12:34:56");
    }

    @Test
    void absolutePathsAreKeptAndWindowsLineEndingsAreFine() throws IOException {
        Path abs = dir.resolve("Image").toAbsolutePath();
        DomainConfig c = load("name = 'd'\r\nkernel = '" + abs + "'\r\n");
        assertThat(c.kernel()).isEqualTo(abs);
    }

    static Stream<Arguments> badConfigs() {
        String ok = "name='d'\nkernel='Image'\n";
        return Stream.of(
                Arguments.of("kernel='Image'\n", ": 'name' is required"),
                Arguments.of("name='d'\n", ": 'kernel' is required"),
                Arguments.of(ok + "memory = 0\n", ":3: memory must be 16..65536 MiB, got 0"),
                Arguments.of(ok + "memory = 70000\n", ":3: memory must be 16..65536 MiB, got 70000"),
                Arguments.of(ok + "memory = '256'\n", ":3: memory must be an integer, got a string"),
                Arguments.of(ok + "memory = 256M\n", ":3: bad number '256M...' (integers only, no units)"),
                Arguments.of(ok + "vcpus = 9\n", ":3: vcpus must be 1..8, got 9"),
                Arguments.of(ok + "cpu_cap = -5\n",
                        ":3: cpu_cap must be 0..800 (percent of one core, 0 = no cap), got -5"),
                Arguments.of("name='bad name'\nkernel='Image'\n",
                        ":1: name must match [A-Za-z0-9_.-]{1,64}, got 'bad name'"),
                Arguments.of("name='" + "x".repeat(65) + "'\nkernel='Image'\n",
                        ":1: name must match [A-Za-z0-9_.-]{1,64}, got '" + "x".repeat(65) + "'"),
                Arguments.of("name=42\nkernel='Image'\n", ":1: name must be a quoted string, got an integer"),
                Arguments.of(ok + "memmory = 256\n", ":3: unknown key 'memmory' (did you mean 'memory'?)"),
                Arguments.of(ok + "bootloader = 'pygrub'\n", ":3: unknown key 'bootloader'"),
                Arguments.of(ok + "name = 'e'\n", ":3: 'name' is already set on line 1"),
                Arguments.of(ok + "on_crash = 'coredump-destroy'\n",
                        ":3: on_crash must be destroy, restart or preserve, got 'coredump-destroy'"),
                Arguments.of(ok + "extra = 'a'\ncmdline = 'b'\n",
                        ":4: 'cmdline' and 'extra' (line 3) are the same setting; keep one"),
                Arguments.of(ok + "extra = \"open\n", ":3: unterminated string (missing \")"),
                Arguments.of(ok + "extra = 'bad \\q'\n", ":3: unknown escape '\\q' in string"),
                Arguments.of(ok + "extra = console\n",
                        ":3: unexpected 'c' in the value of 'extra' (strings need quotes)"),
                Arguments.of(ok + "extra =\n", ":3: missing value for 'extra'"),
                Arguments.of(ok + "extra 'x'\n", ":3: expected '=' after 'extra'"),
                Arguments.of(ok + "extra = 'a' 'b'\n", ":3: unexpected ''' after the value of 'extra'"),
                Arguments.of(ok + "= 3\n", ":3: expected a key, got '='"),
                Arguments.of(ok + "disk = 'x'\n", ":3: disk must be a list like [ '...', '...' ], got a string"),
                Arguments.of(ok + "disk = [ 'a'\n 'b' ]\n",
                        ":4: expected ',' or ']' in the list of 'disk', got '''"),
                Arguments.of(ok + "vif = [ 1 ]\n", ":3: list items of 'vif' must be quoted strings, got '1'"),
                Arguments.of(ok + "vif = [ 'a',\n", ":3: unterminated list for 'vif' (missing ])"),
                Arguments.of(ok + "extra = '${NOPE}'\n",
                        ":3: environment variable NOPE is not set (used in \"${NOPE}\")"),
                Arguments.of(ok + "extra = 'x${EMPTY}'\n",
                        ":3: environment variable EMPTY is empty (used in \"x${EMPTY}\")"),
                Arguments.of(ok + "extra = '${GUEST'\n", ":3: unterminated ${ in \"${GUEST\""),
                Arguments.of(ok + "extra = '${1X}'\n", ":3: bad variable name '1X' in \"${1X}\""),
                Arguments.of("name='d'\nkernel='missing'\n", ":2: kernel $DIR/missing does not exist"),
                Arguments.of("name='d'\nkernel=''\n", ":2: kernel must not be empty"),
                Arguments.of("name='d'\nkernel='guest'\n", ":2: kernel $DIR/guest is not a regular file"),
                Arguments.of("name='d'\nkernel='initrd'\n", ":2: kernel $DIR/initrd is not a RISC-V Linux Image"
                        + " (no \"RISCV\" magic at offset 48 and \"RSC\\x05\" at 56) nor a RISC-V ELF"),
                Arguments.of(ok + "ramdisk='nope.cpio'\n", ":3: ramdisk $DIR/nope.cpio does not exist"),
                Arguments.of(ok + "cpu_engine = 'qemu'\n",
                        ":3: cpu_engine must be \"jit\" or \"interpreter\", got \"qemu\""));
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void rejectsWithFileAndLine(String text, String expected) throws IOException {
        Path cfg = dir.resolve("demo.cfg");
        Files.writeString(cfg, text);
        String dirText = dir.toAbsolutePath().normalize().toString();
        assertThatThrownBy(() -> DomainConfig.load(cfg, ENV))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.code()).isEqualTo("config"))
                .hasMessage(cfg + expected.replace("$DIR", dirText));
    }

    @Test
    void missingConfigFileIsOneClearLine() {
        Path cfg = dir.resolve("none.cfg");
        assertThatThrownBy(() -> DomainConfig.load(cfg, ENV)).hasMessage("cannot read config " + cfg + ": no such file");
    }

    static Stream<Arguments> kernelHeaders() {
        byte[] elfRiscv = elf(2, 1, 243);
        byte[] image = riscvImage();
        byte[] noMagic2 = riscvImage();
        noMagic2[56] = 0;
        byte[] arm64 = new byte[64];
        System.arraycopy(new byte[] {'A', 'R', 'M', 0x64}, 0, arm64, 56, 4);
        return Stream.of(
                Arguments.of("image", image, Optional.empty()),
                Arguments.of("elf-riscv", elfRiscv, Optional.empty()),
                Arguments.of("image-without-rsc-magic", noMagic2, Optional.of("is not a RISC-V Linux Image")),
                Arguments.of("elf-x86", elf(2, 1, 62), Optional.of("is an ELF for machine 62, not RISC-V (243)")),
                Arguments.of("elf32", elf(1, 1, 243), Optional.of("is a 32-bit ELF; RV64 needs ELF64")),
                Arguments.of("elf-be", elf(2, 2, 243), Optional.of("is a big-endian ELF")),
                Arguments.of("elf-truncated", new byte[] {0x7f, 'E', 'L', 'F', 2}, Optional.of("is a truncated ELF")),
                Arguments.of("gzip", new byte[] {0x1f, (byte) 0x8b, 8, 0}, Optional.of("is gzip-compressed")),
                Arguments.of("arm64", arm64, Optional.of("is an ARM64 Linux Image, not RISC-V")),
                Arguments.of("empty", new byte[0], Optional.of("is not a RISC-V Linux Image")));
    }

    private static byte[] elf(int cls, int data, int machine) {
        byte[] h = new byte[64];
        h[0] = 0x7f;
        h[1] = 'E';
        h[2] = 'L';
        h[3] = 'F';
        h[4] = (byte) cls;
        h[5] = (byte) data;
        h[18] = (byte) machine;
        h[19] = (byte) (machine >> 8);
        return h;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernelHeaders")
    void checksKernelHeaders(String label, byte[] content, Optional<String> problem) throws IOException {
        Path f = dir.resolve(label);
        Files.write(f, content);
        Optional<String> found = KernelHeader.problem(f);
        assertThat(found.isPresent()).isEqualTo(problem.isPresent());
        problem.ifPresent(p -> assertThat(found.orElseThrow()).startsWith(p));
    }

    @Test
    void listsMayBeEmptySpanLinesAndEndWithAComma() throws IOException {
        DomainConfig c = load("name='d'\nkernel='Image'\ndisk = [\n\n 'root.img,rw,vda' ,\n\n 'guest/data.img,ro,vdb',\n\n]\nvif=[ ]");
        assertThat(c.disks()).hasSize(2);
        assertThat(c.vifs()).isEmpty();
    }

    @Test
    void aSharedDiskIsMarkedKeptThroughTheRecordAndNotPartOfTheMachine() throws IOException {
        DomainConfig c = load("name='d'\nkernel='Image'\ndisk = [ 'root.img,rw,vda', 'guest/data.img,rw,vdb,shared' ]");
        Path data = dir.resolve("guest/data.img");
        assertThat(c.disks()).containsExactly(dir.resolve("root.img") + ",rw,vda", data + ",rw,vdb,shared");
        assertThat(c.sharedDisks()).containsExactly("vdb");
        assertThat(c.toMachineConfig().disks()).containsExactly(new DiskConfig(dir.resolve("root.img"), false, "vda"),
                new DiskConfig(data, false, "vdb"));
        DomainConfig back = DomainRecord.decode(DomainRecord.encode(c));
        assertThat(back.sharedDisks()).as("the flag travels in the domain record (the migration HELLO)")
                .containsExactly("vdb");
        assertThat(DomainRunner.sharedDisksMissing(DomainRecord.encode(c))).as("present here").isNull();
        Files.delete(data);
        assertThat(DomainRunner.sharedDisksMissing(DomainRecord.encode(c))).as("missing on the target")
                .contains("shared disk vdb", data.toString(), "same path");
        // A mirrored copy replaces the path and is never shared.
        DomainConfig moved = DomainRunner.withDisks(c, Map.of("vda", dir.resolve("copy.img")));
        assertThat(moved.disks()).containsExactly(dir.resolve("copy.img") + ",rw,vda", data + ",rw,vdb,shared");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\ndisk = [ 'root.img,rw,vda,local' ]"))
                .hasMessageEndingWith(":3: the fourth field of a disk entry can only be 'shared', got 'local'");
        assertThatThrownBy(() -> DeviceSpecs.DiskEntry.parse("nocommas")).isInstanceOf(IllegalArgumentException.class);
        DeviceSpecs.DiskEntry odd = DeviceSpecs.DiskEntry.parse("/a,b/c.img,ro,vdc,shared");
        assertThat(odd).as("a path with commas").isEqualTo(new DeviceSpecs.DiskEntry(Path.of("/a,b/c.img"), true,
                "vdc", true));
    }

    @Test
    void diskEntriesAreCheckedWithTheirLine() throws IOException {
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\ndisk = [ 'root.img,rw,vda',\n  'nope.img,rw,vdb' ]"))
                .isInstanceOf(DomainException.class)
                .hasMessageEndingWith("demo.cfg:4: disk vdb image " + dir.resolve("nope.img") + " does not exist");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\ndisk = [ 'root.img,rx,vda' ]"))
                .hasMessageEndingWith(":3: disk mode must be rw or ro, got 'rx'");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\ndisk = [ 'root.img,rw,sda' ]"))
                .hasMessageEndingWith(":3: disk target must be vda..vdz, got 'sda'");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\ndisk = [ 'root.img' ]"))
                .hasMessageContaining(":3: disk entry must be '<path>,<rw|ro>,<vdX>[,shared]'");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\ndisk = [ 'root.img,rw,vda', 'guest/data.img,ro,vda' ]"))
                .hasMessageEndingWith(":3: disk target vda is used twice");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\ndisk = [ 'root.img,rw,vda', 'guest/data.img,ro,vdc' ]"))
                .hasMessageEndingWith(":3: disk targets must be vda, vdb, ... without gaps (Linux names disks in"
                        + " slot order): vdb is missing");
        DomainConfig swapped = load("name='d'\nkernel='Image'\ndisk = [ 'guest/data.img,ro,vdb', 'root.img,rw,vda' ]");
        assertThat(swapped.toMachineConfig().disks()).extracting(DiskConfig::target).containsExactly("vda", "vdb");
    }

    @Test
    void vifDefaultsAreStableAndValidated() throws IOException {
        DomainConfig c = load("name='web1'\nkernel='Image'\nvif = [ 'bridge=br0', 'mac=52:54:00:AA:bb:01,vifname=tap-web1' ]");
        MachineConfig m = c.toMachineConfig();
        assertThat(m.nics()).hasSize(2);
        assertThat(m.nics().get(0).bridge()).contains("br0");
        assertThat(m.nics().get(0).mac()).matches("02(:[0-9a-f]{2}){5}");
        assertThat(m.nics().get(0).ifname()).matches("vif[0-9a-f]{8}\\.0");
        assertThat(m.nics().get(0)).isEqualTo(load("name='web1'\nkernel='Image'\nvif=['bridge=br0']")
                .toMachineConfig().nics().get(0));
        assertThat(m.nics().get(1).mac()).isEqualTo("52:54:00:aa:bb:01");
        assertThat(m.nics().get(1).ifname()).isEqualTo("tap-web1");
        assertThat(m.nics().get(1).bridge()).isEmpty();
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\nvif = [ 'mac=01:00:00:00:00:01' ]"))
                .hasMessageEndingWith(":3: mac 01:00:00:00:00:01 is a multicast address");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\nvif = [ 'vifname=this-name-is-too-long' ]"))
                .hasMessageContaining(":3: vifname must be 1..15");
        assertThatThrownBy(() -> load("name='d'\nkernel='Image'\nvif = [ 'model=e1000' ]"))
                .hasMessageContaining(":3: unknown vif key 'model'");
    }
}
