package dev.kiln.build;

import dev.kiln.config.SigningConfig;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the signing key before a build starts. Where the configured key is the development key
 * under Kiln's state folder and none exists yet, one is created and announced; a key configured
 * anywhere else must exist.
 */
public final class Keys {

    static final String USER_ID = "Kiln development key (not for releases) <kiln@localhost>";

    private Keys() {
    }

    public static SigningKey loadOrCreate(SigningConfig signing, Path state, BuildListener listener) {
        if (!Files.exists(signing.key()) && signing.key().startsWith(state)) {
            generate(signing);
            SigningKey key = SigningKey.load(signing.key(), signing.passphrase());
            listener.notice("created a development signing key " + key.keyId() + " at " + signing.key()
                    + " (public key: " + signing.publicKey() + "); for releases set KILN_SIGNING_KEY to your own");
            return key;
        }
        return SigningKey.load(signing.key(), signing.passphrase());
    }

    public static void generate(SigningConfig signing) {
        KeyGenerator.generate(signing.key(), signing.publicKey(), USER_ID, signing.passphrase());
    }
}
