// SPDX-License-Identifier: Apache-2.0
package dev.domus.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What tests and scripts need to know about a realm export file: its name, the secrets of its confidential clients,
 * its public clients and the passwords of its users (a development realm keeps them in clear text).
 *
 * @param name          realm name, e.g. {@code domus}
 * @param clientSecrets client id -> secret, confidential clients only
 * @param publicClients client ids of public clients
 * @param userPasswords username -> password, users with a clear-text password credential
 * @param sha256        hash of the file's bytes: keys the cached imported database
 */
public record KeycloakRealm(String name, Map<String, String> clientSecrets, List<String> publicClients,
                            Map<String, String> userPasswords, String sha256) {

    public KeycloakRealm {
        clientSecrets = Map.copyOf(clientSecrets);
        publicClients = List.copyOf(publicClients);
        userPasswords = Map.copyOf(userPasswords);
    }

    /** Reads and checks a realm export; a clear error names the file and what is missing. */
    public static KeycloakRealm read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read realm file " + file + ": " + e.getMessage(), e);
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException("realm file " + file + " is not JSON: " + e.getMessage(), e);
        }
        String name = root.path("realm").asText("");
        if (name.isBlank()) {
            throw new IllegalArgumentException("realm file " + file + " has no \"realm\" name");
        }
        Map<String, String> secrets = new LinkedHashMap<>();
        List<String> publics = new java.util.ArrayList<>();
        for (JsonNode c : root.path("clients")) {
            String id = c.path("clientId").asText("");
            if (id.isBlank()) {
                continue;
            }
            if (c.path("publicClient").asBoolean(false)) {
                publics.add(id);
            } else if (c.hasNonNull("secret")) {
                secrets.put(id, c.get("secret").asText());
            }
        }
        Map<String, String> passwords = new LinkedHashMap<>();
        for (JsonNode u : root.path("users")) {
            for (JsonNode cred : u.path("credentials")) {
                if ("password".equals(cred.path("type").asText()) && cred.hasNonNull("value")) {
                    passwords.put(u.path("username").asText(), cred.get("value").asText());
                }
            }
        }
        return new KeycloakRealm(name, secrets, publics, passwords, sha256(bytes));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
