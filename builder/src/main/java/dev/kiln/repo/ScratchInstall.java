package dev.kiln.repo;

import dev.kiln.KilnException;
import dev.kiln.rpm.Nevra;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Installs packages from a repository into an empty root with the host's real {@code dnf
 * --installroot}, as a user would: the repository the only one, package and repository signatures
 * checked against the key it serves ({@code gpgcheck=1}, {@code repo_gpgcheck=1}). One dnf
 * transaction installs them all with {@code --skip-broken}, so one broken package does not hide the
 * others; the root's rpm database then tells which packages did not get installed.
 */
public final class ScratchInstall {

    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final String REPO_ID = "kiln-check";

    private ScratchInstall() {
    }

    /** Whether {@code nevra} can be installed on this machine at all: noarch, or this machine's architecture. */
    public static boolean installableHere(Nevra nevra) {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String rpmArch = switch (arch) {
            case "amd64" -> "x86_64";
            case "arm64" -> "aarch64";
            default -> arch;
        };
        return nevra.arch().equals("noarch") || nevra.arch().equals(rpmArch);
    }

    /**
     * Installs {@code packages} from {@code url} into the empty folder {@code root}.
     *
     * @return one failure per package that is not installed afterwards, with what dnf said about it
     * @throws KilnException ENVIRONMENT when dnf is not installed
     */
    public static List<CheckReport.Failure> install(URI url, List<Nevra> packages, Path root) {
        if (packages.isEmpty()) {
            return List.of();
        }
        String base = url.toString().replaceAll("/+$", "");
        List<String> command = new ArrayList<>(List.of("dnf", "-y", "--installroot", root.toString(), "--noplugins",
                "--setopt=reposdir=/dev/null", "--setopt=cachedir=" + root.resolve("var/cache/dnf"),
                // the repository's URL has no $releasever; dnf only needs some value in an empty root
                "--releasever=kiln", "--setopt=install_weak_deps=False",
                "--repofrompath=" + REPO_ID + "," + base + "/",
                "--setopt=" + REPO_ID + ".gpgcheck=1", "--setopt=" + REPO_ID + ".repo_gpgcheck=1",
                "--setopt=" + REPO_ID + ".gpgkey=" + base + "/" + DirectoryRepository.PUBLIC_KEY_FILE,
                "--setopt=" + REPO_ID + ".skip_if_unavailable=False",
                "install", "--skip-broken"));
        packages.forEach(n -> command.add(n.toString()));
        String dnfOutput = run(command);
        Set<String> installed = new HashSet<>();
        for (String line : run(List.of("rpm", "--root", root.toString(), "-qa", "--qf",
                "%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n")).lines().toList()) {
            installed.add(line.strip().replace("-0:", "-"));
        }
        List<CheckReport.Failure> failures = new ArrayList<>();
        for (Nevra n : packages) {
            if (!installed.contains(n.toString())) {
                failures.add(new CheckReport.Failure(CheckReport.FailureKind.INSTALL, n.toString(), said(dnfOutput, n)));
            }
        }
        return failures;
    }

    /** dnf's lines about {@code n} (a few), or its last lines when it names no package (a failure of the whole run). */
    private static String said(String output, Nevra n) {
        List<String> lines = output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        List<String> about = lines.stream().filter(l -> l.contains(n.name() + "-") || l.contains(n.name() + " ")).limit(3).toList();
        List<String> shown = about.isEmpty() ? lines.subList(Math.max(0, lines.size() - 3), lines.size()) : about;
        return "not installed by dnf: " + String.join(" | ", shown);
    }

    private static String run(List<String> command) {
        Process process;
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().put("LC_ALL", "C.UTF-8");
            process = builder.start();
        } catch (IOException e) {
            throw KilnException.environment(command.getFirst() + " cannot be run (" + e.getMessage()
                    + "): --install needs dnf and rpm on this machine (apt-get install dnf, or dnf's own package manager)");
        }
        try {
            process.getOutputStream().close();
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return output.getNow("") + "\n" + command.getFirst() + " did not finish within " + TIMEOUT.toMinutes() + " minutes";
            }
            return output.join();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw KilnException.interrupted();
        }
    }
}
