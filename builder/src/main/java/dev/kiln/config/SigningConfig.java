package dev.kiln.config;

import java.nio.file.Path;

/**
 * The signing key and its passphrase (empty when the key is not protected). The key is either an
 * ASCII-armored OpenPGP secret key file ({@code key}, public half beside it as {@code <key>.pub}),
 * or, as CI systems hand it over from their secret store, the armored text itself
 * ({@code armoredKey}, with {@code key} null); {@code origin} names where it came from for messages.
 */
public record SigningConfig(Path key, String armoredKey, String origin, char[] passphrase) {

    /** How an armored secret key starts: a setting with this value is the key, not a path. */
    public static final String ARMOR_HEADER = "-----BEGIN PGP PRIVATE KEY BLOCK-----";

    public SigningConfig {
        if ((key == null) == (armoredKey == null)) {
            throw new IllegalArgumentException("a signing key is either a file or key text");
        }
    }

    /** A key file. */
    public SigningConfig(Path key, char[] passphrase) {
        this(key, null, key.toString(), passphrase);
    }

    /** Key text, e.g. from {@code KILN_SIGNING_KEY}; {@code origin} names that variable or option. */
    public static SigningConfig text(String armoredKey, String origin, char[] passphrase) {
        return new SigningConfig(null, armoredKey, origin, passphrase);
    }

    /** Whether a setting's value is key text rather than a path. */
    public static boolean isArmoredKey(String value) {
        return value != null && value.strip().startsWith(ARMOR_HEADER);
    }

    /** Whether the key came as text; then there are no key files to generate or show. */
    public boolean isText() {
        return armoredKey != null;
    }

    /** The public key file beside the secret key file; null for key text. */
    public Path publicKey() {
        return key == null ? null : key.resolveSibling(key.getFileName() + ".pub");
    }

    /** Never the key text or the passphrase: records print every component otherwise. */
    @Override
    public String toString() {
        return "SigningConfig[" + origin + "]";
    }
}
