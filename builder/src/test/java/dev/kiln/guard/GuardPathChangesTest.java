package dev.kiln.guard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.RpmFile;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pairing removed and added paths into moves, on header entries written by hand. */
class GuardPathChangesTest {

    private static List<RpmFile.Entry> files(String... paths) {
        return Arrays.stream(paths).map(p -> new RpmFile.Entry(p, "root", "root", 0100644)).toList();
    }

    @Test
    void pairsEachFileWithTheCandidateSharingTheLongestPathSuffix() {
        PathChanges changes = PathChanges.between(
                files("/opt/maven/bin/mvn", "/opt/maven/lib/x.jar", "/opt/maven/boot/x.jar"),
                files("/opt/apache-maven-3.9.9/boot/x.jar", "/opt/apache-maven-3.9.9/bin/mvn", "/opt/apache-maven-3.9.9/lib/x.jar"));

        assertThat(changes.moved()).containsExactly(
                new PathMove("/opt/maven/bin/mvn", "/opt/apache-maven-3.9.9/bin/mvn"),
                new PathMove("/opt/maven/boot/x.jar", "/opt/apache-maven-3.9.9/boot/x.jar"),
                new PathMove("/opt/maven/lib/x.jar", "/opt/apache-maven-3.9.9/lib/x.jar"));
        assertThat(changes.folderMoves()).containsExactly(new FolderMove("/opt/maven", "/opt/apache-maven-3.9.9", 3));
        assertThat(changes.blocks()).isTrue();
    }

    @Test
    void pairsManyFilesOfTheSameNameEachWithItsOwnFolder() {
        List<RpmFile.Entry> before = new java.util.ArrayList<>();
        List<RpmFile.Entry> after = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            before.add(new RpmFile.Entry("/opt/m/mod" + i + "/pom.xml", "root", "root", 0100644));
            after.add(new RpmFile.Entry("/opt/m2/mod" + (299 - i) + "/pom.xml", "root", "root", 0100644));
        }

        PathChanges changes = PathChanges.between(before, after);

        assertThat(changes.moved()).hasSize(300)
                .allSatisfy(m -> assertThat(m.to()).isEqualTo(m.from().replace("/opt/m/", "/opt/m2/")));
        assertThat(changes.folderMoves()).containsExactly(new FolderMove("/opt/m", "/opt/m2", 300));
    }

    @Test
    void leavesFilesWithNewNamesAsRemovedAndAdded() {
        PathChanges changes = PathChanges.between(files("/usr/bin/tool", "/usr/lib/tool.jar"),
                files("/usr/bin/tool", "/usr/lib/toolkit.jar"));

        assertThat(changes.moved()).isEmpty();
        assertThat(changes.removed()).containsExactly("/usr/lib/tool.jar");
        assertThat(changes.added()).containsExactly("/usr/lib/toolkit.jar");
        assertThat(changes.blocks()).isTrue();
    }

    @Test
    void treatsANewerVersionOfAFileInTheSameFolderAsAnUpdateThatDoesNotBlock() {
        PathChanges changes = PathChanges.between(
                files("/opt/maven/lib/guava-33.2.1-jre.jar", "/opt/maven/lib/guice-5.1.0.jar", "/opt/maven/boot/plexus-classworlds-2.8.0.jar"),
                files("/opt/maven/lib/guava-33.4.8-jre.jar", "/opt/maven/lib/guice-5.1.0-classes.jar", "/opt/maven/boot/plexus-classworlds-2.9.0.jar",
                        "/opt/maven/lib/asm-9.8.jar"));

        assertThat(changes.updated()).containsExactly(
                new PathMove("/opt/maven/boot/plexus-classworlds-2.8.0.jar", "/opt/maven/boot/plexus-classworlds-2.9.0.jar"),
                new PathMove("/opt/maven/lib/guava-33.2.1-jre.jar", "/opt/maven/lib/guava-33.4.8-jre.jar"),
                new PathMove("/opt/maven/lib/guice-5.1.0.jar", "/opt/maven/lib/guice-5.1.0-classes.jar"));
        assertThat(changes.removed()).isEmpty();
        assertThat(changes.added()).containsExactly("/opt/maven/lib/asm-9.8.jar");
        assertThat(changes.blocks()).isFalse();
    }

    @Test
    void aVersionedFileThatLeftItsFolderStillBlocks() {
        PathChanges changes = PathChanges.between(files("/opt/tool/lib/tool-1.0.jar"), files("/opt/tool-2.0/lib/tool-2.0.jar"));

        assertThat(changes.updated()).isEmpty();
        assertThat(changes.blocks()).isTrue();
    }

    @Test
    void reportsASingleMovedFileWithoutAFolderMove() {
        PathChanges changes = PathChanges.between(files("/opt/tool/conf/x.conf"), files("/etc/tool/x.conf"));

        assertThat(changes.moved()).containsExactly(new PathMove("/opt/tool/conf/x.conf", "/etc/tool/x.conf"));
        assertThat(changes.folderMoves()).isEmpty();
    }

    @Test
    void pairsTheRenamedFolderItselfThroughTheMoveOfItsContents() {
        List<RpmFile.Entry> before = List.of(new RpmFile.Entry("/opt/tool", "root", "root", 040755),
                new RpmFile.Entry("/opt/tool/a", "root", "root", 0100644), new RpmFile.Entry("/opt/tool/b", "root", "root", 0100644));
        List<RpmFile.Entry> after = List.of(new RpmFile.Entry("/opt/tool-2", "root", "root", 040755),
                new RpmFile.Entry("/opt/tool-2/a", "root", "root", 0100644), new RpmFile.Entry("/opt/tool-2/b", "root", "root", 0100644));

        PathChanges changes = PathChanges.between(before, after);

        assertThat(changes.moved()).contains(new PathMove("/opt/tool", "/opt/tool-2"));
        assertThat(changes.folderMoves()).containsExactly(new FolderMove("/opt/tool", "/opt/tool-2", 3));
        assertThat(changes.removed()).isEmpty();
        assertThat(changes.added()).isEmpty();
    }

    @Test
    void reportsChangedSymlinkTargetsAndConfigMarkingAsAttributes() {
        List<RpmFile.Entry> before = List.of(new RpmFile.Entry("/usr/bin/t", "root", "root", 0120777, "../lib/t-1", 0, ""),
                new RpmFile.Entry("/etc/t.conf", "root", "root", 0100644, "", 1, "aa"));
        List<RpmFile.Entry> after = List.of(new RpmFile.Entry("/usr/bin/t", "root", "root", 0120777, "../lib/t-2", 0, ""),
                new RpmFile.Entry("/etc/t.conf", "root", "root", 0100644, "", 0, "bb"));

        PathChanges changes = PathChanges.between(before, after);

        assertThat(changes.attributes()).containsExactly(
                new AttributeChange("/etc/t.conf", "0644 root:root %config", "0644 root:root"),
                new AttributeChange("/usr/bin/t", "symlink 0777 root:root -> ../lib/t-1", "symlink 0777 root:root -> ../lib/t-2"));
        assertThat(changes.blocks()).isFalse();
    }
}
