package dev.kiln.specfile;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of a spec that applies patches: {@code %patch} in its old and new spellings,
 * {@code %autosetup}/{@code %autopatch}, or a shell command that reads {@code %{PATCHn}}.
 * Each number remembers where its tokens sit in the line, so one number can be cut out of
 * {@code %patch -P 1 -P 2} while the rest of the line stays byte for byte.
 */
record PatchCommand(Kind kind, List<Number> numbers, OptionalInt strip, OptionalInt min, OptionalInt max,
        boolean noPatches) {

    enum Kind {
        /** {@code %patch -P N}, {@code %patch N}, {@code %patch -p1 N}, {@code %patch -PN}. */
        PATCH,
        /** {@code %patchN}: the number is part of the macro name (removed in rpm 4.20). */
        PATCH_N,
        /** {@code %autosetup}, {@code %forgeautosetup}: every patch unless {@code -N}. */
        AUTOSETUP,
        /** {@code %autopatch}: every patch in {@code -m}..{@code -M}, or the listed numbers. */
        AUTOPATCH,
        /** A shell line that reads {@code %{PATCHn}}, e.g. {@code patch -p1 < %{PATCH2}}. */
        SHELL
    }

    /**
     * A patch number on the line; {@code start}..{@code end} is the text to cut when the number
     * goes (its option and the blank before it), so the rest of the line keeps its spacing.
     */
    record Number(int value, int start, int end) {
    }

    private static final Pattern PATCH_N = Pattern.compile("^\\s*%\\{?patch(\\d+)\\}?(?=\\s|$)(.*)$");
    private static final Pattern PATCH = Pattern.compile("^\\s*%\\{?patch\\}?(?=\\s|$)");
    private static final Pattern AUTOSETUP = Pattern.compile("^\\s*%\\{?(?:forge)?autosetup\\}?(?=\\s|$)");
    private static final Pattern AUTOPATCH = Pattern.compile("^\\s*%\\{?autopatch\\}?(?=\\s|$)");
    // autopatch can sit inside a conditional macro, as in PLD's %{?patchlevel:%autopatch ...}
    private static final Pattern AUTOPATCH_INNER = Pattern.compile("%\\{?autopatch\\b");
    private static final Pattern PATCH_REF = Pattern.compile("%\\{?PATCH(\\d+)\\}?");
    private static final Pattern TOKEN = Pattern.compile("\\S+");
    // %patch options that take a value; the value may be glued (-p1) or separate (-p 1)
    private static final Set<Character> PATCH_VALUE_OPTIONS = Set.of('P', 'p', 'b', 'z', 'd', 'o', 'F', 'D');
    private static final Set<Character> AUTOSETUP_VALUE_OPTIONS = Set.of('n', 'a', 'b', 'S', 'p', 'v');
    private static final Set<Character> AUTOPATCH_VALUE_OPTIONS = Set.of('p', 'm', 'M', 'S');

    /** Reads a script line; empty when the line applies no patch. Comment lines never do. */
    static java.util.Optional<PatchCommand> parse(String line) {
        String trimmed = line.stripLeading();
        if (trimmed.startsWith("#")) {
            return java.util.Optional.empty();
        }
        Matcher m = PATCH_N.matcher(line);
        if (m.find()) {
            int value = Integer.parseInt(m.group(1));
            List<Token> tokens = tokens(line, m.end(1) + (m.end(1) < line.length() && line.charAt(m.end(1)) == '}' ? 1 : 0));
            Options o = options(tokens, PATCH_VALUE_OPTIONS);
            return java.util.Optional.of(new PatchCommand(Kind.PATCH_N, List.of(new Number(value, 0, line.length())),
                    o.value('p'), OptionalInt.empty(), OptionalInt.empty(), false));
        }
        m = PATCH.matcher(line);
        if (m.find()) {
            List<Token> tokens = tokens(line, m.end());
            Options o = options(tokens, PATCH_VALUE_OPTIONS);
            List<Number> numbers = new ArrayList<>(o.numbersFor('P'));
            numbers.addAll(o.positional());
            numbers.sort(java.util.Comparator.comparingInt(Number::start));
            return java.util.Optional.of(new PatchCommand(Kind.PATCH, numbers, o.value('p'),
                    OptionalInt.empty(), OptionalInt.empty(), false));
        }
        m = AUTOSETUP.matcher(line);
        if (m.find()) {
            Options o = options(tokens(line, m.end()), AUTOSETUP_VALUE_OPTIONS);
            return java.util.Optional.of(new PatchCommand(Kind.AUTOSETUP, List.of(), o.value('p'),
                    OptionalInt.empty(), OptionalInt.empty(), o.flags().contains('N')));
        }
        m = AUTOPATCH.matcher(line);
        if (!m.find()) {
            m = AUTOPATCH_INNER.matcher(line);
            if (!m.find()) {
                m = null;
            }
        }
        if (m != null) {
            String rest = line.substring(m.end());
            int close = rest.indexOf('}');
            int end = close >= 0 && line.substring(0, m.start()).contains("%{?") ? m.end() + close : line.length();
            Options o = options(tokens(line.substring(0, end), m.end()), AUTOPATCH_VALUE_OPTIONS);
            return java.util.Optional.of(new PatchCommand(Kind.AUTOPATCH, o.positional(), o.value('p'),
                    o.value('m'), o.value('M'), false));
        }
        Matcher ref = PATCH_REF.matcher(line);
        List<Number> refs = new ArrayList<>();
        while (ref.find()) {
            refs.add(new Number(Integer.parseInt(ref.group(1)), 0, line.length()));
        }
        if (refs.isEmpty()) {
            return java.util.Optional.empty();
        }
        Matcher strip = Pattern.compile("(?<=\\s)-p\\s*(\\d+)").matcher(line);
        OptionalInt p = strip.find() ? OptionalInt.of(Integer.parseInt(strip.group(1))) : OptionalInt.empty();
        return java.util.Optional.of(new PatchCommand(Kind.SHELL, refs, p, OptionalInt.empty(), OptionalInt.empty(), false));
    }

    /** Whether this line applies patch {@code number}. */
    boolean applies(int number) {
        return switch (kind) {
            case PATCH, PATCH_N, SHELL -> numbers.stream().anyMatch(n -> n.value() == number);
            case AUTOSETUP -> !noPatches;
            case AUTOPATCH -> numbers.isEmpty()
                    ? number >= min.orElse(0) && number <= max.orElse(Integer.MAX_VALUE)
                    : numbers.stream().anyMatch(n -> n.value() == number);
        };
    }

    /** Whether the patch is applied by number on this line (so dropping it must edit the line). */
    boolean namesExplicitly(int number) {
        return kind != Kind.AUTOSETUP && !(kind == Kind.AUTOPATCH && numbers.isEmpty()) && applies(number);
    }

    private record Token(String text, int start, int end, int from) {
    }

    private record Options(List<Number> positional, java.util.Map<Character, List<Number>> values, Set<Character> flags,
            java.util.Map<Character, String> raw) {
        List<Number> numbersFor(char option) {
            return values.getOrDefault(option, List.of());
        }

        OptionalInt value(char option) {
            String v = raw.get(option);
            return v != null && v.matches("\\d+") ? OptionalInt.of(Integer.parseInt(v)) : OptionalInt.empty();
        }
    }

    private static List<Token> tokens(String line, int from) {
        List<Token> out = new ArrayList<>();
        Matcher t = TOKEN.matcher(line);
        t.region(from, line.length());
        while (t.find()) {
            out.add(new Token(t.group(), t.start(), t.end(), from));
        }
        return out;
    }

    private static Options options(List<Token> tokens, Set<Character> valueOptions) {
        int from = tokens.isEmpty() ? 0 : tokens.get(0).from();
        List<Number> positional = new ArrayList<>();
        java.util.Map<Character, List<Number>> values = new java.util.HashMap<>();
        java.util.Map<Character, String> raw = new java.util.HashMap<>();
        Set<Character> flags = new java.util.HashSet<>();
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            // the blank before a token goes with it when the token is cut
            int cutStart = i == 0 ? from : tokens.get(i - 1).end();
            if (t.text().length() >= 2 && t.text().charAt(0) == '-' && t.text().charAt(1) != '-') {
                char option = t.text().charAt(1);
                if (valueOptions.contains(option)) {
                    String value;
                    int end;
                    if (t.text().length() > 2) {
                        value = t.text().substring(2);
                        end = t.end();
                    } else if (i + 1 < tokens.size()) {
                        value = tokens.get(++i).text();
                        end = tokens.get(i).end();
                    } else {
                        continue;
                    }
                    raw.put(option, value);
                    if (value.matches("\\d+")) {
                        values.computeIfAbsent(option, k -> new ArrayList<>())
                                .add(new Number(Integer.parseInt(value), cutStart, end));
                    }
                } else {
                    for (char c : t.text().substring(1).toCharArray()) {
                        flags.add(c);
                    }
                }
            } else if (t.text().matches("\\d+")) {
                positional.add(new Number(Integer.parseInt(t.text()), cutStart, t.end()));
            }
        }
        return new Options(positional, values, flags, raw);
    }
}
