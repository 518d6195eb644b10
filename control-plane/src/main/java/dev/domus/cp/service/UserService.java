// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.Ids;
import dev.domus.cp.domain.UserEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;

/** Users as seen through OIDC: created on first login, or claimed when they were invited by e-mail before. */
@ApplicationScoped
public class UserService {

    /** The user of an OIDC subject, created or updated (e-mail, operator role) from the token's claims. */
    @Transactional
    public UserEntity resolveOidc(String subject, String email, boolean operator) {
        String mail = email.toLowerCase(Locale.ROOT);
        UserEntity u = UserEntity.find("subject", subject).firstResult();
        if (u == null) {
            u = UserEntity.find("email", mail).firstResult();
            if (u != null && u.subject.startsWith(INVITED)) {
                u.subject = subject;
            } else if (u != null) {
                // Same e-mail under another subject: keep the first, the new login gets a distinct record.
                mail = subject + "+" + mail;
                u = null;
            }
        }
        if (u == null) {
            u = new UserEntity();
            u.id = Ids.next();
            u.subject = subject;
            u.email = mail;
            u.createdAt = now();
            u.operator = operator;
            u.persist();
        } else if (u.operator != operator) {
            u.operator = operator;
        }
        return u;
    }

    /** The user with this e-mail; invited users get a placeholder subject until they first log in. */
    @Transactional
    public UserEntity byEmailOrInvite(String email) {
        String mail = email.toLowerCase(Locale.ROOT);
        UserEntity u = UserEntity.find("email", mail).firstResult();
        if (u == null) {
            u = new UserEntity();
            u.id = Ids.next();
            u.subject = INVITED + mail;
            u.email = mail;
            u.createdAt = now();
            u.persist();
        }
        return u;
    }

    static final String INVITED = "invited:";

    static OffsetDateTime now() {
        return OffsetDateTime.now(ZoneOffset.UTC);
    }
}
