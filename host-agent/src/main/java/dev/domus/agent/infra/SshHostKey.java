// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.infra;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.Base64;

/**
 * An Ed25519 SSH host key made on the host for a guest: generating it inside the guest at first boot costs
 * seconds on an emulated CPU, and the host then knows the fingerprint the guest will present.
 *
 * <p>{@link #dropbearPrivate()} is dropbear's own key file format (what {@code dropbearkey -t ed25519} writes):
 * SSH string {@code "ssh-ed25519"}, then an SSH string of the 32-byte seed followed by the 32-byte public key.
 * {@link #publicLine()} is the OpenSSH public key line ({@code ssh-ed25519 <base64>}), usable in known_hosts.
 *
 * @param seed      the 32-byte private seed
 * @param publicKey the 32-byte public key
 */
public record SshHostKey(byte[] seed, byte[] publicKey) {
    private static final String TYPE = "ssh-ed25519";
    private static final int LEN = 32;

    public SshHostKey {
        if (seed.length != LEN || publicKey.length != LEN) {
            throw new IllegalArgumentException("ed25519 seed and public key are 32 bytes each");
        }
        seed = seed.clone();
        publicKey = publicKey.clone();
    }

    /** A fresh key from the JDK's Ed25519 implementation. */
    public static SshHostKey generate() {
        try {
            KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            // PKCS#8 and X.509 encodings of Ed25519 end with the raw 32-byte seed / public key (RFC 8410).
            byte[] pk8 = kp.getPrivate().getEncoded();
            byte[] x509 = kp.getPublic().getEncoded();
            return new SshHostKey(Arrays.copyOfRange(pk8, pk8.length - LEN, pk8.length),
                    Arrays.copyOfRange(x509, x509.length - LEN, x509.length));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no Ed25519 key generator", e);
        }
    }

    /** Reads a dropbear ed25519 key file; a file of any other shape is refused. */
    public static SshHostKey fromDropbear(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file);
        try {
            byte[] type = sshString(b);
            byte[] both = sshString(b);
            if (!TYPE.equals(new String(type, StandardCharsets.US_ASCII)) || both.length != 2 * LEN || b.hasRemaining()) {
                throw new IllegalArgumentException("not a dropbear ed25519 key");
            }
            return new SshHostKey(Arrays.copyOfRange(both, 0, LEN), Arrays.copyOfRange(both, LEN, 2 * LEN));
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated dropbear key", e);
        }
    }

    public byte[] dropbearPrivate() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(83);
        putString(out, TYPE.getBytes(StandardCharsets.US_ASCII));
        byte[] both = new byte[2 * LEN];
        System.arraycopy(seed, 0, both, 0, LEN);
        System.arraycopy(publicKey, 0, both, LEN, LEN);
        putString(out, both);
        Arrays.fill(both, (byte) 0);
        return out.toByteArray();
    }

    /** {@code ssh-ed25519 AAAA...} (no comment). */
    public String publicLine() {
        ByteArrayOutputStream blob = new ByteArrayOutputStream(51);
        putString(blob, TYPE.getBytes(StandardCharsets.US_ASCII));
        putString(blob, publicKey);
        return TYPE + " " + Base64.getEncoder().encodeToString(blob.toByteArray());
    }

    @Override
    public byte[] seed() {
        return seed.clone();
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SshHostKey k && Arrays.equals(seed, k.seed) && Arrays.equals(publicKey, k.publicKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(publicKey);
    }

    @Override
    public String toString() {
        return "SshHostKey[" + publicLine() + "]"; // never the seed
    }

    private static void putString(ByteArrayOutputStream out, byte[] s) {
        out.write(s.length >>> 24);
        out.write(s.length >>> 16);
        out.write(s.length >>> 8);
        out.write(s.length);
        out.writeBytes(s);
    }

    private static byte[] sshString(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("bad string length " + n + " in dropbear key");
        }
        byte[] s = new byte[n];
        b.get(s);
        return s;
    }
}
