package dev.kiln.specfile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The text a {@code Version:} value is built from: literal text in the tag line and the bodies
 * of the spec's own {@code %global}/{@code %define} macros it names (followed through chains and
 * {@code %{?name:...}}). A new version is written back by splitting it over those pieces.
 *
 * <p>The split must be the only one possible, or the edit is refused. First each piece keeps its
 * shape (the same count of alphanumeric runs and the same separators), so
 * {@code %{baseversion}.%{patchlevel}} = 5.3.15 takes 5.3.16 as baseversion 5.3 and patchlevel 16,
 * and {@code %{major_version}.1} = 5.5.1 takes 5.5.2 by editing the literal {@code .1} in the tag.
 * When no split keeps every shape, the literal text in the tag line must stay and the macros take
 * what is left, so {@code 0.%{api}} takes 0.165.1 as api 165.1. Anything else (a shell command,
 * a macro defined twice or in {@code %if}, two equally good splits) is left to a person.
 */
final class VersionTemplate {

    /** Text at {@code index:start..end}; {@code macro} is the definition it sits in, null for the tag line. */
    private record Piece(int index, int start, int end, String text, String macro) {
    }

    private static final int MAX_DEPTH = 8;

    private final SpecDocument spec;

    VersionTemplate(SpecDocument spec) {
        this.spec = spec;
    }

    List<SpecDocument.Edit> edits(int index, int start, int end, String newVersion) {
        int line = index + 1;
        List<Piece> pieces = new ArrayList<>();
        flatten(line, index, start, spec.lineText(index).substring(start, end), null, pieces, 0);
        if (pieces.isEmpty()) {
            throw spec.refuse(line, "Version: expands to nothing; set it by hand");
        }
        List<String[]> solutions = new ArrayList<>();
        if (pieces.size() == 1) {
            solutions.add(new String[] {newVersion});
        } else {
            search(pieces, newVersion, 0, 0, new String[pieces.size()], true, solutions);
            if (solutions.isEmpty()) {
                search(pieces, newVersion, 0, 0, new String[pieces.size()], false, solutions);
            }
        }
        String template = spec.lineText(index).substring(start, end);
        if (solutions.size() != 1) {
            throw spec.refuse(line, "Version: " + template + " cannot be split "
                    + (solutions.isEmpty() ? "to give " : "in one way only into ") + newVersion
                    + " over its macros; change this line and the macros it uses by hand");
        }
        String[] solution = solutions.get(0);
        Map<String, SpecDocument.Edit> edits = new HashMap<>();
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            if (!p.text().equals(solution[i])) {
                edits.putIfAbsent(p.index() + ":" + p.start(), SpecDocument.Edit.replace(p.index(), p.start(), p.end(), solution[i]));
            }
        }
        return List.copyOf(edits.values());
    }

    private void search(List<Piece> pieces, String target, int k, int pos, String[] chosen, boolean keepShape,
            List<String[]> solutions) {
        if (solutions.size() > 1) {
            return;
        }
        if (k == pieces.size()) {
            if (pos == target.length()) {
                solutions.add(chosen.clone());
            }
            return;
        }
        Piece p = pieces.get(k);
        for (int e = pos + 1; e <= target.length(); e++) {
            String candidate = target.substring(pos, e);
            boolean fits = keepShape ? shape(candidate).equals(shape(p.text()))
                    : p.macro() != null || candidate.equals(p.text());
            if (fits && consistent(pieces, chosen, k, candidate)) {
                chosen[k] = candidate;
                search(pieces, target, k + 1, e, chosen, keepShape, solutions);
            }
        }
    }

    /** A macro named twice in the template must take the same text both times. */
    private static boolean consistent(List<Piece> pieces, String[] chosen, int k, String candidate) {
        Piece p = pieces.get(k);
        for (int i = 0; i < k; i++) {
            Piece q = pieces.get(i);
            if (q.index() == p.index() && q.start() == p.start() && !chosen[i].equals(candidate)) {
                return false;
            }
        }
        return true;
    }

    private static String shape(String s) {
        return s.replaceAll("[A-Za-z0-9]+", "a");
    }

    private void flatten(int line, int index, int offset, String text, String macro, List<Piece> out, int depth) {
        if (depth > MAX_DEPTH) {
            throw spec.refuse(line, "Version: nests macros too deep to edit; change this line by hand");
        }
        int literalStart = 0;
        int i = 0;
        while (i < text.length()) {
            if (text.charAt(i) != '%') {
                i++;
                continue;
            }
            addLiteral(out, index, offset, text, literalStart, i, macro);
            int close;
            String name;
            String body = null;
            boolean optional = false;
            int bodyOffset = 0;
            if (i + 1 < text.length() && text.charAt(i + 1) == '{') {
                close = matchingBrace(text, i + 1);
                if (close < 0) {
                    throw spec.refuse(line, "Version: has an unclosed %{; change this line by hand");
                }
                String inner = text.substring(i + 2, close);
                if (inner.startsWith("?")) {
                    optional = true;
                    inner = inner.substring(1);
                    int colon = inner.indexOf(':');
                    if (colon >= 0) {
                        body = inner.substring(colon + 1);
                        bodyOffset = i + 3 + colon + 1;
                        inner = inner.substring(0, colon);
                    }
                }
                name = inner;
                close++;
            } else {
                int j = i + 1;
                while (j < text.length() && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_')) {
                    j++;
                }
                name = text.substring(i + 1, j);
                close = j;
            }
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw spec.refuse(line, "Version: uses " + text.substring(i, Math.min(close, text.length()))
                        + ", which a tool cannot rewrite; change this line by hand");
            }
            List<SpecDocument.MacroDefinition> defs = spec.definitions().stream()
                    .filter(d -> d.name().equals(name)).toList();
            if (optional && defs.isEmpty()) {
                // %{?undefined} expands to nothing
            } else if (spec.literalDefinition(name).isEmpty()) {
                throw spec.refuse(line, "Version: takes %" + name + " from "
                        + (defs.isEmpty() ? "outside this spec" : "a definition that is repeated, conditional or"
                                + " multi-line (line " + defs.get(0).line() + ")")
                        + "; change this line by hand");
            } else if (body != null) {
                flatten(line, index, offset + bodyOffset, body, macro, out, depth + 1);
            } else {
                int[] at = spec.literalDefinition(name).get();
                String defBody = spec.lineText(at[0]).substring(at[1], at[2]);
                if (defBody.contains("%(") || defBody.contains("%[")) {
                    throw spec.refuse(line, "Version: takes %" + name + " from line " + (at[0] + 1)
                            + ", which computes it with a shell command or expression; change line " + (at[0] + 1) + " by hand");
                }
                flatten(line, at[0], at[1], defBody, name, out, depth + 1);
            }
            i = close;
            literalStart = close;
        }
        addLiteral(out, index, offset, text, literalStart, text.length(), macro);
    }

    private static void addLiteral(List<Piece> out, int index, int offset, String text, int from, int to, String macro) {
        if (to > from) {
            out.add(new Piece(index, offset + from, offset + to, text.substring(from, to), macro));
        }
    }

    private static int matchingBrace(String text, int open) {
        int depth = 0;
        for (int i = open; i < text.length(); i++) {
            if (text.charAt(i) == '{') {
                depth++;
            } else if (text.charAt(i) == '}' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }
}
