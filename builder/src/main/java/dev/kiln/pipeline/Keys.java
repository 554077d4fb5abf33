package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.config.SigningConfig;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the signing key before a build starts. Where the configured key is the development key
 * under Kiln's state folder and none exists yet, one is created and announced; a key configured
 * anywhere else must exist. Key text (CI's {@code KILN_SIGNING_KEY}) is decrypted in memory and
 * never written anywhere.
 */
public final class Keys {

    static final String USER_ID = "Kiln development key (not for releases) <kiln@localhost>";

    private Keys() {
    }

    public static SigningKey loadOrCreate(SigningConfig signing, Path state, BuildListener listener) {
        if (!signing.isText() && !Files.exists(signing.key()) && signing.key().startsWith(state)) {
            generate(signing);
            SigningKey key = load(signing);
            listener.notice("created a development signing key " + key.keyId() + " at " + signing.key()
                    + " (public key: " + signing.publicKey() + "); for releases set KILN_SIGNING_KEY to your own");
            return key;
        }
        return load(signing);
    }

    /** The configured key, from its file or its text. */
    public static SigningKey load(SigningConfig signing) {
        return signing.isText()
                ? SigningKey.fromArmored(signing.armoredKey(), signing.passphrase(), signing.origin())
                : SigningKey.load(signing.key(), signing.passphrase());
    }

    /** Creates the key file the configuration names; refused when the configuration holds key text. */
    public static void generate(SigningConfig signing) {
        if (signing.isText()) {
            throw KilnException.badInput(signing.origin() + " holds a secret key itself, so there is no key file to create: "
                    + "unset it, or set it to the path where the new key should go");
        }
        KeyGenerator.generate(signing.key(), signing.publicKey(), USER_ID, signing.passphrase());
    }
}
