package dev.kiln.pipeline;

import dev.kiln.KilnException;
import dev.kiln.rpm.RpmFile;
import dev.kiln.specfile.EvaluatedSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The check between copying a build's output out of its container and signing it: only what the
 * spec declares is signed. A build runs code the spec's author (or whoever changed a source)
 * wrote, and that code can drop any RPM into the output folder (a nested rpmbuild making a
 * {@code coreutils} that provides {@code sudo}); signing it would make it trusted on every machine
 * that installs from the repository. So the output must be exactly one source RPM named for the
 * spec and binary RPMs named as the spec's packages, each built from that source RPM; anything
 * else fails the build and names the file.
 *
 * @param sourceRpm the build's source RPM
 * @param binaries its binary RPMs, in output order
 */
record DeclaredOutputs(RpmFile sourceRpm, List<RpmFile> binaries) {

    DeclaredOutputs {
        binaries = List.copyOf(binaries);
    }

    /** Reads {@code files} (the copied output) and returns them when they are what {@code spec} declares. */
    static DeclaredOutputs check(EvaluatedSpec spec, List<Path> files) {
        List<RpmFile> rpms = new ArrayList<>();
        for (Path file : files) {
            rpms.add(read(file));
        }
        List<RpmFile> sources = rpms.stream().filter(RpmFile::source).toList();
        if (sources.size() > 1) {
            throw refused("the build output holds " + sources.size() + " source RPMs ("
                    + String.join(", ", sources.stream().map(r -> fileName(r)).toList()) + "); a build makes exactly one");
        }
        if (sources.isEmpty()) {
            throw refused("the build output holds no source RPM; rpmbuild -ba makes one for " + spec.path());
        }
        RpmFile source = sources.getFirst();
        if (!source.nevra().name().equals(spec.name()) || !fileName(source).equals(canonicalSourceName(source))) {
            throw refused("build output " + fileName(source) + " is not the source RPM of " + spec.path()
                    + " (its header names " + canonicalSourceName(source) + ", the spec's Name is " + spec.name() + ")");
        }
        Set<String> declared = declaredNames(spec);
        List<RpmFile> binaries = new ArrayList<>();
        for (RpmFile rpm : rpms) {
            if (rpm.source()) {
                continue;
            }
            String name = rpm.nevra().name();
            if (!declared.contains(name)) {
                throw refused("build output " + fileName(rpm) + " is package " + name + ", which " + spec.path()
                        + " does not declare (it declares " + String.join(", ", spec.packages()) + ")");
            }
            if (!rpm.sourceRpm().equals(fileName(source))) {
                throw refused("build output " + fileName(rpm) + " says it was built from " + rpm.sourceRpm()
                        + ", not from this build's source RPM " + fileName(source));
            }
            if (!fileName(rpm).equals(rpm.canonicalFileName())) {
                throw refused("build output " + fileName(rpm) + " is named differently from the package it holds, "
                        + rpm.canonicalFileName());
            }
            binaries.add(rpm);
        }
        if (binaries.isEmpty()) {
            throw refused("the build output holds no binary RPM of " + spec.path());
        }
        return new DeclaredOutputs(source, binaries);
    }

    /**
     * The spec's packages, and the debuginfo and debugsource packages rpmbuild adds to them by
     * itself when {@code %debug_package} is on (it is on EL builders for compiled code).
     */
    static Set<String> declaredNames(EvaluatedSpec spec) {
        Set<String> names = new LinkedHashSet<>(spec.packages());
        for (String p : spec.packages()) {
            names.add(p + "-debuginfo");
        }
        names.add(spec.name() + "-debugsource");
        return names;
    }

    private static RpmFile read(Path file) {
        try {
            return RpmFile.read(file);
        } catch (KilnException e) {
            // RpmFile calls an unreadable file bad input, as it is when a user names one; here the build made it.
            String why = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : e.getMessage();
            throw refused("build output " + file.getFileName() + " is not an RPM (" + why + ")");
        }
    }

    private static String canonicalSourceName(RpmFile source) {
        var n = source.nevra();
        return n.name() + "-" + n.version() + "-" + n.release() + "." + n.arch() + ".rpm";
    }

    private static String fileName(RpmFile rpm) {
        return rpm.path().getFileName().toString();
    }

    private static KilnException refused(String what) {
        return KilnException.buildFailed(what + ": Kiln signs and publishes only the packages the spec declares and its"
                + " source RPM, so nothing was signed or published");
    }
}
