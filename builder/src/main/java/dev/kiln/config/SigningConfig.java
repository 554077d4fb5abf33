package dev.kiln.config;

import java.nio.file.Path;

/**
 * The signing key: an ASCII-armored OpenPGP secret key file and its passphrase (empty when the
 * key is not protected). The public half sits beside it as {@code <key>.pub}.
 */
public record SigningConfig(Path key, char[] passphrase) {

    public Path publicKey() {
        return key.resolveSibling(key.getFileName() + ".pub");
    }
}
