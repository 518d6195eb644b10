// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * A parsed and validated OpenSSH public key line ({@code type base64 [comment]}): the blob's own type must match
 * the line's, the key material must be well formed (RSA >= 2048 bits, Ed25519 32 bytes, ECDSA an uncompressed point
 * of the named curve) and nothing may trail it. The fingerprint is OpenSSH's {@code SHA256:} form.
 */
public record SshPublicKey(String type, int bits, String fingerprint, String normalized) {
    private static final int MAX_BLOB = 8192;

    /** Parses one key line or throws a {@code invalid_ssh_key} error saying what is wrong. */
    public static SshPublicKey parse(String line) {
        if (line == null) {
            throw invalid("public_key is required");
        }
        String[] parts = line.strip().split("\\s+", 3);
        if (parts.length < 2) {
            throw invalid("expected '<type> <base64> [comment]'");
        }
        String type = parts[0];
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw invalid("key data is not valid base64");
        }
        if (blob.length > MAX_BLOB) {
            throw invalid("key data too long");
        }
        ByteBuffer in = ByteBuffer.wrap(blob);
        String blobType = new String(string(in), StandardCharsets.US_ASCII);
        if (!blobType.equals(type)) {
            throw invalid("key type " + type + " does not match the key data (" + blobType + ")");
        }
        int bits = switch (type) {
            case "ssh-ed25519" -> {
                byte[] k = string(in);
                if (k.length != 32) {
                    throw invalid("ed25519 key must be 32 bytes, got " + k.length);
                }
                yield 256;
            }
            case "ssh-rsa" -> {
                BigInteger e = new BigInteger(string(in));
                BigInteger n = new BigInteger(string(in));
                if (e.signum() <= 0 || !e.testBit(0) || n.signum() <= 0) {
                    throw invalid("malformed RSA key");
                }
                if (n.bitLength() < 2048) {
                    throw invalid("RSA keys must have at least 2048 bits, got " + n.bitLength());
                }
                yield n.bitLength();
            }
            case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521" -> {
                String curve = new String(string(in), StandardCharsets.US_ASCII);
                if (!type.endsWith(curve)) {
                    throw invalid("curve " + curve + " does not match key type " + type);
                }
                int fieldBytes = switch (curve) {
                    case "nistp256" -> 32;
                    case "nistp384" -> 48;
                    default -> 66;
                };
                byte[] q = string(in);
                if (q.length != 1 + 2 * fieldBytes || q[0] != 4) {
                    throw invalid("ECDSA point must be uncompressed (" + (1 + 2 * fieldBytes) + " bytes)");
                }
                yield curve.equals("nistp521") ? 521 : fieldBytes * 8;
            }
            default -> throw invalid("unsupported key type " + type
                    + " (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521)");
        };
        if (in.hasRemaining()) {
            throw invalid("trailing bytes after the key data");
        }
        String comment = parts.length == 3 ? " " + parts[2].strip() : "";
        return new SshPublicKey(type, bits, fingerprint(blob), type + " " + parts[1] + comment);
    }

    private static byte[] string(ByteBuffer in) {
        if (in.remaining() < 4) {
            throw invalid("truncated key data");
        }
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) {
            throw invalid("truncated key data");
        }
        byte[] b = new byte[len];
        in.get(b);
        return b;
    }

    private static String fingerprint(byte[] blob) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static DomusException invalid(String message) {
        return DomusException.unprocessable("invalid_ssh_key", message);
    }
}
