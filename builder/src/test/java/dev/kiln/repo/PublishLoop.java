package dev.kiln.repo;

import dev.kiln.config.TargetConfig;
import dev.kiln.rpm.SigningKey;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A publisher for crash tests, run as its own JVM and killed with SIGKILL at a random moment:
 * publishes {@code synth-1.<i>-1.noarch.rpm} from a folder, one per publish, from index {@code start}
 * on, printing {@code ready} once set up and {@code published <i>} after each publish.
 *
 * <p>Arguments: {@code directory|webdav}, the folder or URL, the cache folder, the secret key file,
 * the RPM folder, the first index, and optionally how many to publish (a training run for the JVM's AOT cache).
 * With {@code stdin} instead of the first index it reads the first index from its standard input
 * after {@code ready}: a publisher started ahead, while the repository is still being checked.
 * With {@code prune=N} instead of the first index it runs one {@code prune --keep N} and prints
 * {@code pruned <ms>}.
 */
public final class PublishLoop {

    /**
     * The metadata grace of tests that publish many times a second. An hour's grace at a real rate
     * (a publish every few minutes) keeps the files of some twenty publishes; at test speed it would
     * keep hundreds, and every WebDAV publish copies each retained file into its new collection.
     * A few seconds keep the retained set to a few publishes, as a real hour does, still exercised.
     */
    public static final Duration BURST_GRACE = Duration.ofSeconds(5);

    private PublishLoop() {
    }

    public static void main(String[] args) throws Exception {
        TargetConfig config = args[0].equals("directory") ? TargetConfig.localDirectory(Path.of(args[1]))
                : new TargetConfig("crash", TargetConfig.Kind.WEBDAV, Optional.empty(), Optional.of(URI.create(args[1])), "",
                        BURST_GRACE, Duration.ofSeconds(60), TargetConfig.DEFAULT_INDEX_TIMEOUT);
        SigningKey key = SigningKey.load(Path.of(args[3]), "pw".toCharArray());
        Path rpms = Path.of(args[4]);
        try (PublishTarget target = Targets.open(config, Map.of(), Path.of(args[2]))) {
            if (args[5].startsWith("prune=")) {
                // loads the signing classes (from BouncyCastle's signed jars, verified as they load) before "ready",
                // so a kill timed after it lands in the prune's own steps
                key.detachedSignature("warm-up".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            System.out.println("ready");
            System.out.flush();
            if (args[5].startsWith("prune=")) {
                long started = System.nanoTime();
                target.prune(Integer.parseInt(args[5].substring("prune=".length())), Pruning.Mode.APPLY, key);
                System.out.println("pruned " + (System.nanoTime() - started) / 1_000_000);
                System.out.flush();
                return;
            }
            int first = Integer.parseInt(args[5].equals("stdin")
                    ? new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine().strip() : args[5]);
            int last = args.length > 6 ? first + Integer.parseInt(args[6]) : Integer.MAX_VALUE; // a training run stops
            for (int i = first; i < last; i++) {
                target.publish(List.of(rpms.resolve("synth-1." + i + "-1.noarch.rpm")), Map.of(), key);
                System.out.println("published " + i);
                System.out.flush();
            }
        }
    }
}
