package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.pipeline.Keys;
import dev.kiln.config.KilnConfig;
import dev.kiln.rpm.SigningKey;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kiln key generate} and {@code kiln key show}. */
@Configuration(proxyBeanMethods = false)
class KeyCommands {

    @Bean
    KilnCommand keyGenerate() {
        return new KilnCommand("key generate", "Create a signing key at the configured location (passphrase from KILN_SIGNING_PASSPHRASE)",
                "", 0, 0, List.of()) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                if (!config.signing().isText() && Files.exists(config.signing().key())) {
                    throw KilnException.badInput("a signing key already exists at " + config.signing().key()
                            + ": remove it first or set KILN_SIGNING_KEY to another path");
                }
                Keys.generate(config.signing());
                SigningKey key = Keys.load(config.signing());
                out.result("Created signing key " + key.keyId() + " at " + config.signing().key());
                out.result("Public key: " + config.signing().publicKey());
                return 0;
            }
        };
    }

    @Bean
    KilnCommand keyShow() {
        return new KilnCommand("key show", "Show the signing key's id, fingerprint and public key", "", 0, 0,
                List.of(KilnCommand.Opt.JSON)) {
            @Override
            protected int run(Invocation invocation, Output out) {
                KilnConfig config = config(invocation);
                SigningKey key = Keys.load(config.signing());
                if (invocation.flag("json")) {
                    Map<String, Object> doc = new LinkedHashMap<>();
                    doc.put("keyId", key.keyId());
                    doc.put("fingerprint", key.fingerprint());
                    doc.put("secretKey", key.origin());
                    doc.put("publicKey", key.armoredPublicKey());
                    out.json(doc);
                    return 0;
                }
                out.result("Key id:      " + key.keyId());
                out.result("Fingerprint: " + key.fingerprint());
                out.result("Secret key:  " + key.origin());
                out.result("");
                out.result(key.armoredPublicKey().strip());
                return 0;
            }
        };
    }
}
