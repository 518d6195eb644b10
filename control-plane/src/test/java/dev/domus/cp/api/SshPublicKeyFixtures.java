// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/** Fresh OpenSSH ed25519 public key lines for API tests. */
final class SshPublicKeyFixtures {
    private SshPublicKeyFixtures() {
    }

    static String ed25519() {
        try {
            byte[] x509 = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded();
            byte[] raw = Arrays.copyOfRange(x509, x509.length - 32, x509.length);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] type = "ssh-ed25519".getBytes(StandardCharsets.US_ASCII);
            out.writeBytes(new byte[] {0, 0, 0, (byte) type.length});
            out.writeBytes(type);
            out.writeBytes(new byte[] {0, 0, 0, 32});
            out.writeBytes(raw);
            return "ssh-ed25519 " + Base64.getEncoder().encodeToString(out.toByteArray()) + " test@domus";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
