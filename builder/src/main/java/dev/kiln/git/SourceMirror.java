package dev.kiln.git;

import dev.kiln.KilnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.RefSpec;

/**
 * Where the service reads the packaging repository: its own clone of a Git URL or path (fetched
 * before each ref is resolved, so a branch an engineer just pushed is found), or, with no URL, the
 * project's own repository as it is. Builds read commits from it ({@link DefinitionRepository}
 * at a revision), never a checkout, so any number of snapshots are built at once.
 */
public final class SourceMirror implements AutoCloseable {

    private final Path root;
    private final Optional<String> url;
    private final Repository repository;

    private SourceMirror(Path root, Optional<String> url, Repository repository) {
        this.root = root;
        this.url = url;
        this.repository = repository;
    }

    /**
     * The clone of {@code url} in {@code clone} (made on first use), or, with no URL, the
     * repository of {@code project}.
     *
     * @throws KilnException ENVIRONMENT when the URL cannot be cloned; BAD_INPUT when the project is no Git repository
     */
    public static SourceMirror open(Optional<String> url, Path clone, Path project) {
        try {
            if (url.isEmpty()) {
                FileRepositoryBuilder builder = new FileRepositoryBuilder().setMustExist(false).findGitDir(project.toFile());
                if (builder.getGitDir() == null) {
                    throw KilnException.badInput(project + " is not a Git repository: the service builds commits; set"
                            + " service.repository in kiln.yaml to the packaging repository's Git URL, or run git init and commit");
                }
                return new SourceMirror(project, url, builder.build());
            }
            if (!Files.isDirectory(clone.resolve(".git"))) {
                Path partial = clone.resolveSibling(clone.getFileName() + ".partial");
                if (Files.exists(partial)) {
                    org.apache.commons.io.file.PathUtils.deleteDirectory(partial);
                }
                try (Git git = Git.cloneRepository().setURI(url.get()).setDirectory(partial.toFile()).setNoCheckout(true).call()) {
                    // cloned whole before it is used: a clone interrupted halfway is made again
                }
                Files.move(partial, clone);
            }
            return new SourceMirror(clone, url, new FileRepositoryBuilder().setGitDir(clone.resolve(".git").toFile()).build());
        } catch (GitAPIException e) {
            throw KilnException.environment("cannot clone the packaging repository " + url.orElse("") + " (" + e.getMessage()
                    + "): check service.repository in kiln.yaml and that this machine may read it");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The folder builds read the definitions from ({@link DefinitionRepository#open}). */
    public Path root() {
        return root;
    }

    /** Where the definitions come from, as a build's provenance names it: see {@link #provenanceUri(Optional, Path)}. */
    public String provenanceUri() {
        return provenanceUri(url, root);
    }

    private static final java.util.regex.Pattern SCHEME = java.util.regex.Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://.*");
    private static final java.util.regex.Pattern SCP = java.util.regex.Pattern.compile("([^/@:]+@)?([^/:]+):(.+)");

    /**
     * The SPDX/SLSA form of a Git location: {@code git+https://host/repo.git} for a URL (without any
     * user or password in it: provenance is public), {@code git+ssh://git@host/repo.git} for scp-like
     * {@code git@host:repo.git}, {@code git+file:///path} for a local path, or for {@code root} when
     * there is no URL (the service builds the project's own repository).
     */
    public static String provenanceUri(Optional<String> url, Path root) {
        if (url.isEmpty()) {
            return fileUri(root);
        }
        String u = url.get().strip();
        if (SCHEME.matcher(u).matches()) {
            java.net.URI parsed = java.net.URI.create(u);
            if (parsed.getScheme().equalsIgnoreCase("file")) {
                return fileUri(Path.of(parsed));
            }
            String user = parsed.getRawUserInfo();
            // ssh's user (git@) is no secret and part of the address; anything else before @ may be a token
            String keep = user != null && parsed.getScheme().equalsIgnoreCase("ssh") && !user.contains(":") ? user + "@" : "";
            return "git+" + parsed.getScheme() + "://" + keep + parsed.getRawAuthority().substring(user == null ? 0 : user.length() + 1)
                    + (parsed.getRawPath() == null ? "" : parsed.getRawPath());
        }
        java.util.regex.Matcher scp = SCP.matcher(u);
        if (scp.matches() && !u.startsWith("/") && !u.startsWith(".")) {
            return "git+ssh://" + (scp.group(1) == null ? "" : scp.group(1)) + scp.group(2) + "/" + scp.group(3);
        }
        return fileUri(Path.of(u));
    }

    private static String fileUri(Path path) {
        return "git+" + path.toAbsolutePath().normalize().toUri().toString().replaceFirst("^file:/+", "file:///");
    }

    /**
     * The commit {@code ref} names now: a branch, a tag or a commit id, fetched first from the URL.
     *
     * @throws KilnException BAD_INPUT naming the ref when it is not there (not pushed yet)
     */
    public synchronized String resolve(String ref) {
        if (ref == null || ref.isBlank() || ref.startsWith("-") || ref.contains("..")) {
            throw KilnException.badInput("ref '" + ref + "' is not a branch, tag or commit");
        }
        fetch();
        try (RevWalk walk = new RevWalk(repository)) {
            for (String candidate : url.isPresent()
                    ? List.of("refs/remotes/origin/" + ref, "refs/tags/" + ref, ref)
                    : List.of("refs/heads/" + ref, "refs/tags/" + ref, ref)) {
                ObjectId id = repository.resolve(candidate + "^{commit}");
                if (id != null) {
                    RevCommit commit = walk.parseCommit(id);
                    return commit.getName();
                }
            }
        } catch (org.eclipse.jgit.errors.MissingObjectException | org.eclipse.jgit.errors.RevisionSyntaxException e) {
            // not there: reported below
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw KilnException.badInput("ref '" + ref + "' is not on " + url.orElse("the service's repository")
                + ": push it first (git push origin HEAD), or name a branch, tag or commit that is there");
    }

    /**
     * A work tree of {@code commit} in {@code dir} (replaced when it exists), committing as
     * {@code author}, for work that edits and commits (a bump). Closing deletes it.
     */
    public Worktree worktree(String commit, Path dir, String authorName, String authorEmail) {
        try {
            if (Files.exists(dir)) {
                org.apache.commons.io.file.PathUtils.deleteDirectory(dir);
            }
            Git git = Git.init().setDirectory(dir.toFile()).setInitialBranch("kiln-work").call();
            try {
                // every ref of the source, remote-tracking ones too: the commit may be on a fetched branch only
                git.fetch().setRemote(root.toUri().toString()).setRefSpecs(new RefSpec("+refs/*:refs/source/*")).call();
                git.checkout().setName(commit).call();
                var config = git.getRepository().getConfig();
                config.setString("user", null, "name", authorName);
                config.setString("user", null, "email", authorEmail);
                config.save();
            } catch (GitAPIException | IOException | RuntimeException e) {
                git.close();
                throw e;
            }
            return new Worktree(git, dir);
        } catch (GitAPIException e) {
            throw new IllegalStateException("cannot make a work tree of " + commit + " in " + dir, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A work tree of a commit; {@link #push} sends a branch made there to the packaging repository. */
    public final class Worktree implements AutoCloseable {
        private final Git git;
        private final Path dir;

        private Worktree(Git git, Path dir) {
            this.git = git;
            this.dir = dir;
        }

        public Path root() {
            return dir;
        }

        /**
         * Pushes {@code branch} to the packaging repository (the URL, or the project's own repository),
         * never over an existing branch.
         *
         * @throws KilnException BAD_INPUT when the branch exists there already
         */
        public void push(String branch) {
            String to = url.orElse(root.toUri().toString());
            try {
                for (var result : git.push().setRemote(to).setRefSpecs(new RefSpec("refs/heads/" + branch + ":refs/heads/" + branch))
                        .call()) {
                    for (var update : result.getRemoteUpdates()) {
                        switch (update.getStatus()) {
                            case OK, UP_TO_DATE -> { }
                            case REJECTED_NONFASTFORWARD, REJECTED_REMOTE_CHANGED -> throw KilnException.badInput("branch " + branch
                                    + " already exists on " + to + ": delete it there, or bump to another version");
                            default -> throw KilnException.environment("cannot push branch " + branch + " to " + to + " ("
                                    + update.getStatus() + (update.getMessage() == null ? "" : ": " + update.getMessage())
                                    + "): check that this machine may push there");
                        }
                    }
                }
            } catch (GitAPIException e) {
                throw KilnException.environment("cannot push branch " + branch + " to " + to + " (" + e.getMessage()
                        + "): check that this machine may push there");
            }
        }

        @Override
        public void close() {
            git.close();
            try {
                org.apache.commons.io.file.PathUtils.deleteDirectory(dir);
            } catch (IOException e) {
                // a work tree left behind is replaced the next time
            }
        }
    }

    /** The commit the repository's HEAD names now (fetched first), or empty when it has none yet. */
    public synchronized Optional<String> head() {
        fetch();
        try {
            ObjectId id = repository.resolve((url.isPresent() ? "refs/remotes/origin/HEAD" : "HEAD") + "^{commit}");
            if (id == null && url.isPresent()) {
                id = repository.resolve("HEAD^{commit}");
            }
            return Optional.ofNullable(id).map(ObjectId::getName);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void fetch() {
        if (url.isEmpty()) {
            return;
        }
        try (Git git = new Git(repository)) {
            git.fetch().setRemote("origin").setRemoveDeletedRefs(true)
                    .setRefSpecs(new RefSpec("+refs/heads/*:refs/remotes/origin/*"), new RefSpec("+refs/tags/*:refs/tags/*")).call();
        } catch (GitAPIException e) {
            throw KilnException.environment("cannot fetch the packaging repository " + url.get() + " (" + e.getMessage()
                    + "): check that it answers and that this machine may read it");
        }
    }

    @Override
    public void close() {
        repository.close();
    }
}
