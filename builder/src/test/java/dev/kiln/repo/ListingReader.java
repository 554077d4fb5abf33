package dev.kiln.repo;

import dev.kiln.rpm.RpmFile;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A second process for {@link RepositoryConcurrencyIT}: lists the repository's packages as a build
 * does at its start, then waits for {@code read} on stdin and reads every file it listed, as a build
 * does much later. It answers each step with one line on stdout.
 */
public final class ListingReader {

    private ListingReader() {
    }

    public static void main(String[] args) throws Exception {
        DirectoryRepository repository = new DirectoryRepository(Path.of(args[0]));
        List<RpmFile> listed = repository.packages();
        System.out.println("listed " + listed.size() + " " + listed.getFirst().path());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.equals("read")) {
                int ok = 0;
                String failure = "";
                for (RpmFile rpm : listed) {
                    try {
                        Files.readAllBytes(rpm.path());
                        RpmFile.read(rpm.path());
                        ok++;
                    } catch (RuntimeException | java.io.IOException e) {
                        failure = failure.isEmpty() ? " " + e : failure;
                    }
                }
                System.out.println("read " + ok + " of " + listed.size() + failure);
                System.out.flush();
            } else if (line.equals("exit")) {
                return;
            }
        }
    }
}
