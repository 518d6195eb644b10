// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SshHostKeyTest {

    @Test
    void dropbearFileHasDropbearsLayoutAndRoundTrips() {
        SshHostKey k = SshHostKey.generate();
        byte[] file = k.dropbearPrivate();
        // string "ssh-ed25519" (4 + 11) + string of seed||public (4 + 64), as dropbearkey writes it
        assertThat(file).hasSize(83);
        ByteBuffer b = ByteBuffer.wrap(file);
        assertThat(b.getInt()).isEqualTo(11);
        byte[] type = new byte[11];
        b.get(type);
        assertThat(new String(type, StandardCharsets.US_ASCII)).isEqualTo("ssh-ed25519");
        assertThat(b.getInt()).isEqualTo(64);
        byte[] both = new byte[64];
        b.get(both);
        assertThat(Arrays.copyOfRange(both, 32, 64)).isEqualTo(k.publicKey());
        assertThat(SshHostKey.fromDropbear(file)).isEqualTo(k);
    }

    @Test
    void seedAndPublicKeyBelongTogether() throws Exception {
        SshHostKey k = SshHostKey.generate();
        KeyFactory f = KeyFactory.getInstance("Ed25519");
        PrivateKey priv = f.generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, k.seed()));
        byte[] msg = "domus".getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(priv);
        s.update(msg);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("Ed25519");
        v.initVerify(publicKey(f, k.publicKey()));
        v.update(msg);
        assertThat(v.verify(sig)).as("the blob's public key verifies the seed's signature").isTrue();
    }

    @Test
    void publicLineIsOpenSshFormat() {
        SshHostKey k = SshHostKey.generate();
        String line = k.publicLine();
        assertThat(line).startsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI");
        byte[] blob = Base64.getDecoder().decode(line.substring("ssh-ed25519 ".length()));
        assertThat(blob).hasSize(51);
        assertThat(Arrays.copyOfRange(blob, 19, 51)).isEqualTo(k.publicKey());
        assertThat(k.toString()).doesNotContain(Base64.getEncoder().encodeToString(k.seed()));
    }

    @Test
    void otherFilesAreRefused() {
        byte[] good = SshHostKey.generate().dropbearPrivate();
        assertThatThrownBy(() -> SshHostKey.fromDropbear(Arrays.copyOf(good, 40)))
                .isInstanceOf(IllegalArgumentException.class);
        byte[] rsa = good.clone();
        rsa[8] = 'x';
        assertThatThrownBy(() -> SshHostKey.fromDropbear(rsa)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SshHostKey.fromDropbear(Arrays.copyOf(good, 90)))
                .isInstanceOf(IllegalArgumentException.class);
        byte[] hugeLength = good.clone();
        hugeLength[0] = 0x7f;
        assertThatThrownBy(() -> SshHostKey.fromDropbear(hugeLength)).isInstanceOf(IllegalArgumentException.class);
    }

    /** RFC 8032 encoding: little-endian y, top bit = x is odd. */
    private static PublicKey publicKey(KeyFactory f, byte[] raw) throws Exception {
        byte[] le = raw.clone();
        boolean xOdd = (le[31] & 0x80) != 0;
        le[31] &= 0x7f;
        byte[] be = new byte[32];
        for (int i = 0; i < 32; i++) {
            be[i] = le[31 - i];
        }
        return f.generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd,
                new BigInteger(1, be))));
    }
}
