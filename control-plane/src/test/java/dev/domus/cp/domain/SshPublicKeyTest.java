// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Keys made by the JDK are encoded in OpenSSH wire format here; their fingerprints are compared with
 * {@code ssh-keygen -lf} when OpenSSH is installed (deploy/test installs openssh-client).
 */
class SshPublicKeyTest {

    private static void string(ByteArrayOutputStream out, byte[] b) {
        out.writeBytes(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8),
                (byte) b.length});
        out.writeBytes(b);
    }

    static String rsa(int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        RSAPublicKey k = (RSAPublicKey) g.generateKeyPair().getPublic();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        string(out, "ssh-rsa".getBytes(StandardCharsets.US_ASCII));
        string(out, k.getPublicExponent().toByteArray());
        string(out, k.getModulus().toByteArray());
        return "ssh-rsa " + Base64.getEncoder().encodeToString(out.toByteArray()) + " rsa@test";
    }

    static String ed25519() throws Exception {
        byte[] x509 = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded();
        byte[] raw = Arrays.copyOfRange(x509, x509.length - 32, x509.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        string(out, "ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
        string(out, raw);
        return "ssh-ed25519 " + Base64.getEncoder().encodeToString(out.toByteArray()) + " ed@test";
    }

    static String ecdsa256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        ECPublicKey k = (ECPublicKey) g.generateKeyPair().getPublic();
        byte[] q = new byte[65];
        q[0] = 4;
        copy(k.getW().getAffineX(), q, 1);
        copy(k.getW().getAffineY(), q, 33);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        string(out, "ecdsa-sha2-nistp256".getBytes(StandardCharsets.US_ASCII));
        string(out, "nistp256".getBytes(StandardCharsets.US_ASCII));
        string(out, q);
        return "ecdsa-sha2-nistp256 " + Base64.getEncoder().encodeToString(out.toByteArray());
    }

    private static void copy(BigInteger v, byte[] dst, int off) {
        byte[] b = v.toByteArray();
        int n = Math.min(b.length, 32);
        System.arraycopy(b, b.length - n, dst, off + 32 - n, n);
    }

    @Test
    void parsesTheThreeFamilies() throws Exception {
        SshPublicKey r = SshPublicKey.parse(rsa(2048));
        assertThat(r.type()).isEqualTo("ssh-rsa");
        assertThat(r.bits()).isEqualTo(2048);
        assertThat(r.fingerprint()).startsWith("SHA256:").hasSize(7 + 43);
        assertThat(SshPublicKey.parse(ed25519()).bits()).isEqualTo(256);
        SshPublicKey e = SshPublicKey.parse(ecdsa256());
        assertThat(e.type()).isEqualTo("ecdsa-sha2-nistp256");
        assertThat(e.bits()).isEqualTo(256);
    }

    @Test
    void fingerprintsMatchSshKeygen() throws Exception {
        Path keygen = Path.of("/usr/bin/ssh-keygen");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(keygen), "ssh-keygen not installed");
        for (String line : new String[] {rsa(3072), ed25519(), ecdsa256()}) {
            Path f = Files.createTempFile("key", ".pub");
            try {
                Files.writeString(f, line + "\n");
                Process p = new ProcessBuilder(keygen.toString(), "-lf", f.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(out).contains(SshPublicKey.parse(line).fingerprint());
            } finally {
                Files.deleteIfExists(f);
            }
        }
    }

    @Test
    void refusesBadKeys() throws Exception {
        assertThatThrownBy(() -> SshPublicKey.parse(rsa(1024))).hasMessageContaining("at least 2048 bits, got 1024");
        assertThatThrownBy(() -> SshPublicKey.parse("ssh-ed25519")).hasMessageContaining("expected");
        assertThatThrownBy(() -> SshPublicKey.parse("ssh-ed25519 !!!notbase64")).hasMessageContaining("base64");
        String ed = ed25519();
        assertThatThrownBy(() -> SshPublicKey.parse(ed.replace("ssh-ed25519 ", "ssh-rsa ")))
                .hasMessageContaining("does not match");
        byte[] blob = Base64.getDecoder().decode(ed.split(" ")[1]);
        String truncated = "ssh-ed25519 " + Base64.getEncoder().encodeToString(Arrays.copyOf(blob, blob.length - 5));
        assertThatThrownBy(() -> SshPublicKey.parse(truncated)).hasMessageContaining("truncated");
        byte[] longer = Arrays.copyOf(blob, blob.length + 3);
        assertThatThrownBy(() -> SshPublicKey.parse("ssh-ed25519 " + Base64.getEncoder().encodeToString(longer)))
                .hasMessageContaining("trailing");
        assertThatThrownBy(() -> SshPublicKey.parse("ssh-dss AAAAB3NzaC1kc3MAAA=="))
                .isInstanceOfSatisfying(DomusException.class, e -> assertThat(e.code()).isEqualTo("invalid_ssh_key"));
    }

    @Test
    void normalizesWhitespace() throws IOException, Exception {
        String ed = ed25519();
        SshPublicKey k = SshPublicKey.parse("  " + ed.replace(" ", "   ") + "  \n");
        assertThat(k.normalized()).isEqualTo(ed);
    }
}
