// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestoreConfigTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        Files.write(dir.resolve("Image"), DomainConfigTest.riscvImage());
        Files.write(dir.resolve("Image2"), DomainConfigTest.riscvImage());
        for (String f : new String[] {"t-root", "t-cfg", "v-root", "v-cfg", "initrd"}) {
            Files.write(dir.resolve(f), new byte[512]);
        }
    }

    private DomainConfig cfg(String name, String body) throws IOException {
        Path f = dir.resolve(name + ".cfg");
        Files.writeString(f, "name = '" + name + "'\n" + body);
        return DomainConfig.load(f, Map.of());
    }

    private DomainConfig template() throws IOException {
        return cfg("tpl", "memory = 128\nvcpus = 2\nkernel = 'Image'\nramdisk = 'initrd'\n"
                + "extra = 'console=hvc1 root=/dev/vda rw domus.template=1'\n"
                + "disk = [ 't-root,rw,vda', 't-cfg,ro,vdb' ]\nvif = [ 'mac=52:54:00:00:00:01,bridge=br0' ]\n");
    }

    @Test
    void otherNameDisksVifKernelAndCommandLineAreTaken() throws IOException {
        DomainConfig vps = cfg("vps-1", "memory = 128\nvcpus = 2\nkernel = 'Image2'\n"
                + "extra = 'console=hvc1 root=/dev/vda rw'\non_reboot = 'restart'\n"
                + "disk = [ 'v-root,rw,vda', 'v-cfg,ro,vdb' ]\n"
                + "vif = [ 'mac=52:54:00:aa:bb:cc,bridge=br1,vifname=tap-x' ]\n");
        DomainConfig got = RestoreConfig.check(template(), vps);
        assertThat(got).isSameAs(vps);
        assertThat(got.name()).isEqualTo("vps-1");
        assertThat(got.disks()).allMatch(d -> d.contains("/v-"));
    }

    @Test
    void everyShapeDifferenceIsNamedInOneError() throws IOException {
        DomainConfig bad = cfg("vps-2", "memory = 256\nvcpus = 1\nkernel = 'Image'\nextra = 'console=ttyS0'\n"
                + "disk = [ 'v-root,rw,vda', 'v-cfg,rw,vdb' ]\nvif = []\n");
        assertThatThrownBy(() -> RestoreConfig.check(template(), bad))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.code())
                        .isEqualTo(DomainException.CONFIG))
                .hasMessageContaining("does not fit the snapshot of domain 'tpl'")
                .hasMessageContaining("memory 256 MiB (snapshot: 128)")
                .hasMessageContaining("vcpus 1 (snapshot: 2)")
                .hasMessageContaining("disks [rw,vda, rw,vdb] (snapshot: [rw,vda, ro,vdb])")
                .hasMessageContaining("0 vifs (snapshot: 1)")
                .hasMessageContaining("console 'ttyS0' (snapshot: 'hvc1')");
    }

    @Test
    void diskOrderAndCountMatter() throws IOException {
        DomainConfig swapped = cfg("vps-3", "memory = 128\nvcpus = 2\nkernel = 'Image'\nextra = 'console=hvc1'\n"
                + "disk = [ 'v-cfg,ro,vdb', 'v-root,rw,vda' ]\nvif = [ 'mac=52:54:00:00:00:02' ]\n");
        assertThatThrownBy(() -> RestoreConfig.check(template(), swapped))
                .hasMessageContaining("disks [ro,vdb, rw,vda]");
        DomainConfig one = cfg("vps-4", "memory = 128\nvcpus = 2\nkernel = 'Image'\nextra = 'console=hvc1'\n"
                + "disk = [ 'v-root,rw,vda' ]\nvif = [ 'mac=52:54:00:00:00:02' ]\n");
        assertThatThrownBy(() -> RestoreConfig.check(template(), one)).hasMessageContaining("disks [rw,vda] (snapshot");
    }
}
