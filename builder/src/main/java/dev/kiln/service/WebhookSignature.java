package dev.kiln.service;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The shared-secret checks of webhooks: GitHub's {@code X-Hub-Signature-256} (and Kiln's own
 * {@code X-Kiln-Signature-256}), {@code sha256=} and the hex HMAC-SHA256 of the raw body under the
 * secret; GitLab's {@code X-Gitlab-Token}, the secret itself. Every comparison takes the same time
 * whatever the bytes (MessageDigest.isEqual), and the token is compared through digests, so its
 * length does not leak either: a caller cannot guess the secret byte by byte from response times.
 */
public final class WebhookSignature {

    private static final String PREFIX = "sha256=";

    private WebhookSignature() {
    }

    /** The header value that signs {@code body}: {@code sha256=<hex HMAC-SHA256>}. */
    public static String sign(String secret, byte[] body) {
        return PREFIX + HexFormat.of().formatHex(hmac(secret, body));
    }

    /** Whether {@code header} ({@code sha256=<hex>}, null when absent) signs {@code body} under {@code secret}. */
    public static boolean signs(String header, String secret, byte[] body) {
        if (header == null || !header.startsWith(PREFIX)) {
            return false;
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(header.substring(PREFIX.length()).strip());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(given, hmac(secret, body));
    }

    /** Whether {@code token} (null when absent) is {@code secret}. */
    public static boolean sameToken(String token, String secret) {
        if (token == null) {
            return false;
        }
        return MessageDigest.isEqual(sha256(token), sha256(secret));
    }

    private static byte[] hmac(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
