package dev.kiln.git;

import dev.kiln.KilnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.StatusCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.PathFilter;

/**
 * The Git repository that holds specs, patches and builders. Reads a folder's files either from
 * the working tree or from the committed tree of a revision, without checking anything out.
 */
public final class DefinitionRepository implements AutoCloseable {

    private final Path root;
    private final Repository repository;

    private DefinitionRepository(Path root, Repository repository) {
        this.root = root;
        this.repository = repository;
    }

    static {
        // JGit would run `git --version` and `git config --system --show-origin` to find the system
        // config: two processes on every command. Git's own default location (or GIT_CONFIG_SYSTEM) is it.
        String system = System.getenv("GIT_CONFIG_SYSTEM");
        org.eclipse.jgit.util.FS.DETECTED.setGitSystemConfig(new java.io.File(system == null || system.isBlank()
                ? "/etc/gitconfig" : system));
    }

    /** Opens the repository at {@code root}; a folder that is not a Git work tree is read as plain files. */
    public static DefinitionRepository open(Path root) {
        try {
            FileRepositoryBuilder builder = new FileRepositoryBuilder().setMustExist(false).findGitDir(root.toFile());
            Repository repo = builder.getGitDir() == null ? null : builder.build();
            if (repo != null && !repo.getWorkTree().toPath().toRealPath().equals(root.toRealPath())) {
                // only a repository whose work tree is the project root describes these definitions
                repo.close();
                repo = null;
            }
            return new DefinitionRepository(root, repo);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Which content to read: {@code null} for the working tree, else a revision ({@code HEAD},
     * a branch, tag or commit id).
     */
    public Snapshot snapshot(String rev, List<String> paths) {
        if (rev == null) {
            if (repository == null) {
                return new Snapshot(null, null, true, 0);
            }
            ObjectId head = resolve(Constants.HEAD);
            return new Snapshot(null, head == null ? null : head.name(), head == null || isDirty(paths), commitTime(head));
        }
        if (repository == null) {
            throw KilnException.badInput("--rev " + rev + " needs a Git repository, but " + root + " is not one");
        }
        ObjectId commit = resolve(rev);
        if (commit == null) {
            throw KilnException.badInput("unknown revision '" + rev + "': name a branch, tag or commit of " + root);
        }
        return new Snapshot(rev, commit.name(), false, commitTime(commit));
    }

    private long commitTime(ObjectId commit) {
        if (commit == null) {
            return 0;
        }
        try (RevWalk walk = new RevWalk(repository)) {
            return walk.parseCommit(commit).getCommitTime();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ObjectId resolve(String rev) {
        try {
            return repository.resolve(rev + "^{commit}");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private boolean isDirty(List<String> paths) {
        try (Git git = new Git(repository)) {
            StatusCommand status = git.status();
            paths.forEach(status::addPath);
            return !status.call().isClean();
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The files below {@code dir} (relative to the root), keyed by their path relative to
     * {@code dir}; empty when the folder does not exist in that snapshot.
     *
     * <p>Only regular files inside the folder are definitions. A symbolic link (in the working
     * tree, or a symlink entry committed to Git), a submodule, a device or a pipe anywhere in the
     * folder, or on the way to it ({@code specs} itself being a link), is refused as bad input
     * before anything is read: a branch could otherwise make a build read host files such as
     * {@code /etc/shadow} or the signing key into its log and source RPM.
     */
    public Map<String, byte[]> files(Snapshot snapshot, String dir) {
        if (dir.isEmpty() || dir.startsWith("/") || List.of(dir.split("/")).stream().anyMatch(p -> p.isEmpty() || p.equals(".")
                || p.equals(".."))) {
            throw new IllegalArgumentException("not a relative folder path: " + dir);
        }
        try {
            return snapshot.rev() == null ? workingTreeFiles(dir) : committedFiles(snapshot, dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Map<String, byte[]> workingTreeFiles(String dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        Path base = root.toRealPath();
        String onTheWay = "";
        for (String part : dir.split("/")) {
            base = base.resolve(part);
            onTheWay = onTheWay.isEmpty() ? part : onTheWay + "/" + part;
            if (Files.isSymbolicLink(base)) {
                throw notARegularFile(onTheWay, "a symbolic link");
            }
            if (!Files.exists(base, LinkOption.NOFOLLOW_LINKS)) {
                return files;
            }
        }
        if (!Files.isDirectory(base, LinkOption.NOFOLLOW_LINKS)) {
            return files;
        }
        Path folder = base;
        List<Path> regular = new java.util.ArrayList<>();
        // Files.walk does not follow links unless asked; each entry's own type is checked without following it.
        try (var walk = Files.walk(folder)) {
            for (Path p : walk.sorted().toList()) {
                var attributes = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                String relative = dir + "/" + folder.relativize(p);
                if (attributes.isSymbolicLink()) {
                    throw notARegularFile(relative, "a symbolic link");
                }
                if (attributes.isRegularFile()) {
                    regular.add(p);
                } else if (!attributes.isDirectory()) {
                    throw notARegularFile(relative, "not a regular file");
                }
            }
        }
        for (Path p : regular) {
            // O_NOFOLLOW: a file swapped for a link since the walk is refused by the kernel, not read
            try (var in = Files.newInputStream(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                files.put(folder.relativize(p).toString(), in.readAllBytes());
            } catch (java.nio.file.FileSystemException e) {
                throw notARegularFile(dir + "/" + folder.relativize(p), "no longer a regular file");
            }
        }
        return files;
    }

    private Map<String, byte[]> committedFiles(Snapshot snapshot, String dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (RevWalk walk = new RevWalk(repository)) {
            RevCommit commit = walk.parseCommit(ObjectId.fromString(snapshot.commit()));
            // Each folder on the way must be a tree: a symlink entry for specs or specs/<pkg> is refused, not skipped.
            String prefix = "";
            for (String part : dir.split("/")) {
                prefix = prefix.isEmpty() ? part : prefix + "/" + part;
                try (TreeWalk entry = TreeWalk.forPath(repository, prefix, commit.getTree())) {
                    if (entry == null) {
                        return files;
                    }
                    FileMode mode = entry.getFileMode(0);
                    if (mode == FileMode.SYMLINK) {
                        throw notARegularFile(prefix, "a symbolic link (committed at " + snapshot.rev() + ")");
                    }
                    if (mode != FileMode.TREE) {
                        return files;
                    }
                }
            }
            try (TreeWalk tree = new TreeWalk(repository)) {
                tree.addTree(commit.getTree());
                tree.setRecursive(true);
                tree.setFilter(PathFilter.create(dir));
                while (tree.next()) {
                    String path = tree.getPathString();
                    if (!path.startsWith(dir + "/")) {
                        continue;
                    }
                    FileMode mode = tree.getFileMode(0);
                    if (mode == FileMode.SYMLINK) {
                        throw notARegularFile(path, "a symbolic link (committed at " + snapshot.rev() + ")");
                    }
                    if (mode == FileMode.GITLINK) {
                        throw notARegularFile(path, "a submodule (committed at " + snapshot.rev() + ")");
                    }
                    if (mode != FileMode.REGULAR_FILE && mode != FileMode.EXECUTABLE_FILE) {
                        throw notARegularFile(path, "not a regular file (committed at " + snapshot.rev() + ")");
                    }
                    files.put(path.substring(dir.length() + 1), repository.open(tree.getObjectId(0)).getBytes());
                }
            }
        }
        return files;
    }

    private static KilnException notARegularFile(String path, String what) {
        return KilnException.badInput(path + " is " + what + ": definitions are regular files inside their folder, "
                + "never links or anything else; replace it with the file itself");
    }

    /**
     * The paths under {@code paths} (folders or files, relative to the root) that differ between
     * {@code ref} and the snapshot: against a revision, its committed tree; against the working
     * tree, everything not ignored (committed or not). Only those paths are walked, so the state
     * folder and other large trees beside the definitions cost nothing.
     */
    public java.util.Set<String> changedSince(String ref, Snapshot target, List<String> paths) {
        if (repository == null) {
            throw KilnException.badInput("--changed-since needs a Git repository, but " + root + " is not one");
        }
        ObjectId base = resolve(ref);
        if (base == null) {
            throw KilnException.badInput("--changed-since " + ref + ": no such revision in " + root
                    + " (fetch the full history in CI, e.g. fetch-depth: 0)");
        }
        java.util.Set<String> changed = new java.util.TreeSet<>();
        try (RevWalk walk = new RevWalk(repository); var reader = repository.newObjectReader();
                TreeWalk tree = new TreeWalk(repository)) {
            var oldTree = new org.eclipse.jgit.treewalk.CanonicalTreeParser(null, reader, walk.parseCommit(base).getTree());
            tree.addTree(oldTree);
            if (target.rev() == null) {
                tree.addTree(new org.eclipse.jgit.treewalk.FileTreeIterator(repository));
            } else {
                tree.addTree(walk.parseCommit(ObjectId.fromString(target.commit())).getTree());
            }
            tree.setRecursive(true);
            tree.setFilter(org.eclipse.jgit.treewalk.filter.AndTreeFilter.create(
                    org.eclipse.jgit.treewalk.filter.PathFilterGroup.createFromStrings(paths),
                    org.eclipse.jgit.treewalk.filter.TreeFilter.ANY_DIFF));
            while (tree.next()) {
                if (target.rev() == null) {
                    var work = tree.getTree(1, org.eclipse.jgit.treewalk.WorkingTreeIterator.class);
                    if (work != null && work.isEntryIgnored()) {
                        continue;
                    }
                }
                changed.add(tree.getPathString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return changed;
    }

    /** Refuses to go on when any of {@code paths} has uncommitted changes (naming the first). */
    public void requireClean(List<String> paths) {
        if (repository == null) {
            throw KilnException.badInput(root + " is not a Git repository: run git init and commit the definitions first");
        }
        try (Git git = new Git(repository)) {
            StatusCommand status = git.status();
            paths.forEach(status::addPath);
            org.eclipse.jgit.api.Status result = status.call();
            java.util.Set<String> dirty = new java.util.TreeSet<>(result.getUncommittedChanges());
            dirty.addAll(result.getUntracked());
            if (!dirty.isEmpty()) {
                throw KilnException.badInput(dirty.iterator().next() + " has uncommitted changes: commit or stash "
                        + String.join(" and ", paths) + " first");
            }
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The author for commits Kiln makes: user.name and user.email from the Git configuration. */
    public org.eclipse.jgit.lib.PersonIdent author() {
        org.eclipse.jgit.lib.UserConfig user = repository.getConfig().get(org.eclipse.jgit.lib.UserConfig.KEY);
        if (user.isAuthorNameImplicit() || user.isAuthorEmailImplicit()) {
            throw KilnException.badInput("no Git author configured: run git config user.name 'Your Name' and "
                    + "git config user.email you@example.com");
        }
        return new org.eclipse.jgit.lib.PersonIdent(user.getAuthorName(), user.getAuthorEmail());
    }

    public boolean branchExists(String branch) {
        try {
            return repository.exactRef(Constants.R_HEADS + branch) != null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The branch HEAD is on, or null when HEAD is detached. */
    public String currentBranch() {
        try {
            String full = repository.getFullBranch();
            return full != null && full.startsWith(Constants.R_HEADS) ? full.substring(Constants.R_HEADS.length()) : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Creates {@code branch} at HEAD, switches to it, writes and deletes the given files (paths
     * relative to the root) and commits exactly those paths. Other changes in the working tree
     * are carried over untouched and uncommitted, as with {@code git switch -c}. If anything
     * fails, the files, the branch and HEAD are put back as they were.
     *
     * @return the new commit id
     */
    public String commitOnNewBranch(String branch, Map<String, byte[]> writes, List<String> deletes, String message,
            org.eclipse.jgit.lib.PersonIdent author) {
        String previous = currentBranch();
        Map<String, byte[]> originals = new TreeMap<>();
        try (Git git = new Git(repository)) {
            for (String path : concat(writes.keySet(), deletes)) {
                Path file = root.resolve(path);
                if (Files.exists(file)) {
                    originals.put(path, Files.readAllBytes(file));
                }
            }
            git.checkout().setCreateBranch(true).setName(branch).call();
            try {
                for (Map.Entry<String, byte[]> e : writes.entrySet()) {
                    Path file = root.resolve(e.getKey());
                    Files.createDirectories(file.getParent());
                    Files.write(file, e.getValue());
                    git.add().addFilepattern(e.getKey()).call();
                }
                for (String path : deletes) {
                    git.rm().addFilepattern(path).call();
                }
                var commit = git.commit().setMessage(message).setAuthor(author).setCommitter(author).setSign(false);
                concat(writes.keySet(), deletes).forEach(commit::setOnly);
                return commit.call().name();
            } catch (GitAPIException | IOException | RuntimeException e) {
                restore(git, previous, branch, originals, concat(writes.keySet(), deletes));
                throw e;
            }
        } catch (GitAPIException e) {
            throw KilnException.badInput("cannot commit on branch " + branch + ": " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void restore(Git git, String previous, String branch, Map<String, byte[]> originals, List<String> paths) {
        try {
            git.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.MIXED).call();
            for (String path : paths) {
                Path file = root.resolve(path);
                if (originals.containsKey(path)) {
                    Files.createDirectories(file.getParent());
                    Files.write(file, originals.get(path));
                } else {
                    Files.deleteIfExists(file);
                }
            }
            if (previous != null) {
                git.checkout().setName(previous).call();
            }
            git.branchDelete().setBranchNames(branch).setForce(true).call();
        } catch (GitAPIException | IOException e) {
            throw new IllegalStateException("could not undo the failed commit on " + branch + ": " + e.getMessage(), e);
        }
    }

    private static List<String> concat(java.util.Collection<String> a, List<String> b) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    public Path root() {
        return root;
    }

    @Override
    public void close() {
        if (repository != null) {
            repository.close();
        }
    }

    /**
     * The content a build reads: {@code rev} is null for the working tree; {@code commit} is
     * the commit it was read from (HEAD for the working tree, null outside Git); {@code dirty}
     * tells whether the working tree differs from it in the paths that matter; {@code commitTime}
     * is its commit time in seconds since the epoch (0 outside Git), used as SOURCE_DATE_EPOCH.
     */
    public record Snapshot(String rev, String commit, boolean dirty, long commitTime) {
        /** The working tree, for reading and comparing only: its commit and status are not looked up. */
        public static final Snapshot WORKING_TREE = new Snapshot(null, null, true, 0);
    }
}
