package dev.kiln.specfile;

import dev.kiln.KilnException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What Kiln needs to know about a spec file before the build starts: identity, sources,
 * patches and build requirements, each with the line it came from. Macros defined with
 * {@code %global}/{@code %define} and the standard tag macros are expanded; anything else is
 * left as written (rpmbuild in the container has the last word).
 */
public record SpecFile(
        String path,
        String name,
        String version,
        String release,
        String epoch,
        String buildArch,
        List<SourceTag> sources,
        List<PatchTag> patches,
        List<Requirement> buildRequires,
        List<String> packages,
        List<String> provides) {

    private static final Pattern TAG = Pattern.compile("^([A-Za-z][A-Za-z0-9]*)(\\([^)]*\\))?\\s*:\\s*(.*?)\\s*$");
    private static final Pattern DEFINE = Pattern.compile("^%(global|define)\\s+([A-Za-z_][A-Za-z0-9_]*)(\\([^)]*\\))?\\s+(.*?)\\s*$");
    private static final Pattern SECTION = Pattern.compile(
            "(?i)^%(description|package|prep|build|install|check|clean|files|changelog|pre|post|preun|postun|pretrans|posttrans"
                    + "|triggerin|triggerun|triggerpostun|triggerprein|verifyscript|filetriggerin|filetriggerun"
                    + "|filetriggerpostun|transfiletriggerin|transfiletriggerun|transfiletriggerpostun|generate_buildrequires"
                    + "|conf|sourcelist|patchlist)(\\s.*)?$");
    private static final Pattern MACRO = Pattern.compile("%\\{([!?]*)([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\\}|%([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern NUMBERED = Pattern.compile("(?i)(source|patch)(\\d*)");

    /** A {@code SourceN:} tag: a local file, or a remote URL whose last path segment names the file. */
    public record SourceTag(int number, String value, int line) {
        public String fileName() {
            return value.substring(value.lastIndexOf('/') + 1);
        }

        public boolean isRemote() {
            return value.contains("://") || value.startsWith("mvn:");
        }
    }

    /** A {@code PatchN:} tag. */
    public record PatchTag(int number, String value, int line) {
        public String fileName() {
            return value.substring(value.lastIndexOf('/') + 1);
        }
    }

    /** One build requirement: a capability, optionally with a version comparison. */
    public record Requirement(String capability, String operator, String version, int line) {
        @Override
        public String toString() {
            return operator.isEmpty() ? capability : capability + " " + operator + " " + version;
        }
    }

    /** Parses a spec; {@code path} is used in error messages only. */
    public static SpecFile parse(String path, String text) {
        Map<String, String> macros = new HashMap<>();
        Map<String, String> tags = new HashMap<>();
        List<SourceTag> sources = new ArrayList<>();
        List<PatchTag> patches = new ArrayList<>();
        List<Requirement> requires = new ArrayList<>();
        List<String> subpackages = new ArrayList<>();
        List<String> provides = new ArrayList<>();
        Deque<Integer> conditionals = new ArrayDeque<>();
        boolean inPreamble = true;
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i];
            String trimmed = line.strip();
            while (trimmed.endsWith("\\") && i + 1 < lines.length && inPreamble) {
                i++;
                trimmed = trimmed.substring(0, trimmed.length() - 1) + " " + lines[i].strip();
            }
            if (trimmed.matches("^%if(arch|narch|os|nos)?\\b.*")) {
                conditionals.push(lineNo);
                continue;
            }
            if (trimmed.matches("^%(else|elif(arch|os)?)\\b.*")) {
                if (conditionals.isEmpty()) {
                    throw bad(path, lineNo, trimmed.split("\\s")[0] + " without %if");
                }
                continue;
            }
            if (trimmed.matches("^%endif\\b.*")) {
                if (conditionals.isEmpty()) {
                    throw bad(path, lineNo, "%endif without %if");
                }
                conditionals.pop();
                continue;
            }
            Matcher section = SECTION.matcher(trimmed);
            if (section.matches()) {
                inPreamble = section.group(1).equalsIgnoreCase("package");
                if (inPreamble && section.group(2) != null) {
                    subpackages.add(section.group(2).strip());
                }
                continue;
            }
            Matcher define = DEFINE.matcher(trimmed);
            if (define.matches()) {
                if (define.group(3) == null) {
                    macros.put(define.group(2), define.group(4));
                }
                continue;
            }
            if (!inPreamble || trimmed.startsWith("#")) {
                continue;
            }
            Matcher tag = TAG.matcher(trimmed);
            if (!tag.matches()) {
                continue;
            }
            String tagName = tag.group(1);
            String value = tag.group(3);
            String lower = tagName.toLowerCase(Locale.ROOT);
            Matcher numbered = NUMBERED.matcher(tagName);
            if (numbered.matches()) {
                boolean isSource = numbered.group(1).equalsIgnoreCase("source");
                int number = numbered.group(2).isEmpty()
                        ? nextNumber(isSource ? sources.stream().mapToInt(SourceTag::number) : patches.stream().mapToInt(PatchTag::number))
                        : Integer.parseInt(numbered.group(2));
                String expanded = expand(value, macros, tags);
                if (isSource) {
                    sources.add(new SourceTag(number, expanded, lineNo));
                } else {
                    patches.add(new PatchTag(number, expanded, lineNo));
                }
                continue;
            }
            switch (lower) {
                case "name", "version", "release", "epoch", "buildarch", "buildarchitectures" -> {
                    String key = lower.startsWith("buildarch") ? "buildarch" : lower;
                    tags.putIfAbsent(key, expand(value, macros, tags));
                    macros.putIfAbsent(key, tags.get(key));
                }
                case "buildrequires" -> requires.addAll(requirements(path, lineNo, expand(value, macros, tags)));
                case "provides" -> requirements(path, lineNo, expand(value, macros, tags))
                        .forEach(r -> provides.add(r.capability()));
                default -> {
                    // other tags do not matter before the build
                }
            }
        }
        if (!conditionals.isEmpty()) {
            throw bad(path, conditionals.peek(), "%if is never closed by %endif");
        }
        for (String required : List.of("name", "version", "release")) {
            if (!tags.containsKey(required) || tags.get(required).isBlank()) {
                String tag = Character.toUpperCase(required.charAt(0)) + required.substring(1);
                throw KilnException.badInput(path + ": no " + tag + ": tag; add one to the preamble");
            }
        }
        String name = tags.get("name");
        List<String> packages = new ArrayList<>(List.of(name));
        for (String sub : subpackages) {
            String expanded = expand(sub, macros, tags);
            String[] words = expanded.split("\\s+");
            int n = java.util.Arrays.asList(words).indexOf("-n");
            packages.add(n >= 0 && n + 1 < words.length ? words[n + 1] : name + "-" + words[words.length - 1]);
        }
        return new SpecFile(path, name, tags.get("version"), tags.get("release"),
                tags.getOrDefault("epoch", ""), tags.getOrDefault("buildarch", ""),
                List.copyOf(sources), List.copyOf(patches), List.copyOf(requires), List.copyOf(packages), List.copyOf(provides));
    }

    /** Every capability the spec's binary packages provide: their names and explicit Provides. */
    public java.util.Set<String> capabilities() {
        java.util.Set<String> all = new java.util.LinkedHashSet<>(packages);
        all.addAll(provides);
        return all;
    }

    public Optional<SourceTag> source(int number) {
        return sources.stream().filter(s -> s.number() == number).findFirst();
    }

    private static int nextNumber(java.util.stream.IntStream seen) {
        // rpm gives an unnumbered Source:/Patch: tag the number after the highest seen so far
        return seen.max().orElse(-1) + 1;
    }

    private static List<Requirement> requirements(String path, int line, String value) {
        List<Requirement> out = new ArrayList<>();
        String[] tokens = value.replace(",", " ").trim().split("\\s+");
        for (int i = 0; i < tokens.length; i++) {
            String token = tokens[i];
            if (token.isEmpty()) {
                continue;
            }
            if (i + 2 < tokens.length && tokens[i + 1].matches("[<>=]=?|<=|>=")) {
                out.add(new Requirement(token, tokens[i + 1], tokens[i + 2], line));
                i += 2;
            } else if (token.matches("[<>=]=?")) {
                throw bad(path, line, "BuildRequires has a comparison '" + token + "' without a name before it");
            } else {
                out.add(new Requirement(token, "", "", line));
            }
        }
        return out;
    }

    /** Expands %{name}, %name, %{?name}, %{!?name:text}, %{?name:text} and tag macros. */
    static String expand(String value, Map<String, String> macros, Map<String, String> tags) {
        String current = value;
        for (int depth = 0; depth < 10 && current.contains("%"); depth++) {
            Matcher m = MACRO.matcher(current);
            StringBuilder out = new StringBuilder();
            boolean changed = false;
            while (m.find()) {
                String flags = m.group(1) == null ? "" : m.group(1);
                String name = m.group(2) != null ? m.group(2) : m.group(4);
                String alt = m.group(3);
                String defined = macros.containsKey(name) ? macros.get(name) : tags.get(name);
                String replacement;
                if (flags.contains("?")) {
                    boolean negate = flags.contains("!");
                    boolean isDefined = defined != null;
                    if (alt != null) {
                        replacement = (isDefined ^ negate) ? alt : "";
                    } else {
                        replacement = negate || !isDefined ? "" : defined;
                    }
                } else {
                    replacement = defined;
                }
                if (replacement == null) {
                    m.appendReplacement(out, Matcher.quoteReplacement(m.group()));
                } else {
                    m.appendReplacement(out, Matcher.quoteReplacement(replacement));
                    changed = true;
                }
            }
            m.appendTail(out);
            current = out.toString();
            if (!changed) {
                break;
            }
        }
        return current;
    }

    private static KilnException bad(String path, int line, String what) {
        return KilnException.badInput(path + ":" + line + ": " + what);
    }
}
