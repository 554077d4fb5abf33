package dev.kiln.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

    private static final byte[] HELLO = "Hello, World!".getBytes(StandardCharsets.UTF_8);
    /** The example of GitHub's "Validating webhook deliveries": this secret and body, this signature. */
    private static final String GITHUB_SECRET = "It's a Secret to Everybody";
    private static final String GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    @Test
    void signsAsGitHubDocumentsIt() {
        assertThat(WebhookSignature.sign(GITHUB_SECRET, HELLO)).isEqualTo(GITHUB_SIGNATURE);
        assertThat(WebhookSignature.signs(GITHUB_SIGNATURE, GITHUB_SECRET, HELLO)).isTrue();
        assertThat(WebhookSignature.signs(GITHUB_SIGNATURE.toUpperCase().replace("SHA256=", "sha256="), GITHUB_SECRET, HELLO))
                .as("hex in capitals is the same signature").isTrue();
    }

    @Test
    void refusesAChangedBodyAnotherSecretAndMalformedHeaders() {
        assertThat(WebhookSignature.signs(GITHUB_SIGNATURE, GITHUB_SECRET, "Hello, World?".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(WebhookSignature.signs(GITHUB_SIGNATURE, "It's a secret to everybody", HELLO)).isFalse();
        assertThat(WebhookSignature.signs(null, GITHUB_SECRET, HELLO)).isFalse();
        assertThat(WebhookSignature.signs("", GITHUB_SECRET, HELLO)).isFalse();
        assertThat(WebhookSignature.signs(GITHUB_SIGNATURE.substring("sha256=".length()), GITHUB_SECRET, HELLO))
                .as("no sha256= prefix").isFalse();
        assertThat(WebhookSignature.signs("sha1=" + GITHUB_SIGNATURE.substring(7), GITHUB_SECRET, HELLO)).isFalse();
        assertThat(WebhookSignature.signs("sha256=zz", GITHUB_SECRET, HELLO)).as("not hex").isFalse();
        assertThat(WebhookSignature.signs(GITHUB_SIGNATURE.substring(0, 40), GITHUB_SECRET, HELLO)).as("cut short").isFalse();
    }

    @Test
    void comparesGitLabTokensWhole() {
        assertThat(WebhookSignature.sameToken("s3cret-token", "s3cret-token")).isTrue();
        assertThat(WebhookSignature.sameToken("s3cret-toke", "s3cret-token")).isFalse();
        assertThat(WebhookSignature.sameToken("s3cret-token ", "s3cret-token")).isFalse();
        assertThat(WebhookSignature.sameToken("", "s3cret-token")).isFalse();
        assertThat(WebhookSignature.sameToken(null, "s3cret-token")).isFalse();
    }
}
