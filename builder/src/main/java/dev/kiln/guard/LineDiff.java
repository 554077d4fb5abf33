package dev.kiln.guard;

import java.util.ArrayList;
import java.util.List;

/** A line diff of two short texts (scriptlets) by longest common subsequence: only changed lines, "- " and "+ " prefixed. */
final class LineDiff {

    /** Beyond this many line pairs the table costs more than the diff is worth: show both texts whole. */
    private static final long MAX_CELLS = 4_000_000;

    private LineDiff() {
    }

    static List<String> of(String before, String after) {
        List<String> a = before.isEmpty() ? List.of() : before.lines().toList();
        List<String> b = after.isEmpty() ? List.of() : after.lines().toList();
        List<String> diff = new ArrayList<>();
        if ((long) a.size() * b.size() > MAX_CELLS) {
            a.forEach(line -> diff.add("- " + line));
            b.forEach(line -> diff.add("+ " + line));
            return diff;
        }
        int[][] common = new int[a.size() + 1][b.size() + 1];
        for (int i = a.size() - 1; i >= 0; i--) {
            for (int j = b.size() - 1; j >= 0; j--) {
                common[i][j] = a.get(i).equals(b.get(j)) ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                i++;
                j++;
            } else if (j >= b.size() || (i < a.size() && common[i + 1][j] >= common[i][j + 1])) {
                diff.add("- " + a.get(i++));
            } else {
                diff.add("+ " + b.get(j++));
            }
        }
        return diff;
    }
}
