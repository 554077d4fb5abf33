package dev.kiln.rpm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.packager.rpm.build.BuilderContext;
import org.eclipse.packager.rpm.build.RpmBuilder;

/**
 * Small binary RPMs made in-process (Eclipse Packager's builder) in about a millisecond each, for
 * tests and benchmarks that need hundreds or thousands of distinct packages; then signed with
 * Kiln's signer, so rpm and dnf accept them like rpmbuild's.
 */
public final class SyntheticRpms {

    private SyntheticRpms() {
    }

    /** {@code name-version-1.noarch.rpm} in {@code folder}, installing /usr/share/NAME/VERSION.txt, signed by {@code signer}. */
    public static Path write(Path folder, String name, String version, RpmSigner signer) throws IOException {
        Files.createDirectories(folder);
        Path rpm;
        try (RpmBuilder builder = new RpmBuilder(name, version, "1", "noarch", folder)) {
            builder.getInformation().setSummary("Synthetic package " + name + " " + version);
            builder.getInformation().setDescription("A package made by Kiln's tests.");
            builder.getInformation().setLicense("MIT");
            builder.getInformation().setUrl("https://example.com/" + name);
            builder.getInformation().setSourcePackage(name + "-" + version + "-1.src.rpm");
            BuilderContext ctx = builder.newContext();
            ctx.addFile("/usr/share/" + name + "/" + version + ".txt", (name + " " + version + "\n").getBytes(StandardCharsets.UTF_8));
            builder.build();
            // the builder names it name-version-release-arch.rpm; rpmbuild's name has a dot before the arch
            rpm = Files.move(builder.getTargetFile(), folder.resolve(name + "-" + version + "-1.noarch.rpm"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        signer.sign(rpm);
        return rpm;
    }
}
