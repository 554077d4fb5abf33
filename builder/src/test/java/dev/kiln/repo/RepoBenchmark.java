package dev.kiln.repo;

import dev.kiln.repo.repodata.Repodata;
import dev.kiln.rpm.KeyGenerator;
import dev.kiln.rpm.RpmSigner;
import dev.kiln.rpm.SigningKey;
import dev.kiln.rpm.SyntheticRpms;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The figures of {@code ci/benchmark-repo}, each against the reference tool in the same run, the
 * tools interleaved: indexing N packages ({@code createrepo_c --no-database}), adding one package to
 * a repository of N inside one warm process ({@code createrepo_c --no-database --update}), and
 * signing ({@code rpmsign --addsign} over the same files). Run with the launcher's JVM flags.
 *
 * <p>Arguments: a work folder (packages are kept there between runs), {@code index|add|sign}, N, runs.
 */
public final class RepoBenchmark {

    private RepoBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createDirectories(Path.of(args[0]));
        String what = args[1];
        int n = Integer.parseInt(args[2]);
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        SigningKey key = key(work);
        switch (what) {
            case "index" -> index(work, n, runs, key);
            case "add" -> add(work, n, runs, key);
            case "sign" -> sign(work, n, runs, key);
            case "make" -> packages(work, n, key);
            default -> throw new IllegalArgumentException("index, add, sign or make");
        }
    }

    static SigningKey key(Path work) {
        Path secret = work.resolve("key.asc");
        if (!Files.exists(secret)) {
            return KeyGenerator.generate(secret, work.resolve("key.pub"), "Kiln Benchmark <bench@kiln.dev>", new char[0]);
        }
        return SigningKey.load(secret, new char[0]);
    }

    /** N signed synthetic packages in {@code work/rpms-N/Packages}, made once and kept. */
    static List<Path> packages(Path work, int n, SigningKey key) throws IOException {
        Path folder = work.resolve("rpms-" + n).resolve("Packages");
        Path done = folder.resolveSibling(".complete");
        if (!Files.exists(done)) {
            long started = System.nanoTime();
            int threads = Runtime.getRuntime().availableProcessors();
            // one signer per thread, each making every threads-th package; a package already there (an interrupted run) is kept
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
                List<java.util.concurrent.Future<?>> parts = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t;
                    parts.add(pool.submit(() -> {
                        RpmSigner signer = new RpmSigner(key);
                        for (int i = first; i < n; i += threads) {
                            String name = String.format("bench%06d", i);
                            if (!Files.exists(folder.resolve(name + "-1.0-1.noarch.rpm"))) {
                                SyntheticRpms.write(folder, name, "1.0", signer);
                            }
                        }
                        return null;
                    }));
                }
                for (var part : parts) {
                    part.get();
                }
            } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                throw new IOException("making the synthetic RPMs failed", e);
            }
            Files.writeString(done, "");
            System.err.printf("made %d signed synthetic RPMs in %.1f s%n", n, (System.nanoTime() - started) / 1e9);
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.toString().endsWith(".rpm")).sorted().toList();
        }
    }

    static void index(Path work, int n, int runs, SigningKey key) throws Exception {
        List<Path> rpms = packages(work, n, key);
        Path repo = rpms.getFirst().getParent().getParent();
        long[] kiln = new long[runs];
        long[] createrepo = new long[runs];
        // one untimed run first: the service indexes in a warm process
        for (int r = -1; r < runs; r++) {
            Path out = Files.createTempDirectory(work, "kiln-index-");
            long t0 = System.nanoTime();
            Repodata.Written written = Repodata.write(null, null, Repodata.read(rpms, p -> "Packages/" + p.getFileName()), out, Instant.now());
            Files.write(out.resolve(Repodata.REPOMD), written.repomd());
            key.detachedSignature(written.repomd());
            long took = (System.nanoTime() - t0) / 1_000_000;
            deleteTree(out);
            if (r < 0) {
                continue;
            }
            kiln[r] = took;
            deleteTree(repo.resolve("repodata"));
            t0 = System.nanoTime();
            run("createrepo_c", "--quiet", "--no-database", repo.toString());
            createrepo[r] = (System.nanoTime() - t0) / 1_000_000;
        }
        report("full index of " + n + " packages (headers read, three documents written, repomd signed)", kiln, createrepo,
                "createrepo_c --no-database");
    }

    static void add(Path work, int n, int runs, SigningKey key) throws Exception {
        List<Path> rpms = packages(work, n, key);
        // fresh names each run, since the repositories of N are kept between runs and a release never changes
        Path extra = work.resolve("extra-" + n);
        deleteTree(extra);
        String stamp = Long.toString(System.currentTimeMillis(), 36);
        List<Path> added = new ArrayList<>();
        RpmSigner signer = new RpmSigner(key);
        int warm = 3;
        for (int r = 0; r < warm + runs * 2 + 1; r++) {
            added.add(SyntheticRpms.write(extra, "added" + stamp + "x" + r, "1.0", signer));
        }
        // Kiln: a directory repository of N (made once and kept), one warm process, one package per publish
        Path location = work.resolve("kiln-repo-" + n);
        Path made = work.resolve("kiln-repo-" + n + ".complete");
        if (!Files.exists(made)) {
            deleteTree(location);
            long t0 = System.nanoTime();
            new DirectoryRepository(location).publish(rpms, key);
            Files.writeString(made, "");
            System.err.printf("Kiln published the %d packages into an empty repository in %d ms%n", n, (System.nanoTime() - t0) / 1_000_000);
        }
        DirectoryRepository repository = new DirectoryRepository(location);
        for (Path rpm : added.subList(0, warm)) {
            repository.publish(List.of(rpm), key); // warm
        }
        // createrepo_c: the same packages indexed once, then --update after each new file
        // (the index figure's last createrepo_c run left its repodata, kept and put back afterwards: at 100,000
        // packages createrepo_c 0.17 takes minutes per run, so KILN_BENCHMARK_REFERENCE_RUNS may run it fewer times)
        Path reference = work.resolve("rpms-" + n);
        Path pristine = reference.resolve(".repodata-pristine");
        if (!Files.exists(pristine)) {
            if (!Files.isRegularFile(reference.resolve("repodata").resolve(Repodata.REPOMD))) {
                deleteTree(reference.resolve("repodata"));
                run("createrepo_c", "--quiet", "--no-database", reference.toString());
            }
            run("cp", "-a", reference.resolve("repodata").toString(), pristine.toString());
        }
        deleteTree(reference.resolve("repodata"));
        run("cp", "-a", pristine.toString(), reference.resolve("repodata").toString());
        int referenceRuns = Math.min(runs, Integer.parseInt(System.getenv().getOrDefault("KILN_BENCHMARK_REFERENCE_RUNS", "" + runs)));
        List<Path> copied = new ArrayList<>();
        long[] kiln = new long[runs];
        long[] createrepo = new long[referenceRuns];
        long[] createrepoRss = new long[referenceRuns];
        try {
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                repository.publish(List.of(added.get(warm + r)), key);
                kiln[r] = (System.nanoTime() - t0) / 1_000_000;
                copied.add(Files.copy(added.get(warm + r), reference.resolve("Packages").resolve(added.get(warm + r).getFileName())));
                if (r < referenceRuns) {
                    Measured m = measured(null, "createrepo_c", "--quiet", "--no-database", "--update", reference.toString());
                    createrepo[r] = m.millis();
                    createrepoRss[r] = m.peakKb();
                }
            }
            int listed = repository.list().size();
            report("add 1 package to a repository of " + listed + " (one warm process; whole publish: header, copy, metadata, signature, swap)",
                    kiln, createrepo, "createrepo_c --no-database --update");
            String launcher = System.getenv("KILN_BENCHMARK_LAUNCHER");
            if (launcher != null) {
                cli(work, launcher, location, added.subList(warm + runs, added.size()), createrepo, createrepoRss);
            }
        } finally {
            for (Path copy : copied) {
                Files.delete(copy);
            }
            deleteTree(reference.resolve("repodata"));
            run("cp", "-a", pristine.toString(), reference.resolve("repodata").toString());
            repository.close();
        }
    }

    /**
     * The whole {@code kiln repo publish <rpm>} command through the launcher, against a kiln.yaml
     * whose default target is {@code location}, against the {@code createrepo_c --update} figures
     * measured just before in the same run on the same repository size ({@code createrepo},
     * {@code createrepoRss}); then once more with the heap bounded at 64 MiB, which must succeed.
     */
    private static void cli(Path work, String launcher, Path location, List<Path> rpms, long[] createrepo, long[] createrepoRss)
            throws Exception {
        Path project = Files.createDirectories(work.resolve("project"));
        Path keys = Files.createDirectories(project.resolve("keys"));
        Files.copy(work.resolve("key.asc"), keys.resolve("signing-key.asc"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(work.resolve("key.pub"), keys.resolve("signing-key.asc.pub"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(project.resolve("kiln.yaml"), """
                state: state
                repository: state/repo
                signing:
                  key: keys/signing-key.asc
                targets:
                  - name: bench
                    kind: directory
                    path: %s
                """.formatted(location));
        int runs = rpms.size() - 1;
        long[] kiln = new long[runs];
        long[] kilnRss = new long[runs];
        long[] kilnCpu = new long[runs];
        long[] version = new long[runs];
        long[] versionCpu = new long[runs];
        for (int r = 0; r < runs; r++) {
            Measured v = measured(project, launcher, "--version");
            version[r] = v.millis();
            versionCpu[r] = v.cpuMillis();
            Measured k = measured(project, launcher, "repo", "publish", rpms.get(r).toString());
            kiln[r] = k.millis();
            kilnRss[r] = k.peakKb();
            kilnCpu[r] = k.cpuMillis();
        }
        int listed = new DirectoryRepository(location).list().size();
        report("./kiln repo publish <rpm> into a repository of " + listed + " (whole command: launcher, JVM start, publish)",
                kiln, createrepo, "createrepo_c --no-database --update");
        System.out.printf("  start-up floor in the same run: ./kiln --version %d ms %s; CPU time (user+system, all threads): "
                + "repo publish %d ms, --version %d ms; load %s%n", median(version), Arrays.toString(version), median(kilnCpu),
                median(versionCpu), Files.readString(Path.of("/proc/loadavg")).split(" ", 4)[0]);
        Measured bounded = measured(project, launcher, "repo", "publish", rpms.getLast().toString(), "--heap", "64m");
        System.out.printf("  peak RSS: Kiln %d MB %s, under -Xmx64m %d MB (%d ms, succeeded); createrepo_c --update %d MB %s%n",
                median(kilnRss) / 1024, Arrays.toString(Arrays.stream(kilnRss).map(kb -> kb / 1024).toArray()), bounded.peakKb() / 1024,
                bounded.millis(), median(createrepoRss) / 1024, Arrays.toString(Arrays.stream(createrepoRss).map(kb -> kb / 1024).toArray()));
    }

    /** A command's wall time, peak RSS (GNU time's %M, KiB) and CPU time (user and system, all threads). */
    record Measured(long millis, long peakKb, long cpuMillis) {
    }

    /**
     * Runs {@code command} in {@code dir} under {@code /usr/bin/time}; a trailing {@code --heap X}
     * is not passed on but bounds the JVM's heap (JAVA_TOOL_OPTIONS=-XmxX).
     */
    private static Measured measured(Path dir, String... command) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(Arrays.asList(command));
        String heap = null;
        if (args.size() > 2 && args.get(args.size() - 2).equals("--heap")) {
            heap = args.removeLast();
            args.removeLast();
        }
        Path rss = Files.createTempFile("kiln-bench-rss", ".txt");
        List<String> timed = new ArrayList<>(List.of("/usr/bin/time", "-f", "%M %U %S", "-o", rss.toString()));
        timed.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(timed).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
            pb.environment().put("KILN_PROJECT_ROOT", dir.toString());
            pb.environment().put("KILN_SIGNING_PASSPHRASE", "");
        }
        if (heap != null) {
            pb.environment().put("JAVA_TOOL_OPTIONS", "-Xmx" + heap);
        }
        long t0 = System.nanoTime();
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        int code = p.waitFor();
        long millis = (System.nanoTime() - t0) / 1_000_000;
        String peak = Files.readString(rss).strip();
        Files.delete(rss);
        if (code != 0) {
            throw new IOException(String.join(" ", args) + (heap == null ? "" : " (-Xmx" + heap + ")") + " failed (" + code + "): " + out);
        }
        String[] figures = peak.substring(peak.lastIndexOf('\n') + 1).strip().split(" ");
        return new Measured(millis, Long.parseLong(figures[0]),
                Math.round((Double.parseDouble(figures[1]) + Double.parseDouble(figures[2])) * 1000));
    }

    static void sign(Path work, int n, int runs, SigningKey key) throws Exception {
        Path unsigned = work.resolve("unsigned-" + n);
        if (!Files.exists(unsigned.resolve(".complete"))) {
            Files.createDirectories(unsigned);
            for (int i = 0; i < n; i++) {
                try (var builder = new org.eclipse.packager.rpm.build.RpmBuilder(String.format("sign%05d", i), "1.0", "1", "noarch", unsigned)) {
                    builder.getInformation().setSourcePackage("sign-1.0-1.src.rpm");
                    builder.newContext().addFile("/usr/share/sign/" + i, ("x" + i).getBytes());
                    builder.build();
                }
            }
            Files.writeString(unsigned.resolve(".complete"), "");
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(unsigned)) {
            files = list.filter(p -> p.toString().endsWith(".rpm")).sorted().toList();
        }
        Path gpgHome = work.resolve("gnupg");
        if (!Files.exists(gpgHome)) {
            Files.createDirectories(gpgHome);
            Files.setPosixFilePermissions(gpgHome, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            run("gpg", "--homedir", gpgHome.toString(), "--batch", "--import", work.resolve("key.asc").toString());
        }
        long[] kiln = new long[runs];
        long[] rpmsign = new long[runs];
        RpmSigner signer = new RpmSigner(key);
        // one untimed pass over a tenth of the files first: the service signs in a warm process
        Path warm = copyAll(files.subList(0, Math.max(1, n / 10)), work.resolve("sign-kiln"));
        try (Stream<Path> list = Files.list(warm)) {
            for (Path rpm : (Iterable<Path>) list::iterator) {
                signer.sign(rpm);
            }
        }
        for (int r = 0; r < runs; r++) {
            Path a = copyAll(files, work.resolve("sign-kiln"));
            long t0 = System.nanoTime();
            try (Stream<Path> list = Files.list(a)) {
                for (Path rpm : (Iterable<Path>) list::iterator) {
                    signer.sign(rpm);
                }
            }
            kiln[r] = (System.nanoTime() - t0) / 1_000_000;
            Path b = copyAll(files, work.resolve("sign-rpmsign"));
            List<String> command = new ArrayList<>(List.of("rpmsign", "--define", "__gpg /usr/bin/gpg", "--define", "_gpg_path " + gpgHome,
                    "--define", "_gpg_name " + key.keyId(), "--addsign"));
            try (Stream<Path> list = Files.list(b)) {
                list.sorted().forEach(p -> command.add(p.toString()));
            }
            t0 = System.nanoTime();
            run(command.toArray(String[]::new));
            rpmsign[r] = (System.nanoTime() - t0) / 1_000_000;
        }
        report("sign " + n + " RPMs (JVM flags: " + String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean()
                .getInputArguments()) + ")", kiln, rpmsign, "rpmsign --addsign, one call");
    }

    private static Path copyAll(List<Path> files, Path folder) throws IOException {
        deleteTree(folder);
        Files.createDirectories(folder);
        for (Path f : files) {
            Files.copy(f, folder.resolve(f.getFileName()));
        }
        return folder;
    }

    private static void report(String what, long[] kiln, long[] reference, String referenceName) {
        long k = median(kiln);
        long ref = median(reference);
        System.out.printf("%s%n  Kiln          %7d ms  %s%n  %-13s %7d ms  %s%n  Kiln is %.2fx %s%n", what, k, Arrays.toString(kiln),
                referenceName.split(" ")[0], ref, Arrays.toString(reference), k <= ref ? (double) ref / Math.max(1, k)
                        : (double) k / Math.max(1, ref), k <= ref ? "faster than " + referenceName : "SLOWER than " + referenceName);
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command).substring(0, 80) + " failed: " + out);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
