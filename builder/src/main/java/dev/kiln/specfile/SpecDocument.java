package dev.kiln.specfile;

import dev.kiln.KilnException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A spec file kept line by line, exactly as written, with views over it (preamble tags, macro
 * definitions, patches and where they are applied, the changelog) and small named edits that
 * touch only the lines they must. Rendering an unedited document gives back the same bytes:
 * line endings (LF, CRLF, none on the last line), tabs and trailing blanks are kept.
 *
 * <p>Documents are immutable; every edit returns a new document. Edits refuse with a
 * {@link KilnException} naming the file and line when a change cannot be made safely by a tool.
 */
public final class SpecDocument {

    /** One line of text and the line ending that followed it ({@code ""} for a last line without one). */
    record Line(String text, String eol) {
    }

    /** A preamble tag, e.g. {@code Version:}; {@code line} is 1-based; {@code conditional} when inside %if. */
    public record Tag(String name, String value, int line, boolean conditional) {
    }

    /** A {@code %global}/{@code %define}; {@code body} is null when it spans lines or takes arguments. */
    public record MacroDefinition(String name, String body, int line, boolean conditional) {
    }

    /**
     * A {@code PatchN:} tag and how it is applied: {@code appliedOn} lists the lines that name it
     * ({@code %patch}, {@code %patchN}, {@code %{PATCHn}} in a shell command), {@code automatic} is
     * true when {@code %autosetup}/{@code %autopatch} applies it, and {@code strip} is the
     * {@code -pN} used (0 when none is given, as rpm does).
     */
    public record Patch(int number, String value, String fileName, int line, boolean conditional,
            List<Integer> appliedOn, boolean automatic, int strip) {
    }

    /** The {@code %changelog} section: header line (0 when absent) and whether rpmautospec writes it. */
    public record Changelog(int line, boolean automatic) {
    }

    private static final Pattern TAG = Pattern.compile("^\\s*([A-Za-z][A-Za-z0-9]*)(\\([^)]*\\))?\\s*:\\s*");
    private static final Pattern DEFINE = Pattern.compile(
            "^\\s*%(global|define)\\s+([A-Za-z_][A-Za-z0-9_]*)(\\([^)]*\\))?\\s+");
    // rpm matches section names without regard to case: steghide's "%Changelog" is its changelog
    private static final Pattern SECTION = Pattern.compile("(?i)"
            + "^%(description|package|prep|build|install|check|clean|files|changelog|pre|post|preun|postun|pretrans|posttrans"
                    + "|triggerin|triggerun|triggerpostun|triggerprein|verifyscript|filetriggerin|filetriggerun"
                    + "|filetriggerpostun|transfiletriggerin|transfiletriggerun|transfiletriggerpostun|generate_buildrequires"
                    + "|conf|sourcelist|patchlist)(\\s.*)?$");
    private static final Pattern IF = Pattern.compile("^%if(arch|narch|os|nos)?\\b.*");
    private static final Pattern ENDIF = Pattern.compile("^%endif\\b.*");
    private static final Pattern NUMBERED = Pattern.compile("(?i)(source|patch)(\\d*)");
    private static final Pattern VALID_VERSION = Pattern.compile("[A-Za-z0-9._+~^]+");
    private static final DateTimeFormatter CHANGELOG_DATE = DateTimeFormatter.ofPattern("EEE MMM dd yyyy", Locale.ENGLISH);

    /** Where a tag's value sits in its line, so an edit replaces only the value. */
    private record Located(Tag tag, int index, int start, int end) {
    }

    private record Definition(MacroDefinition def, int index, int start, int end) {
    }

    private record Application(int index, PatchCommand command) {
    }

    private final String path;
    private final List<Line> lines;
    private final List<Located> tags = new ArrayList<>();
    private final List<Definition> definitions = new ArrayList<>();
    private final List<Application> applications = new ArrayList<>();
    private final Map<Integer, List<Located>> patchTags = new TreeMap<>();
    private final Map<Integer, Located> sourceTags = new TreeMap<>();
    private int changelogIndex = -1;
    private boolean autochangelog;

    private SpecDocument(String path, List<Line> lines) {
        this.path = path;
        this.lines = List.copyOf(lines);
        index();
    }

    /** Reads a spec; {@code path} names the file in error messages only. */
    public static SpecDocument parse(String path, String text) {
        List<Line> lines = new ArrayList<>();
        int start = 0;
        while (start <= text.length()) {
            int nl = text.indexOf('\n', start);
            if (nl < 0) {
                if (start < text.length()) {
                    lines.add(new Line(text.substring(start), ""));
                }
                break;
            }
            boolean crlf = nl > start && text.charAt(nl - 1) == '\r';
            lines.add(new Line(text.substring(start, crlf ? nl - 1 : nl), crlf ? "\r\n" : "\n"));
            start = nl + 1;
        }
        return new SpecDocument(path, lines);
    }

    /** The spec's text: byte for byte the input, apart from the edits made. */
    public String render() {
        StringBuilder out = new StringBuilder();
        for (Line l : lines) {
            out.append(l.text()).append(l.eol());
        }
        return out.toString();
    }

    public String path() {
        return path;
    }

    // ---- views -------------------------------------------------------------------------------

    /** Every preamble tag (main package and subpackages), in order. */
    public List<Tag> tags() {
        return tags.stream().map(Located::tag).toList();
    }

    /** The first preamble tag with this name (case-insensitive), as rpm reads the main package. */
    public Optional<Tag> tag(String name) {
        return located(name).map(Located::tag);
    }

    public List<MacroDefinition> definitions() {
        return definitions.stream().map(Definition::def).toList();
    }

    /** The Version tag's value as written, e.g. {@code 1.2.3} or {@code %{ver}}. */
    public String version() {
        return required("Version").tag().value();
    }

    /** The Release tag's value as written, e.g. {@code 1%{?dist}} or {@code %autorelease}. */
    public String release() {
        return required("Release").tag().value();
    }

    /** {@code SourceN} (unnumbered {@code Source:} tags numbered as rpm does). */
    public Optional<Tag> source(int number) {
        return Optional.ofNullable(sourceTags.get(number)).map(Located::tag);
    }

    /** A numbered {@code SourceN:}/{@code PatchN:} tag. */
    public record Numbered(int number, Tag tag) {
    }

    /** Every {@code SourceN:} tag by number (the first one where %if branches repeat a number). */
    public List<Numbered> numberedSources() {
        return sourceTags.entrySet().stream().map(e -> new Numbered(e.getKey(), e.getValue().tag())).toList();
    }

    /** Every {@code PatchN:} tag, in number order and, within a number, in line order. */
    public List<Numbered> numberedPatches() {
        List<Numbered> out = new ArrayList<>();
        patchTags.forEach((n, tags) -> tags.forEach(t -> out.add(new Numbered(n, t.tag()))));
        return out;
    }

    /** The line of the first {@code PatchN:} tag with this number, 0 when there is none. */
    public int patchLine(int number) {
        List<Located> tags = patchTags.get(number);
        return tags == null ? 0 : tags.get(0).tag().line();
    }

    public List<Patch> patches() {
        List<Patch> out = new ArrayList<>();
        for (var e : patchTags.entrySet()) {
            int number = e.getKey();
            List<Integer> applied = new ArrayList<>();
            boolean automatic = false;
            OptionalInt strip = OptionalInt.empty();
            for (Application a : applications) {
                if (!a.command().applies(number)) {
                    continue;
                }
                if (a.command().namesExplicitly(number)) {
                    applied.add(a.index() + 1);
                } else {
                    automatic = true;
                }
                if (strip.isEmpty() && a.command().strip().isPresent()) {
                    strip = a.command().strip();
                }
            }
            for (Located t : e.getValue()) {
                out.add(new Patch(number, t.tag().value(), fileName(t.tag().value()), t.tag().line(), t.tag().conditional(),
                        List.copyOf(applied), automatic, strip.orElse(0)));
            }
        }
        out.sort(java.util.Comparator.comparingInt(Patch::line));
        return out;
    }

    public Changelog changelog() {
        return new Changelog(changelogIndex + 1, autochangelog);
    }

    // ---- edits -------------------------------------------------------------------------------

    /**
     * Sets the version and resets the release counter to 1. A version set through literal
     * {@code %global}s is edited where the literal is; see {@link VersionTemplate}.
     */
    public SpecDocument bump(String newVersion) {
        Located version = required("Version");
        if (newVersion == null || !VALID_VERSION.matcher(newVersion).matches()) {
            throw KilnException.badInput(path + ":" + version.tag().line() + ": '" + newVersion
                    + "' is not an RPM version (letters, digits and . _ + ~ ^ only, no '-'); pass a valid version");
        }
        List<Edit> edits = new ArrayList<>(new VersionTemplate(this).edits(version.index(), version.start(),
                version.end(), newVersion));
        edits.addAll(releaseReset());
        return apply(edits);
    }

    /** Removes the patch with this file name (or full value) and the lines that apply it by number. */
    public SpecDocument dropPatch(String fileName) {
        List<Patch> matching = patches().stream()
                .filter(p -> p.fileName().equals(fileName) || p.value().equals(fileName)
                        || fileName(p.value()).equals(fileName))
                .toList();
        if (matching.isEmpty()) {
            throw unknownPatch("'" + fileName + "'");
        }
        return drop(matching);
    }

    /** Removes {@code PatchN:} and the lines that apply it by number. */
    public SpecDocument dropPatch(int number) {
        List<Patch> matching = patches().stream().filter(p -> p.number() == number).toList();
        if (matching.isEmpty()) {
            throw unknownPatch("number " + number);
        }
        return drop(matching);
    }

    /**
     * Puts an entry on top of {@code %changelog}, adding the section at the end when the spec has
     * none. With {@code %autochangelog} rpmautospec writes the changelog from git, so this returns
     * the document unchanged; {@link #changelog()} tells the caller.
     */
    public SpecDocument addChangelogEntry(String author, String email, LocalDate date, String evr, List<String> entryLines) {
        if (autochangelog) {
            return this;
        }
        String eol = dominantEol();
        List<String> entry = new ArrayList<>();
        entry.add("* " + CHANGELOG_DATE.format(date) + " " + author + " <" + email + "> - " + evr);
        for (String l : entryLines) {
            entry.add(l.startsWith("- ") ? l : "- " + l);
        }
        List<Line> out = new ArrayList<>(lines);
        int at;
        if (changelogIndex < 0) {
            if (!out.isEmpty() && out.get(out.size() - 1).eol().isEmpty()) {
                Line last = out.remove(out.size() - 1);
                out.add(new Line(last.text(), eol));
            }
            if (!out.isEmpty() && !out.get(out.size() - 1).text().isBlank()) {
                out.add(new Line("", eol));
            }
            out.add(new Line("%changelog", eol));
            at = out.size();
        } else {
            at = changelogIndex + 1;
        }
        boolean atEnd = at >= out.size();
        if (atEnd && !out.isEmpty() && out.get(at - 1).eol().isEmpty()) {
            Line header = out.remove(at - 1);
            out.add(new Line(header.text(), eol));
        }
        List<Line> block = new ArrayList<>();
        for (String l : entry) {
            block.add(new Line(l, eol));
        }
        if (!atEnd) {
            block.add(new Line("", eol));
        }
        out.addAll(at, block);
        return new SpecDocument(path, out);
    }

    // ---- internals ---------------------------------------------------------------------------

    /** A replacement of {@code start..end} in line {@code index}, or the removal of the whole line. */
    record Edit(int index, int start, int end, String text, boolean removeLine) {
        static Edit replace(int index, int start, int end, String text) {
            return new Edit(index, start, end, text, false);
        }

        static Edit remove(int index) {
            return new Edit(index, 0, 0, "", true);
        }
    }

    private SpecDocument apply(List<Edit> edits) {
        if (edits.isEmpty()) {
            return this;
        }
        List<Line> out = new ArrayList<>(lines);
        // right to left, bottom to top, so earlier offsets stay valid
        List<Edit> sorted = new ArrayList<>(edits);
        sorted.sort(java.util.Comparator.comparingInt(Edit::index).thenComparingInt(Edit::start).reversed());
        java.util.Set<Integer> removed = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
        for (Edit e : sorted) {
            if (e.removeLine()) {
                removed.add(e.index());
                continue;
            }
            Line l = out.get(e.index());
            out.set(e.index(), new Line(l.text().substring(0, e.start()) + e.text() + l.text().substring(e.end()), l.eol()));
        }
        for (int index : removed) {
            Line gone = out.remove(index);
            // a removed last line without a newline leaves the line before it as the last line
            if (gone.eol().isEmpty() && index == out.size() && index > 0) {
                Line before = out.remove(index - 1);
                out.add(new Line(before.text(), ""));
            }
        }
        return new SpecDocument(path, out);
    }

    private List<Edit> releaseReset() {
        Located release = required("Release");
        String value = release.tag().value();
        int line = release.tag().line();
        if (value.matches("^%\\{?autorelease\\b.*")) {
            return List.of();
        }
        Matcher counter = Pattern.compile("^(\\d+)([^%]*)(.*)$").matcher(value);
        if (counter.matches()) {
            String literal = counter.group(2);
            String tail = counter.group(3);
            if (!literal.isEmpty() && tail.matches(".*%(\\{[^?!]|[A-Za-z_]).*")) {
                throw refuse(line, "Release: " + value + " is a snapshot release built from macros after '"
                        + counter.group(1) + literal + "'; change this line (and the snapshot macros) by hand");
            }
            String reset = "1" + tail;
            return reset.equals(value) ? List.of()
                    : List.of(Edit.replace(release.index(), release.start(), release.end(), reset));
        }
        Matcher macro = Pattern.compile("^%(?:\\{([A-Za-z_][A-Za-z0-9_]*)\\}|([A-Za-z_][A-Za-z0-9_]*))").matcher(value);
        if (macro.find()) {
            String name = macro.group(1) != null ? macro.group(1) : macro.group(2);
            List<Definition> defs = definitionsOf(name);
            if (defs.size() == 1 && defs.get(0).def().body() != null && defs.get(0).def().body().matches("\\d+")
                    && !defs.get(0).def().conditional()) {
                Definition d = defs.get(0);
                return d.def().body().equals("1") ? List.of() : List.of(Edit.replace(d.index(), d.start(), d.end(), "1"));
            }
        }
        throw refuse(line, "Release: " + value + " does not start with a release number; change this line by hand");
    }

    private SpecDocument drop(List<Patch> matching) {
        int number = matching.get(0).number();
        List<Edit> edits = new ArrayList<>();
        for (Patch p : matching) {
            edits.add(Edit.remove(p.line() - 1));
        }
        boolean numberRemains = patches().stream().anyMatch(p -> p.number() == number && !matching.contains(p));
        if (!numberRemains) {
            for (Application a : applications) {
                PatchCommand c = a.command();
                if (!c.namesExplicitly(number)) {
                    continue;
                }
                Line l = lines.get(a.index());
                boolean continued = l.text().stripTrailing().endsWith("\\")
                        || a.index() > 0 && lines.get(a.index() - 1).text().stripTrailing().endsWith("\\");
                List<PatchCommand.Number> others = c.numbers().stream().filter(n -> n.value() != number).toList();
                if (c.kind() == PatchCommand.Kind.SHELL && (continued || !others.isEmpty())) {
                    throw refuse(a.index() + 1, "Patch" + number + " is applied inside a longer shell command;"
                            + " remove it from this line by hand");
                }
                if (continued) {
                    throw refuse(a.index() + 1, "Patch" + number + " is applied on a continued line; change this line by hand");
                }
                if (others.isEmpty()) {
                    edits.add(Edit.remove(a.index()));
                } else {
                    for (PatchCommand.Number n : c.numbers()) {
                        if (n.value() == number) {
                            edits.add(Edit.replace(a.index(), n.start(), n.end(), ""));
                        }
                    }
                }
            }
        }
        SpecDocument result = apply(edits);
        checkNumbersKept(result, matching);
        return result;
    }

    /**
     * Unnumbered {@code Patch:} tags take the next free number, so dropping one renumbers the
     * unnumbered tags after it; that is harmless under %autosetup, but not where a line applies one
     * of them by number.
     */
    private void checkNumbersKept(SpecDocument result, List<Patch> dropped) {
        List<Patch> before = patches().stream().filter(p -> !dropped.contains(p)).toList();
        List<Patch> after = result.patches();
        for (int i = 0; i < before.size() && i < after.size(); i++) {
            Patch b = before.get(i);
            if (b.number() != after.get(i).number() && !b.appliedOn().isEmpty()) {
                throw refuse(b.line(), "dropping this patch renumbers the unnumbered Patch: tag " + b.fileName()
                        + " (Patch" + b.number() + ", applied by number); give the Patch tags numbers first");
            }
        }
    }

    private KilnException unknownPatch(String what) {
        StringBuilder known = new StringBuilder();
        for (Patch p : patches()) {
            known.append(known.isEmpty() ? "" : ", ").append(p.number()).append(' ').append(p.fileName());
        }
        return KilnException.badInput(path + ": no patch " + what + "; the spec has: "
                + (known.isEmpty() ? "none" : known) + "; name one of these");
    }

    KilnException refuse(int line, String what) {
        return KilnException.badInput(path + ":" + line + ": " + what);
    }

    /** The {@code path:line: } a message about a spec starts with; {@code path: } when the line is not known (0). */
    public static String at(String path, int line) {
        return line > 0 ? path + ":" + line + ": " : path + ": ";
    }

    private Located required(String name) {
        return located(name).orElseThrow(() -> KilnException.badInput(path + ": no " + name + ": tag; add one to the preamble"));
    }

    private Optional<Located> located(String name) {
        return tags.stream().filter(t -> t.tag().name().equalsIgnoreCase(name)).findFirst();
    }

    List<Definition> definitionsOf(String name) {
        return definitions.stream().filter(d -> d.def().name().equals(name)).toList();
    }

    /** The one unconditional, single-line definition of {@code name}, if the spec has exactly that. */
    Optional<int[]> literalDefinition(String name) {
        List<Definition> defs = definitionsOf(name);
        if (defs.size() != 1 || defs.get(0).def().body() == null || defs.get(0).def().conditional()) {
            return Optional.empty();
        }
        Definition d = defs.get(0);
        return Optional.of(new int[] {d.index(), d.start(), d.end()});
    }

    String lineText(int index) {
        return lines.get(index).text();
    }

    private String dominantEol() {
        long crlf = lines.stream().filter(l -> l.eol().equals("\r\n")).count();
        return crlf * 2 > lines.size() ? "\r\n" : "\n";
    }

    public static String fileName(String value) {
        int rename = value.indexOf("#/");
        if (rename >= 0) {
            return value.substring(rename + 2);
        }
        return value.substring(value.lastIndexOf('/') + 1);
    }

    private void index() {
        boolean preamble = true;
        boolean scripts = false;
        int depth = 0;
        int autoPatch = 0;
        int autoSource = 0;
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i).text();
            String trimmed = text.strip();
            if (IF.matcher(trimmed).matches()) {
                depth++;
                continue;
            }
            if (ENDIF.matcher(trimmed).matches()) {
                depth = Math.max(0, depth - 1);
                continue;
            }
            Matcher section = SECTION.matcher(trimmed);
            if (section.matches() && changelogIndex < 0) {
                String name = section.group(1).toLowerCase(Locale.ROOT);
                preamble = name.equals("package");
                scripts = !List.of("package", "description", "files", "changelog").contains(name);
                if (name.equals("changelog")) {
                    changelogIndex = i;
                }
                continue;
            }
            if (trimmed.equals("%autochangelog")) {
                autochangelog = true;
                continue;
            }
            if (changelogIndex >= 0) {
                continue;
            }
            Matcher define = DEFINE.matcher(text);
            if (define.find()) {
                int end = valueEnd(text, define.end());
                boolean multiline = text.stripTrailing().endsWith("\\");
                String body = define.group(3) != null || multiline ? null : text.substring(define.end(), end);
                definitions.add(new Definition(new MacroDefinition(define.group(2), body, i + 1, depth > 0), i,
                        define.end(), end));
                continue;
            }
            if (trimmed.startsWith("#")) {
                continue;
            }
            if (preamble) {
                Matcher tag = TAG.matcher(text);
                if (tag.find()) {
                    int end = valueEnd(text, tag.end());
                    Tag t = new Tag(tag.group(1), text.substring(tag.end(), end), i + 1, depth > 0);
                    Located located = new Located(t, i, tag.end(), end);
                    tags.add(located);
                    Matcher numbered = NUMBERED.matcher(t.name());
                    if (numbered.matches()) {
                        boolean isPatch = numbered.group(1).equalsIgnoreCase("patch");
                        int auto = isPatch ? autoPatch : autoSource;
                        // rpm gives an unnumbered tag the number after the highest seen so far
                        int number = numbered.group(2).isEmpty() ? auto : Integer.parseInt(numbered.group(2));
                        if (number >= auto) {
                            auto = number + 1;
                        }
                        if (isPatch) {
                            autoPatch = auto;
                            patchTags.computeIfAbsent(number, k -> new ArrayList<>()).add(located);
                        } else {
                            autoSource = auto;
                            sourceTags.putIfAbsent(number, located);
                        }
                    }
                }
            } else if (scripts) {
                int at = i;
                PatchCommand.parse(text).ifPresent(c -> applications.add(new Application(at, c)));
            }
        }
    }

    /** The section a stripped line starts ({@code "package"}, {@code "prep"}, ...), lowercase; null when it starts none. */
    static String sectionName(String trimmed) {
        Matcher m = SECTION.matcher(trimmed);
        return m.matches() ? m.group(1).toLowerCase(Locale.ROOT) : null;
    }

    private static int valueEnd(String text, int from) {
        int end = text.length();
        while (end > from && Character.isWhitespace(text.charAt(end - 1))) {
            end--;
        }
        return end;
    }
}
