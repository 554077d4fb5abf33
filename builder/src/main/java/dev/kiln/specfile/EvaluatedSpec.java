package dev.kiln.specfile;

import dev.kiln.KilnException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A spec as the builder's own rpm read it: name, epoch, version, release, sources and patches
 * with their numbers, BuildRequires, BuildArch/ExclusiveArch and the binary packages with their
 * Provides. Every value comes from rpm's output ({@link RpmOutput}), with the macros, conditionals,
 * {@code %(...)} and Lua of the spec evaluated by rpm itself; Kiln expands nothing. Line numbers
 * point into the spec as written, where the tag can be found there, for messages only.
 */
public record EvaluatedSpec(
        String path,
        String name,
        String epoch,
        String version,
        String release,
        List<String> buildArchs,
        List<String> exclusiveArchs,
        List<SourceTag> sources,
        List<PatchTag> patches,
        List<Requirement> buildRequires,
        List<BinaryPackage> binaries) {

    /** The source package query: one tagged line per value; arrays repeat their tag. */
    public static final String SOURCE_QUERY = "N\\t%{NAME}\\nE\\t%{EPOCH}\\nV\\t%{VERSION}\\nR\\t%{RELEASE}\\n"
            + "[BR\\t%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}\\n][BA\\t%{BUILDARCHS}\\n]"
            + "[XA\\t%{EXCLUSIVEARCH}\\n][S\\t%{SOURCE}\\n][P\\t%{PATCH}\\n]";

    private static final Pattern PROVIDES = Pattern.compile("(?i)^provides\\s*:\\s*(.*)$");
    private static final Pattern LEFT_OVER = Pattern.compile("%\\{?[!?]*([A-Za-z_][A-Za-z0-9_]*)");
    
    private static final Set<String> SPEC_WORDS = Set.of("if", "ifarch", "ifnarch", "ifos", "ifnos", "else", "elif",
            "elifarch", "elifos", "endif", "global", "define", "undefine", "package", "description", "prep", "build",
            "install", "check", "clean", "files", "changelog", "pre", "post", "preun", "postun", "pretrans", "posttrans",
            "include", "setup", "patch", "nil", "bcond_with", "bcond_without", "bcond");

    /** A {@code SourceN:} tag as rpm expanded it: a local file, or a URL whose last path segment names the file. */
    public record SourceTag(int number, String value, int line) {
        public String fileName() {
            return SpecDocument.fileName(value);
        }

        public boolean isRemote() {
            return value.contains("://") || value.startsWith("mvn:");
        }
    }

    /** A {@code PatchN:} tag as rpm expanded it. */
    public record PatchTag(int number, String value, int line) {
        public String fileName() {
            return SpecDocument.fileName(value);
        }
    }

    /** One build requirement: a capability, optionally with a version comparison. */
    public record Requirement(String capability, String operator, String version, int line) {
        @Override
        public String toString() {
            return operator.isEmpty() ? capability : capability + " " + operator + " " + version;
        }
    }

    /** A binary package the spec declares, with the capabilities its {@code Provides:} tags name. */
    public record BinaryPackage(String name, List<String> provides) {
        public BinaryPackage {
            provides = List.copyOf(provides);
        }
    }

    public EvaluatedSpec {
        buildArchs = List.copyOf(buildArchs);
        exclusiveArchs = List.copyOf(exclusiveArchs);
        sources = List.copyOf(sources);
        patches = List.copyOf(patches);
        buildRequires = List.copyOf(buildRequires);
        binaries = List.copyOf(binaries);
    }

    /**
     * Reads what rpm printed for the spec {@code written}; refuses, naming the spec and the line,
     * a spec rpm could not read or one that uses a macro the builder does not define.
     */
    public static EvaluatedSpec read(SpecDocument written, RpmOutput out, BuilderMacros builder) {
        String path = written.path();
        if (out.exit() != 0) {
            throw notRead(written, out, builder);
        }
        String name = null;
        String epoch = "";
        String version = null;
        String release = null;
        List<String> buildArchs = new ArrayList<>();
        List<String> exclusiveArchs = new ArrayList<>();
        List<String> sourceNames = new ArrayList<>();
        List<String> patchNames = new ArrayList<>();
        List<Requirement> requires = new ArrayList<>();
        for (String line : out.source().split("\n")) {
            String[] f = line.split("\t", -1);
            switch (f[0]) {
                case "N" -> name = f[1];
                case "E" -> epoch = f[1].equals("(none)") ? "" : f[1];
                case "V" -> version = f[1];
                case "R" -> release = f[1];
                case "BA" -> buildArchs.add(f[1]);
                case "XA" -> exclusiveArchs.add(f[1]);
                case "S" -> sourceNames.add(f[1]);
                case "P" -> patchNames.add(f[1]);
                case "BR" -> {
                    if (!f[1].startsWith("rpmlib(")) {
                        requires.add(new Requirement(f[1], f[2].strip(), f[3], lineOf(written, "BuildRequires", f[1])));
                    }
                }
                default -> {
                    // blank lines
                }
            }
        }
        if (name == null || version == null || release == null) {
            throw KilnException.badInput(path + ": rpm in builder " + builder.builder() + " read no Name, Version and Release"
                    + " from it; rpm said: " + firstError(out.errors()));
        }
        // Numbers and full values are in rpm's expansion of the spec; the file names in the query confirm them.
        SpecDocument parsed = SpecDocument.parse(path, out.parsed());
        List<BinaryPackage> binaries = packages(name, out.parsed());
        List<SourceTag> sources = new ArrayList<>();
        for (SpecDocument.Numbered n : parsed.numberedSources()) {
            sources.add(new SourceTag(n.number(), n.tag().value(), written.source(n.number()).map(SpecDocument.Tag::line).orElse(0)));
        }
        List<PatchTag> patches = new ArrayList<>();
        for (SpecDocument.Numbered n : parsed.numberedPatches()) {
            patches.add(new PatchTag(n.number(), n.tag().value(), written.patchLine(n.number())));
        }
        confirm(path, "Source", sources.stream().map(SourceTag::fileName).toList(), sourceNames);
        confirm(path, "Patch", patches.stream().map(PatchTag::fileName).toList(), patchNames);

        EvaluatedSpec spec = new EvaluatedSpec(path, name, epoch, version, release, buildArchs, exclusiveArchs, sources, patches,
                requires, binaries);
        spec.requireDefined(written, builder);
        return spec;
    }

    /**
     * The packages of rpm's expansion of the spec: the main one and each {@code %package}
     * ({@code -n} names it in full, else it is {@code <name>-<suffix>}), with the capabilities the
     * {@code Provides:} tags of its preamble name (conditionals and macros already resolved by rpm).
     */
    private static List<BinaryPackage> packages(String name, String expanded) {
        java.util.Map<String, List<String>> provides = new java.util.LinkedHashMap<>();
        provides.put(name, new ArrayList<>());
        String current = name;
        boolean preamble = true;
        for (String line : expanded.split("\n")) {
            String t = line.strip();
            String section = SpecDocument.sectionName(t);
            if (section != null) {
                if (section.equals("changelog")) {
                    break;
                }
                preamble = section.equals("package");
                if (preamble) {
                    List<String> words = List.of(t.substring("%package".length()).strip().split("\\s+"));
                    int n = words.indexOf("-n");
                    current = n >= 0 && n + 1 < words.size() ? words.get(n + 1) : name + "-" + words.getLast();
                    provides.putIfAbsent(current, new ArrayList<>());
                }
                continue;
            }
            Matcher tag = PROVIDES.matcher(t);
            if (preamble && tag.matches()) {
                String[] tokens = tag.group(1).replace(",", " ").strip().split("\\s+");
                for (int i = 0; i < tokens.length; i++) {
                    if (tokens[i].matches("[<>=]=?")) {
                        i++; // the version after an operator
                    } else if (!tokens[i].isEmpty()) {
                        provides.get(current).add(tokens[i]);
                    }
                }
            }
        }
        List<BinaryPackage> out = new ArrayList<>();
        provides.forEach((n, p) -> out.add(new BinaryPackage(n, p)));
        return out;
    }

    /** The main package and its subpackages, by name. */
    public List<String> packages() {
        return binaries.stream().map(BinaryPackage::name).toList();
    }

    /** Every capability the spec's binary packages provide: their names and Provides. */
    public Set<String> capabilities() {
        Set<String> all = new LinkedHashSet<>(packages());
        binaries.forEach(b -> all.addAll(b.provides()));
        return all;
    }

    public Optional<SourceTag> source(int number) {
        return sources.stream().filter(s -> s.number() == number).findFirst();
    }

    public Optional<PatchTag> patch(int number) {
        return patches.stream().filter(p -> p.number() == number).findFirst();
    }

    /** {@code name-version-release}, with {@code epoch:} before the version when there is one. */
    public String nevr() {
        return name + "-" + (epoch.isEmpty() ? "" : epoch + ":") + version + "-" + release;
    }

    /** A value rpm left with a macro in it names a macro nobody defined: refused with that macro. */
    private void requireDefined(SpecDocument written, BuilderMacros builder) {
        record Value(String what, String value, int line) {
        }
        List<Value> values = new ArrayList<>();
        values.add(new Value("Name", name, tagLine(written, "Name")));
        values.add(new Value("Version", version, tagLine(written, "Version")));
        values.add(new Value("Release", release, tagLine(written, "Release")));
        values.add(new Value("Epoch", epoch, tagLine(written, "Epoch")));
        sources.forEach(s -> values.add(new Value("Source" + s.number(), s.value(), s.line())));
        patches.forEach(p -> values.add(new Value("Patch" + p.number(), p.value(), p.line())));
        buildRequires.forEach(r -> values.add(new Value("BuildRequires", r.toString(), r.line())));
        binaries.forEach(b -> values.add(new Value("package", b.name(), 0)));
        for (Value v : values) {
            Matcher m = LEFT_OVER.matcher(v.value());
            if (m.find()) {
                String macro = m.group(1);
                throw KilnException.badInput(SpecDocument.at(written.path(), v.line()) + v.what() + " '" + v.value() + "': "
                        + builder.undefined(macro));
            }
        }
    }

    /** Why rpm could not read the spec: a macro the builder lacks when one is named, else rpm's own first error. */
    private static KilnException notRead(SpecDocument written, RpmOutput out, BuilderMacros builder) {
        String error = firstError(out.errors());
        Set<String> own = new TreeSet<>();
        written.definitions().forEach(d -> own.add(d.name()));
        written.tags().forEach(t -> own.add(t.name().toLowerCase(java.util.Locale.ROOT)));
        for (String line : out.errors().split("\n")) {
            if (!line.startsWith("error:")) {
                continue;
            }
            Matcher m = LEFT_OVER.matcher(line);
            while (m.find()) {
                String macro = m.group(1);
                if (!builder.defines(macro) && !own.contains(macro) && !SPEC_WORDS.contains(macro)
                        && !macro.matches("(SOURCE|PATCH)(URL)?\\d*")) {
                    return KilnException.badInput(SpecDocument.at(written.path(), rpmLine(line)) + builder.undefined(macro)
                            + " (rpm: " + strip(line) + ")");
                }
            }
        }
        int line = rpmLine("error: " + error);
        String said = line > 0 ? error.replaceFirst("^line \\d+: ", "") : error;
        return KilnException.badInput(SpecDocument.at(written.path(), line) + "rpm in builder " + builder.builder() + " cannot read this spec: "
                + said + " (fix the spec, or give the builder what it needs in containers/" + builder.builder() + "/)");
    }

    /** rpm's expansion and its header must name the same files; otherwise the numbers cannot be trusted. */
    private static void confirm(String path, String kind, List<String> fromParse, List<String> fromHeader) {
        if (!sorted(fromParse).equals(sorted(fromHeader))) {
            throw KilnException.badInput(path + ": rpm's header lists " + kind + " files " + sorted(fromHeader)
                    + " but its expansion of the spec shows " + sorted(fromParse) + " as " + kind + "N: tags;"
                    + " write each " + kind + " tag on a line of its own");
        }
    }

    private static List<String> sorted(Collection<String> names) {
        return names.stream().sorted().toList();
    }

    private static int lineOf(SpecDocument written, String tag, String capability) {
        Pattern word = Pattern.compile("(^|[\\s,])" + Pattern.quote(capability) + "($|[\\s,])");
        for (SpecDocument.Tag t : written.tags()) {
            if (t.name().equalsIgnoreCase(tag) && word.matcher(t.value()).find()) {
                return t.line();
            }
        }
        return written.tags().stream().filter(t -> t.name().equalsIgnoreCase(tag)).findFirst().map(SpecDocument.Tag::line)
                .orElse(0);
    }

    private static int tagLine(SpecDocument written, String tag) {
        return written.tag(tag).map(SpecDocument.Tag::line).orElse(0);
    }

    private static int rpmLine(String error) {
        Matcher m = Pattern.compile("line (\\d+):").matcher(error);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    static String firstError(String errors) {
        List<String> lines = errors.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        String first = lines.stream().filter(l -> l.startsWith("error:")).findFirst()
                .orElse(lines.isEmpty() ? "no message" : lines.getLast());
        return strip(first);
    }

    private static String strip(String error) {
        String e = error.strip();
        e = e.startsWith("error: ") ? e.substring("error: ".length()) : e;
        return e.length() > 300 ? e.substring(0, 300) + "..." : e;
    }
}
