// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check of an incoming migration's domain against the one its target built ahead. */
class PrebuiltConfigTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        Files.write(dir.resolve("Image"), DomainConfigTest.riscvImage());
        Files.write(dir.resolve("Image2"), DomainConfigTest.riscvImage());
        for (String f : new String[] {"root", "root2", "initrd"}) {
            Files.write(dir.resolve(f), new byte[512]);
        }
    }

    private DomainConfig cfg(String file, String body) throws IOException {
        Path f = dir.resolve(file + ".cfg");
        Files.writeString(f, body);
        return DomainConfig.load(f, Map.of());
    }

    private static final String BASE = "name = 'web'\nmemory = 64\nvcpus = 1\nkernel = 'Image'\n"
            + "ramdisk = 'initrd'\nextra = 'console=ttyS0'\ndisk = [ 'root,rw,vda' ]\n";

    @Test
    void theSameDomainFromAnotherFileFits() throws IOException {
        DomainConfig target = cfg("target", BASE);
        // What the source sends: its record, from its own file (another path) with the same content.
        DomainConfig source = DomainRecord.decode(DomainRecord.encode(cfg("source", BASE)));
        assertThat(source.source()).isNotEqualTo(target.source());
        assertThat(PrebuiltConfig.differences(target, source)).isEmpty();
        assertThat(PrebuiltConfig.refusal(target, source)).isNull();
    }

    @Test
    void everyDifferenceIsNamed() throws IOException {
        DomainConfig target = cfg("target", BASE);
        DomainConfig source = cfg("source", "name = 'db'\nmemory = 128\nvcpus = 2\nkernel = 'Image2'\n"
                + "extra = 'console=hvc0'\ndisk = [ 'root2,rw,vda' ]\non_crash = 'preserve'\n");
        assertThat(PrebuiltConfig.differences(target, source)).extracting(s -> s.split(" ")[0])
                .containsExactly("name", "memory", "vcpus", "kernel", "ramdisk", "extra", "on_crash", "disk");
        String why = PrebuiltConfig.refusal(target, source);
        assertThat(why).contains("built domain 'web' ahead from " + target.source())
                .contains("memory 128 (target: 64)").contains("name db (target: web)");
    }

    @Test
    void oneFieldIsEnoughToRefuse() throws IOException {
        DomainConfig target = cfg("target", BASE);
        DomainConfig source = cfg("source", BASE.replace("console=ttyS0", "console=ttyS0 quiet"));
        assertThat(PrebuiltConfig.differences(target, source)).containsExactly(
                "extra console=ttyS0 quiet (target: console=ttyS0)");
    }
}
