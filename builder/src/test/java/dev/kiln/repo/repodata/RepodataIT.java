package dev.kiln.repo.repodata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.rpm.TestRpms;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Kiln's repodata against createrepo_c's for the same RPMs: every package element of primary,
 * filelists and other must be the same (attributes, text, order of children), and real dnf must
 * answer the same queries from both repositories.
 */
class RepodataIT {

    @TempDir
    static Path work;
    static Path repo;
    static List<Path> rpms;

    /** A spec that exercises what the documents carry: every dependency kind, ghosts, dirs, config, bin files, many changelogs. */
    private static final String RICH = """
            Name: rich
            Epoch: 3
            Version: 2.5
            Release: 7
            Summary: A package with <everything> & more
            License: MIT and "ASL 2.0"
            URL: https://example.com/rich?a=1&b=2
            Vendor: Example Corp
            Packager: Release Team <release@example.com>
            Group: Development/Tools
            BuildArch: noarch
            Provides: rich-api = 2.5
            Provides: /usr/bin/rich-alias
            Requires: bash >= 4.0
            Requires: /usr/bin/rich
            Requires: /etc/rich/rich.conf
            Requires: rich-api = 2.5
            Requires: coreutils
            Requires: coreutils
            Requires(pre): shadow-utils
            Requires(post): systemd > 1:200-3
            Requires(posttrans): grep
            Conflicts: poor < 1.0
            Obsoletes: rich-old <= 2.0-1
            Recommends: rich-docs
            Suggests: rich-extras >= 1
            Supplements: (rich-core and python3)
            Enhances: emacs
            %%description
            Line one of the description.
            Line two with <tags> & "quotes".
            %%package docs
            Summary: Docs for rich
            Requires: %%{name} = %%{epoch}:%%{version}-%%{release}
            %%description docs
            Documentation.
            %%install
            mkdir -p %%{buildroot}/usr/bin %%{buildroot}/etc/rich %%{buildroot}/usr/share/rich/sub %%{buildroot}/var/log/rich %%{buildroot}/usr/share/doc/rich
            echo '#!/bin/sh' > %%{buildroot}/usr/bin/rich
            chmod 755 %%{buildroot}/usr/bin/rich
            ln -s rich %%{buildroot}/usr/bin/rich-link
            echo conf > %%{buildroot}/etc/rich/rich.conf
            echo data > %%{buildroot}/usr/share/rich/sub/data.txt
            echo doc > %%{buildroot}/usr/share/doc/rich/README
            %%pre
            true
            %%post
            true
            %%files
            /usr/bin/rich
            /usr/bin/rich-link
            %%dir /etc/rich
            %%config(noreplace) /etc/rich/rich.conf
            /usr/share/rich
            %%dir /var/log/rich
            %%ghost /var/log/rich/rich.log
            %%ghost /etc/rich/generated.conf
            %%files docs
            %%doc /usr/share/doc/rich/README
            %%changelog
            %s
            """;

    @BeforeAll
    static void buildRpms() throws IOException {
        StringBuilder changelog = new StringBuilder();
        // 12 entries (more than the limit of 10), three pairs on the same day to exercise the date rule.
        String[] days = {"Mon Jan 06 2025", "Mon Jan 06 2025", "Fri Jan 03 2025", "Thu Jan 02 2025", "Thu Jan 02 2025",
            "Thu Jan 02 2025", "Wed Jan 01 2025", "Tue Dec 31 2024", "Mon Dec 30 2024", "Sun Dec 29 2024",
            "Sat Dec 28 2024", "Fri Dec 27 2024"};
        for (int i = 0; i < days.length; i++) {
            changelog.append("* ").append(days[i]).append(" Dev ").append(i).append(" <dev").append(i)
                    .append("@example.com> - 2.5-").append(12 - i).append("\n- Change ").append(i).append(" with <xml> & stuff\n\n");
        }
        repo = work.resolve("repo");
        Path packages = Files.createDirectories(repo.resolve("Packages"));
        rpms = new ArrayList<>();
        for (Path rpm : TestRpms.binaries(work, RICH.formatted(changelog))) {
            rpms.add(Files.move(rpm, packages.resolve(rpm.getFileName())));
        }
        for (String name : List.of("alpha", "beta")) {
            Path rpm = TestRpms.binary(work, name, "1.0", "w19.zstdio");
            rpms.add(Files.move(rpm, packages.resolve(rpm.getFileName())));
        }
    }

    @Test
    void listsWhatCreaterepoListsForTheSameRpms() throws Exception {
        Path reference = createrepo(rpms);
        Path kiln = Files.createDirectories(work.resolve("kiln-all"));
        List<PackageMetadata> all = Repodata.read(rpms, rpm -> "Packages/" + rpm.getFileName());
        Repodata.Written written = Repodata.write(null, null, all, kiln, Instant.now());

        for (String type : List.of("primary", "filelists", "other")) {
            assertThat(packages(kiln, written.repomd(), type))
                    .as(type + ".xml from Kiln against createrepo_c")
                    .isEqualTo(packages(reference.resolve("repodata"), Files.readAllBytes(reference.resolve("repodata/repomd.xml")), type));
        }
        assertThat(Repodata.listed(kiln, written.repomd())).extracting(Repodata.Listed::nevra)
                .containsExactly("rich-3:2.5-7.noarch", "rich-docs-3:2.5-7.noarch", "alpha-1.0-1.noarch", "beta-1.0-1.noarch");
    }

    @Test
    void addingPackagesToAnEarlierSetListsTheSameAsIndexingAllAtOnce() throws Exception {
        Path first = Files.createDirectories(work.resolve("kiln-first"));
        Repodata.Written one = Repodata.write(null, null,
                Repodata.read(rpms.subList(0, 2), rpm -> "Packages/" + rpm.getFileName()), first, Instant.now());
        Files.write(first.resolve(Repodata.REPOMD), one.repomd());
        Path second = Files.createDirectories(work.resolve("kiln-second"));
        Repodata.Written two = Repodata.write(first, one.repomd(),
                Repodata.read(rpms.subList(2, 4), rpm -> "Packages/" + rpm.getFileName()), second, Instant.now());

        Path reference = createrepo(rpms);
        for (String type : List.of("primary", "filelists", "other")) {
            assertThat(packages(second.resolve("../kiln-first"), one.repomd(), type)).hasSize(2);
            assertThat(packages(second, two.repomd(), type))
                    .isEqualTo(packages(reference.resolve("repodata"), Files.readAllBytes(reference.resolve("repodata/repomd.xml")), type));
        }
        // the earlier packages' bytes were copied, not compressed again: the new file holds the old members unchanged
        Path oldPrimary = Repodata.document(first, one.repomd(), MetadataDocument.PRIMARY).orElseThrow();
        Path newPrimary = Repodata.document(second, two.repomd(), MetadataDocument.PRIMARY).orElseThrow();
        byte[] oldBytes = Files.readAllBytes(oldPrimary);
        long oldHeader = MetadataDocument.firstMemberEnd(oldPrimary);
        long newHeader = MetadataDocument.firstMemberEnd(newPrimary);
        byte[] oldMembers = java.util.Arrays.copyOfRange(oldBytes, (int) oldHeader, oldBytes.length - MetadataDocument.PRIMARY.footerLength());
        byte[] newBytes = Files.readAllBytes(newPrimary);
        assertThat(java.util.Arrays.copyOfRange(newBytes, (int) newHeader, (int) newHeader + oldMembers.length)).isEqualTo(oldMembers);
        assertThat(new String(MetadataDocument.gunzip(newPrimary), java.nio.charset.StandardCharsets.UTF_8)).contains("packages=\"4\"");
    }

    @Test
    void removingPackagesListsWhatCreaterepoListsForTheRestAndCopiesUntouchedMembers() throws Exception {
        // three sets, so three package members: [rich, rich-docs], [alpha], [beta]
        Path first = Files.createDirectories(work.resolve("prune-1"));
        Repodata.Written one = Repodata.write(null, null, Repodata.read(rpms.subList(0, 2), rpm -> "Packages/" + rpm.getFileName()),
                first, Instant.now());
        Path second = Files.createDirectories(work.resolve("prune-2"));
        Repodata.Written two = Repodata.write(first, one.repomd(), Repodata.read(rpms.subList(2, 3), rpm -> "Packages/" + rpm.getFileName()),
                second, Instant.now());
        Path third = Files.createDirectories(work.resolve("prune-3"));
        Repodata.Written three = Repodata.write(second, two.repomd(), Repodata.read(rpms.subList(3, 4), rpm -> "Packages/" + rpm.getFileName()),
                third, Instant.now());
        Map<String, String> pkgids = new TreeMap<>();
        Repodata.listed(third, three.repomd()).forEach(l -> pkgids.put(l.nevra(), l.pkgid()));

        // rich-docs shares a member with a kept package, beta has one of its own
        Path pruned = Files.createDirectories(work.resolve("prune-dnf/repodata"));
        Repodata.Written without = Repodata.write(third, three.repomd(),
                java.util.Set.of(pkgids.get("rich-docs-3:2.5-7.noarch"), pkgids.get("beta-1.0-1.noarch")), List.of(), pruned, Instant.now());
        Files.write(pruned.resolve(Repodata.REPOMD), without.repomd());

        List<Path> rest = List.of(rpms.get(0), rpms.get(2));
        assertThat(rest).extracting(p -> p.getFileName().toString()).containsExactly("rich-2.5-7.noarch.rpm", "alpha-1.0-1.noarch.rpm");
        Path reference = createrepo(rest);
        for (String type : List.of("primary", "filelists", "other")) {
            assertThat(packages(pruned, without.repomd(), type)).as(type + ".xml after the removal against createrepo_c over the rest")
                    .isEqualTo(packages(reference.resolve("repodata"), Files.readAllBytes(reference.resolve("repodata/repomd.xml")), type));
        }
        assertThat(Repodata.listed(pruned, without.repomd())).extracting(Repodata.Listed::nevra)
                .containsExactly("rich-3:2.5-7.noarch", "alpha-1.0-1.noarch");
        // alpha's member, which held nothing removed, is there byte for byte
        for (MetadataDocument d : MetadataDocument.values()) {
            Path before = Repodata.document(second, two.repomd(), d).orElseThrow();
            Path onlyAlpha = Repodata.document(first, one.repomd(), d).orElseThrow();
            byte[] b = Files.readAllBytes(before);
            int alphaStart = (int) (Files.size(onlyAlpha) - d.footerLength());
            byte[] alphaMember = java.util.Arrays.copyOfRange(b, alphaStart, b.length - d.footerLength());
            byte[] after = Files.readAllBytes(Repodata.document(pruned, without.repomd(), d).orElseThrow());
            assertThat(java.util.Collections.indexOfSubList(toList(after), toList(alphaMember))).as(d.type()).isPositive();
        }

        Files.createSymbolicLink(pruned.getParent().resolve("Packages"), repo.resolve("Packages"));
        assertThat(repoquery(work.resolve("root-pruned"), pruned.getParent(), List.of("--qf", "%{name}-%{evr}")))
                .isEqualTo("alpha-1.0-1\nrich-3:2.5-7\n");
    }

    private static List<Byte> toList(byte[] bytes) {
        List<Byte> list = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            list.add(b);
        }
        return list;
    }

    @Test
    void dnfAnswersTheSameFromKilnsRepodataAsFromCreaterepos() throws Exception {
        Path reference = createrepo(rpms);
        Path kilnRepo = Files.createDirectories(work.resolve("dnf-kiln"));
        Files.createSymbolicLink(kilnRepo.resolve("Packages"), repo.resolve("Packages"));
        Path repodata = Files.createDirectories(kilnRepo.resolve("repodata"));
        Repodata.Written written = Repodata.write(null, null, Repodata.read(rpms, rpm -> "Packages/" + rpm.getFileName()),
                repodata, Instant.now());
        Files.write(repodata.resolve(Repodata.REPOMD), written.repomd());

        for (List<String> query : List.of(
                List.of("--qf", "%{name} %{epoch} %{version} %{release} %{arch} %{summary} %{url} %{license} %{sourcerpm} %{size}"),
                List.of("--list"),
                List.of("--changelog"),
                List.of("--requires"), List.of("--requires-pre"), List.of("--provides"), List.of("--conflicts"),
                List.of("--obsoletes"), List.of("--recommends"), List.of("--suggests"), List.of("--supplements"),
                List.of("--enhances"),
                List.of("--whatprovides", "/var/log/rich/rich.log"))) {
            String fromKiln = repoquery(work.resolve("root-kiln-" + query.hashCode()), kilnRepo, query);
            String fromCreaterepo = repoquery(work.resolve("root-ref-" + query.hashCode()), reference, query);
            assertThat(fromKiln).as("dnf repoquery " + query).isEqualTo(fromCreaterepo).isNotBlank();
        }
    }

    private static String repoquery(Path root, Path repository, List<String> query) throws IOException {
        List<String> command = new ArrayList<>(List.of("dnf", "-q", "--installroot", root.toString(),
                "--setopt=reposdir=/dev/null", "--setopt=cachedir=" + root.resolve("cache"), "--releasever=12",
                "--repofrompath=r," + repository.toUri(), "--repo=r", "--setopt=r.gpgcheck=0", "repoquery"));
        command.addAll(query);
        command.add("*");
        TestRpms.Run run = TestRpms.run(command);
        assertThat(run.exitCode()).as(run.output()).isZero();
        return run.output().lines().sorted().reduce("", (a, b) -> a + b + "\n");
    }

    private static Path createrepo(List<Path> rpms) throws IOException {
        Path dir = Files.createTempDirectory(work, "createrepo-");
        Path packages = Files.createDirectories(dir.resolve("Packages"));
        for (Path rpm : rpms) {
            Files.createLink(packages.resolve(rpm.getFileName()), rpm); // same file, same mtime
        }
        TestRpms.Run run = TestRpms.run("createrepo_c", "--no-database", dir.toString());
        assertThat(run.exitCode()).as(run.output()).isZero();
        return dir;
    }

    /** The package elements of one document, canonical and keyed by pkgid. */
    private static Map<String, String> packages(Path folder, byte[] repomd, String type) throws Exception {
        String href = null;
        var m = java.util.regex.Pattern.compile("<data type=\"" + type + "\">.*?<location href=\"([^\"]+)\"", java.util.regex.Pattern.DOTALL)
                .matcher(new String(repomd, java.nio.charset.StandardCharsets.UTF_8));
        if (m.find()) {
            href = m.group(1);
        }
        assertThat(href).as("repomd.xml names " + type).isNotNull();
        byte[] xml = MetadataDocument.gunzip(folder.resolve(Repodata.fileName(href)));
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Element root = factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml)).getDocumentElement();
        Map<String, String> result = new TreeMap<>();
        NodeList children = root.getChildNodes();
        int count = 0;
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element e) {
                count++;
                String id = e.hasAttribute("pkgid") ? e.getAttribute("pkgid")
                        : ((Element) e.getElementsByTagNameNS("*", "checksum").item(0)).getTextContent();
                result.put(id, canonical(e, ""));
            }
        }
        assertThat(root.getAttribute("packages")).isEqualTo(Integer.toString(count));
        return result;
    }

    private static String canonical(Element e, String indent) {
        StringBuilder sb = new StringBuilder(indent).append(e.getLocalName());
        var attrs = e.getAttributes();
        Map<String, String> sorted = new TreeMap<>();
        for (int i = 0; i < attrs.getLength(); i++) {
            if (!attrs.item(i).getNodeName().startsWith("xmlns")) {
                sorted.put(attrs.item(i).getNodeName(), attrs.item(i).getNodeValue());
            }
        }
        sb.append(sorted);
        StringBuilder text = new StringBuilder();
        List<String> kids = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element child) {
                kids.add(canonical(child, indent + "  "));
            } else if (n.getNodeType() == Node.TEXT_NODE || n.getNodeType() == Node.CDATA_SECTION_NODE) {
                text.append(n.getNodeValue());
            }
        }
        if (kids.isEmpty()) {
            sb.append(" '").append(text).append("'");
        }
        sb.append('\n');
        kids.forEach(sb::append);
        return sb.toString();
    }
}
