package dev.kiln.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DefinitionRepositoryTest {

    @TempDir
    Path root;

    private final PersonIdent author = new PersonIdent("Pat Packager", "pat@example.com");

    @BeforeEach
    void repository() throws Exception {
        Files.createDirectories(root.resolve("specs/p"));
        Files.createDirectories(root.resolve("patches/p"));
        Files.writeString(root.resolve("specs/p/p.spec"), "Version: 1\n");
        Files.writeString(root.resolve("patches/p/a.patch"), "a\n");
        Files.writeString(root.resolve("README"), "readme\n");
        try (Git git = Git.init().setDirectory(root.toFile()).setInitialBranch("main").call()) {
            git.add().addFilepattern(".").call();
            git.commit().setMessage("init").setAuthor(author).setCommitter(author).setSign(false).call();
        }
    }

    @Test
    void readsCommittedContentAtARevisionNotTheWorkingTree() throws Exception {
        Files.writeString(root.resolve("specs/p/p.spec"), "Version: 2\n");
        try (DefinitionRepository repo = DefinitionRepository.open(root)) {
            var head = repo.snapshot("HEAD", List.of("specs/p"));
            assertThat(new String(repo.files(head, "specs/p").get("p.spec"), StandardCharsets.UTF_8)).isEqualTo("Version: 1\n");
            var work = repo.snapshot(null, List.of("specs/p"));
            assertThat(work.dirty()).isTrue();
            assertThat(new String(repo.files(work, "specs/p").get("p.spec"), StandardCharsets.UTF_8)).isEqualTo("Version: 2\n");
            assertThat(repo.snapshot(null, List.of("patches/p")).dirty()).as("only the named paths count").isFalse();
        }
    }

    @Test
    void refusesUncommittedChangesInThePackage() throws Exception {
        Files.writeString(root.resolve("patches/p/new.patch"), "new\n");
        try (DefinitionRepository repo = DefinitionRepository.open(root)) {
            assertThatThrownBy(() -> repo.requireClean(List.of("specs/p", "patches/p")))
                    .hasMessageStartingWith("patches/p/new.patch has uncommitted changes");
            repo.requireClean(List.of("specs/p"));
        }
    }

    @Test
    void commitsOnANewBranchLeavingTheOldBranchAndUnrelatedFilesAlone() throws Exception {
        Files.writeString(root.resolve("README"), "edited, not committed\n");
        try (DefinitionRepository repo = DefinitionRepository.open(root); Git git = Git.open(root.toFile())) {
            String mainBefore = git.getRepository().resolve("main").name();
            String commit = repo.commitOnNewBranch("bump/p-2", Map.of("specs/p/p.spec", "Version: 2\n".getBytes()),
                    List.of("patches/p/a.patch"), "p: bump to 2", author);
            assertThat(git.getRepository().resolve("main").name()).isEqualTo(mainBefore);
            assertThat(repo.currentBranch()).isEqualTo("bump/p-2");
            assertThat(git.getRepository().resolve("bump/p-2").name()).isEqualTo(commit);
            assertThat(root.resolve("patches/p/a.patch")).doesNotExist();
            assertThat(root.resolve("README")).hasContent("edited, not committed");
            var status = git.status().call();
            assertThat(status.getModified()).containsExactly("README");
            var log = git.log().setMaxCount(1).call().iterator().next();
            assertThat(log.getAuthorIdent().getName()).isEqualTo("Pat Packager");
            assertThat(log.getFullMessage()).isEqualTo("p: bump to 2");
            assertThat(repo.branchExists("bump/p-2")).isTrue();
        }
    }

    @Test
    void listsPathsChangedSinceARevisionInCommitsAndInTheWorkingTree() throws Exception {
        String first;
        try (Git git = Git.open(root.toFile())) {
            first = git.getRepository().resolve("HEAD").name();
            Files.writeString(root.resolve("patches/p/a.patch"), "a changed\n");
            git.add().addFilepattern(".").call();
            git.commit().setMessage("change a").setAuthor(author).setCommitter(author).setSign(false).call();
        }
        Files.writeString(root.resolve("specs/p/p.spec"), "Version: 3\n");
        Files.createDirectories(root.resolve("specs/q"));
        Files.writeString(root.resolve("specs/q/q.spec"), "new\n");
        Files.writeString(root.resolve(".gitignore"), "ignored/\n");
        Files.createDirectories(root.resolve("ignored"));
        Files.writeString(root.resolve("ignored/x"), "x\n");
        try (DefinitionRepository repo = DefinitionRepository.open(root)) {
            assertThat(repo.changedSince(first, repo.snapshot(null, List.of()), List.of("specs", "patches", ".gitignore", "ignored")))
                    .containsExactly(".gitignore", "patches/p/a.patch", "specs/p/p.spec", "specs/q/q.spec");
            // only the paths asked about are compared
            assertThat(repo.changedSince(first, repo.snapshot(null, List.of()), List.of("specs")))
                    .containsExactly("specs/p/p.spec", "specs/q/q.spec");
            assertThat(repo.changedSince(first, repo.snapshot("HEAD", List.of()), List.of("specs", "patches"))).containsExactly("patches/p/a.patch");
            assertThat(repo.changedSince("HEAD", repo.snapshot("HEAD", List.of()), List.of("specs", "patches"))).isEmpty();
            assertThatThrownBy(() -> repo.changedSince("nosuchref", repo.snapshot(null, List.of()), List.of("specs")))
                    .hasMessageStartingWith("--changed-since nosuchref: no such revision");
        }
    }

    private static final String NOT_A_FILE = ": definitions are regular files inside their folder, never links or anything else; "
            + "replace it with the file itself";

    private Map<String, byte[]> workingTree(String dir) {
        try (DefinitionRepository repo = DefinitionRepository.open(root)) {
            return repo.files(repo.snapshot(null, List.of("specs")), dir);
        }
    }

    private Map<String, byte[]> atHead(String dir) {
        try (DefinitionRepository repo = DefinitionRepository.open(root)) {
            return repo.files(repo.snapshot("HEAD", List.of("specs")), dir);
        }
    }

    private void commitAll() throws Exception {
        try (Git git = Git.open(root.toFile())) {
            git.add().addFilepattern(".").call();
            git.add().addFilepattern(".").setUpdate(true).call();
            git.commit().setMessage("more").setAuthor(author).setCommitter(author).setSign(false).call();
        }
    }

    @Test
    void symlinkedFileInTheWorkingTreeIsRefusedNotRead(@TempDir Path host) throws Exception {
        Path secret = Files.writeString(host.resolve("signing-key.asc"), "TOPSECRET");
        Files.createSymbolicLink(root.resolve("specs/p/company.conf"), secret);
        assertThatThrownBy(() -> workingTree("specs/p"))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessage("specs/p/company.conf is a symbolic link" + NOT_A_FILE);
        // also a link to a folder below the package folder, and a dangling one
        Files.delete(root.resolve("specs/p/company.conf"));
        Files.createSymbolicLink(root.resolve("specs/p/etc"), host);
        assertThatThrownBy(() -> workingTree("specs/p")).hasMessage("specs/p/etc is a symbolic link" + NOT_A_FILE);
        Files.delete(root.resolve("specs/p/etc"));
        Files.createSymbolicLink(root.resolve("specs/p/gone"), host.resolve("nothing"));
        assertThatThrownBy(() -> workingTree("specs/p")).hasMessage("specs/p/gone is a symbolic link" + NOT_A_FILE);
    }

    @Test
    void symlinkedFolderOnTheWayIsRefused(@TempDir Path host) throws Exception {
        Files.writeString(Files.createDirectories(host.resolve("q")).resolve("q.spec"), "TOPSECRET");
        Files.createSymbolicLink(root.resolve("specs/q"), host.resolve("q"));
        assertThatThrownBy(() -> workingTree("specs/q")).hasMessage("specs/q is a symbolic link" + NOT_A_FILE);
        assertThatThrownBy(() -> workingTree("specs")).hasMessage("specs/q is a symbolic link" + NOT_A_FILE);
        Path specs = root.resolve("specs");
        Files.move(specs, root.resolve("real-specs"));
        Files.createSymbolicLink(specs, root.resolve("real-specs"));
        assertThatThrownBy(() -> workingTree("specs/p")).hasMessage("specs is a symbolic link" + NOT_A_FILE);
    }

    @Test
    void fifoInTheWorkingTreeIsRefusedWithoutBlocking() throws Exception {
        Process mkfifo = new ProcessBuilder("mkfifo", root.resolve("specs/p/pipe").toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        assertThatThrownBy(() -> workingTree("specs/p")).hasMessage("specs/p/pipe is not a regular file" + NOT_A_FILE);
    }

    @Test
    void committedSymlinkEntryIsRefusedAtARevision() throws Exception {
        Files.createSymbolicLink(root.resolve("specs/p/shadow"), Path.of("/etc/shadow"));
        commitAll();
        Files.delete(root.resolve("specs/p/shadow")); // the working tree is clean again; the commit still holds the link
        try (Git git = Git.open(root.toFile());
                var walk = org.eclipse.jgit.treewalk.TreeWalk.forPath(git.getRepository(), "specs/p/shadow",
                        git.getRepository().parseCommit(git.getRepository().resolve("HEAD")).getTree())) {
            assertThat(walk.getFileMode(0)).as("Git holds a symlink entry").isEqualTo(org.eclipse.jgit.lib.FileMode.SYMLINK);
        }
        assertThatThrownBy(() -> atHead("specs/p"))
                .isInstanceOfSatisfying(dev.kiln.KilnException.class, e -> assertThat(e.exitCode()).isEqualTo(2))
                .hasMessage("specs/p/shadow is a symbolic link (committed at HEAD)" + NOT_A_FILE);
    }

    @Test
    void committedSymlinkFolderIsRefusedNotSkipped() throws Exception {
        Files.createSymbolicLink(root.resolve("specs/q"), Path.of("/etc"));
        commitAll();
        assertThatThrownBy(() -> atHead("specs/q")).hasMessage("specs/q is a symbolic link (committed at HEAD)" + NOT_A_FILE);
        assertThatThrownBy(() -> atHead("specs")).hasMessage("specs/q is a symbolic link (committed at HEAD)" + NOT_A_FILE);
    }

    @Test
    void committedSubmoduleEntryIsRefused() throws Exception {
        try (Git git = Git.open(root.toFile())) {
            var repository = git.getRepository();
            var cache = repository.lockDirCache();
            var builder = cache.builder();
            for (int i = 0; i < cache.getEntryCount(); i++) {
                builder.add(cache.getEntry(i));
            }
            var link = new org.eclipse.jgit.dircache.DirCacheEntry("specs/p/vendor");
            link.setFileMode(org.eclipse.jgit.lib.FileMode.GITLINK);
            link.setObjectId(repository.resolve("HEAD"));
            builder.add(link);
            builder.commit();
            git.commit().setMessage("submodule").setAuthor(author).setCommitter(author).setSign(false).call();
        }
        assertThatThrownBy(() -> atHead("specs/p")).hasMessage("specs/p/vendor is a submodule (committed at HEAD)" + NOT_A_FILE);
    }

    @Test
    void regularFilesAreStillReadFromBothSources() throws Exception {
        Files.writeString(Files.createDirectories(root.resolve("specs/p/conf")).resolve("a.conf"), "a\n");
        commitAll();
        assertThat(workingTree("specs/p")).containsOnlyKeys("p.spec", "conf/a.conf");
        assertThat(atHead("specs/p")).containsOnlyKeys("p.spec", "conf/a.conf");
        assertThat(workingTree("specs/none")).isEmpty();
        assertThat(atHead("specs/none")).isEmpty();
    }
}
